// An interop client: @grpc/grpc-js with @grpc/proto-loader, driven by
// cmd/hello-interop. Usage:
//   node grpc-js.mjs HOST:PORT PROTO_FILE RPC NAME...
// RPC: unary | server-stream | client-stream | bidi. Prints one reply per
// line, or the error on stderr with exit code 1.
import { createRequire } from "node:module";
import path from "node:path";

const require = createRequire(import.meta.url);
const grpc = require("@grpc/grpc-js");
const protoLoader = require("@grpc/proto-loader");

const [target, protoFile, rpc, ...names] = process.argv.slice(2);
// The proto's directory, and the root of proto/ for the schemas it imports.
const includeDirs = [path.dirname(protoFile), path.dirname(path.dirname(protoFile))];
const definition = protoLoader.loadSync(path.basename(protoFile), { includeDirs });
const { rpc_package } = grpc.loadPackageDefinition(definition);
const client = new rpc_package.HelloWorldService(target, grpc.credentials.createInsecure());
const deadline = () => new Date(Date.now() + 10000);

function fail(err) {
  console.error(`grpc-js error: code ${err.code}: ${err.details ?? err.message}`);
  process.exit(1);
}

switch (rpc) {
  case "unary":
    client.sayHello({ name: names[0] }, { deadline: deadline() }, (err, res) => {
      if (err) fail(err);
      console.log(res.message);
      client.close();
    });
    break;
  case "server-stream": {
    const call = client.lotsOfReplies({ name: names[0] }, { deadline: deadline() });
    call.on("data", (res) => console.log(res.message));
    call.on("error", fail);
    call.on("end", () => client.close());
    break;
  }
  case "client-stream": {
    const call = client.lotsOfGreetings({ deadline: deadline() }, (err, res) => {
      if (err) fail(err);
      console.log(res.message);
      client.close();
    });
    for (const name of names) call.write({ name });
    call.end();
    break;
  }
  case "bidi": {
    const call = client.bidiHello({ deadline: deadline() });
    call.on("data", (res) => console.log(res.message));
    call.on("error", fail);
    call.on("end", () => client.close());
    for (const name of names) call.write({ name });
    call.end();
    break;
  }
  default:
    console.error(`unknown rpc ${rpc}`);
    process.exit(2);
}
