// An interop client page: Google's grpc-web runtime (npm grpc-web) in a
// browser, with hand-written message (de)serializers on top of
// @bufbuild/protobuf, since protoc-gen-grpc-web cannot be installed here.
// cmd/hello-interop and the Chromium tests bundle it with esbuild and drive it
// through window.hello:
//   window.hello.call(rpc, name, format) starts a call ("unary" | "server-stream";
//   format "binary" = application/grpc-web+proto, "text" = application/grpc-web-text)
//   and window.hello.calls[id] collects {events: [{kind, text, at}], done}.
import { GrpcWebClientBase, MethodDescriptor, MethodType, type RpcError } from "grpc-web";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { HelloReplySchema, HelloRequestSchema } from "../src/gen/rpc_package/helloworld_pb";

// Request and Reply are the message classes grpc-web expects, written by hand.
class Request {
  constructor(readonly name: string) {}
  serializeBinary(): Uint8Array {
    return toBinary(HelloRequestSchema, create(HelloRequestSchema, { name: this.name }));
  }
}

class Reply {
  constructor(readonly message: string) {}
  static deserializeBinary(bytes: Uint8Array): Reply {
    return new Reply(fromBinary(HelloReplySchema, bytes).message);
  }
}

const service = "/rpc_package.HelloWorldService/";
const methods = {
  unary: new MethodDescriptor(service + "SayHello", MethodType.UNARY, Request as never, Reply as never,
    (r: Request) => r.serializeBinary(), Reply.deserializeBinary),
  "server-stream": new MethodDescriptor(service + "LotsOfReplies", MethodType.SERVER_STREAMING, Request as never,
    Reply as never, (r: Request) => r.serializeBinary(), Reply.deserializeBinary),
};

interface Event {
  kind: "data" | "error" | "end";
  text: string;
  at: number;
}
interface Call {
  events: Event[];
  done: boolean;
}

const api = new URLSearchParams(location.search).get("api") ?? location.origin;
const calls: Call[] = [];

function call(rpc: keyof typeof methods, name: string, format: "binary" | "text"): number {
  const client = new GrpcWebClientBase({ format: format === "text" ? "text" : "binary" });
  const record: Call = { events: [], done: false };
  const push = (kind: Event["kind"], text: string) => {
    record.events.push({ kind, text, at: performance.now() });
    if (kind !== "data") record.done = true;
  };
  const deadline = { deadline: String(Date.now() + 10000) };
  const method = methods[rpc];
  if (rpc === "unary") {
    client.rpcCall(api + method.getName(), new Request(name), deadline, method, (err: RpcError, res: Reply) => {
      if (err) push("error", `code ${err.code}: ${err.message}`);
      else {
        push("data", res.message);
        push("end", "");
      }
    });
  } else {
    const stream = client.serverStreaming(api + method.getName(), new Request(name), deadline, method);
    stream.on("data", (res: Reply) => push("data", res.message));
    stream.on("error", (err: RpcError) => push("error", `code ${err.code}: ${err.message}`));
    stream.on("end", () => {
      if (!record.done) push("end", "");
    });
  }
  calls.push(record);
  return calls.length - 1;
}

(window as unknown as { hello: unknown }).hello = { call, calls };
document.body.dataset.ready = "true";
