// An interop client: connect-es in Node (@connectrpc/connect-node), driven by
// cmd/hello-interop. Usage (after bundling with esbuild):
//   node connect-node.mjs BASE_URL PROTOCOL HTTP_VERSION RPC NAME
// PROTOCOL: connect-json | connect-binary | grpcweb | grpc; HTTP_VERSION: 1.1 | 2;
// RPC: unary | server-stream. Prints one reply per line, or the error on stderr
// with exit code 1.
import { createClient, ConnectError, type Transport } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport, createGrpcWebTransport } from "@connectrpc/connect-node";
import { HelloWorldService } from "../src/gen/rpc_package/helloworld_pb";

const [baseUrl, protocol, httpVersion, rpc, name] = process.argv.slice(2);
if (httpVersion !== "1.1" && httpVersion !== "2") throw new Error(`HTTP version ${httpVersion}: want 1.1 or 2`);

function transport(): Transport {
  switch (protocol) {
    case "connect-json":
      return createConnectTransport({ baseUrl, httpVersion, useBinaryFormat: false });
    case "connect-binary":
      return createConnectTransport({ baseUrl, httpVersion, useBinaryFormat: true });
    case "grpcweb":
      return createGrpcWebTransport({ baseUrl, httpVersion, useBinaryFormat: true });
    case "grpc":
      if (httpVersion !== "2") throw new Error("connect-node speaks gRPC over HTTP/2 only");
      return createGrpcTransport({ baseUrl });
  }
  throw new Error(`unknown protocol ${protocol}`);
}

async function main(): Promise<void> {
  const client = createClient(HelloWorldService, transport());
  if (rpc === "unary") {
    const res = await client.sayHello({ name }, { timeoutMs: 10000 });
    console.log(res.message);
  } else if (rpc === "server-stream") {
    for await (const res of client.lotsOfReplies({ name }, { timeoutMs: 10000 })) console.log(res.message);
  } else {
    throw new Error(`unknown rpc ${rpc}`);
  }
}

main().catch((err: unknown) => {
  const e = ConnectError.from(err);
  console.error(`${e.code === undefined ? "error" : e.name}: [${e.code}] ${e.rawMessage}`);
  process.exit(1);
});
