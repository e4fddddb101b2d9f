// Caller is what the page needs of a protocol: SayHello and LotsOfReplies
// by name. RPC protocols get it from the generated client (rpcCaller), REST
// from rest.ts.
import { createClient, type Transport } from "@connectrpc/connect";
import { HelloWorldService } from "./gen-lean/rpc_package/helloworld_pb";

// CallOptions bound one call: timeoutMs is its deadline.
export interface CallOptions {
  timeoutMs: number;
}

export interface Caller {
  sayHello(name: string, options: CallOptions): Promise<string>;
  lotsOfReplies(name: string, options: CallOptions): AsyncIterable<string>;
}

// rpcCaller calls HelloWorldService over transport with the generated
// client. Its schema (gen-lean) is the proto without the rules' and REST's
// options, which the page's first bundle has no use for.
export function rpcCaller(transport: Transport): Caller {
  const client = createClient(HelloWorldService, transport);
  return {
    async sayHello(name, options) {
      return (await client.sayHello({ name }, options)).message;
    },
    async *lotsOfReplies(name, options) {
      for await (const reply of client.lotsOfReplies({ name }, options)) yield reply.message;
    },
  };
}
