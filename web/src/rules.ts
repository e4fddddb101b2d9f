// The rules of the proto's buf.validate annotations, applied in the page
// before a request is sent, with the message the server would answer.
import { create } from "@bufbuild/protobuf";
import { pathToString } from "@bufbuild/protobuf/reflect";
import { createValidator, type Violation } from "@bufbuild/protovalidate";
import { HelloRequestSchema } from "./gen/rpc_package/helloworld_pb.js";

const validator = createValidator();

// A UTF-16 surrogate without its pair: such a string has no UTF-8 form (the
// encoder would send U+FFFD instead), while the server refuses invalid UTF-8
// as it decodes, before any rule.
const loneSurrogate = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

// checkName returns what the server would answer for a HelloRequest with
// this name: null when the name keeps the rules, else the message of the
// invalid_argument error ("invalid name: name must not be empty"), built as
// internal/validation builds it.
export function checkName(name: string): string | null {
  if (loneSurrogate.test(name)) {
    return "invalid name: name must be valid UTF-8";
  }
  const result = validator.validate(HelloRequestSchema, create(HelloRequestSchema, { name }));
  switch (result.kind) {
    case "valid":
      return null;
    case "invalid":
      return describeViolations(result.violations);
    case "error":
      return `the name's rules failed to run: ${result.error.message}`;
  }
}

// describeViolations reads as the server's message: "invalid <field>: " and
// the violations' messages, joined by "; ".
function describeViolations(violations: Violation[]): string {
  const field = violations.length > 0 ? pathToString(violations[0].field) : "";
  return `invalid ${field}: ${violations.map((v) => v.message).join("; ")}`;
}
