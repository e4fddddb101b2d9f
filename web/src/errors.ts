// How a failed call of connect's clients reads to a person (failure.ts).
import { Code, ConnectError } from "@connectrpc/connect";
import { explain, type Failure } from "./failure";

export type { Failure } from "./failure";

// codeName turns Code.InvalidArgument into "invalid_argument", the name that
// gRPC and Connect use on the wire.
export function codeName(code: Code): string {
  return Code[code].replace(/[A-Z]/g, (c, i: number) => (i > 0 ? "_" : "") + c.toLowerCase());
}

// describe explains err for the page: what failed and, where it helps, why.
export function describe(err: unknown, f: Failure): string {
  const e = ConnectError.from(err);
  return explain(codeName(e.code), e.rawMessage, f);
}
