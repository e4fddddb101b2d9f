// The protocol choices of the page (choices.ts), every one the server
// speaks: Connect (JSON, binary, GET), gRPC-Web (binary, JSON, text) and
// REST. Each makes a Caller for the API base URL over a fetch that records
// what went over the wire.
import { createConnectTransport, createGrpcWebTransport } from "@connectrpc/connect-web";
import { rpcCaller, type Caller } from "./caller";
import { choices, type Choice, type ProtocolId } from "./choices";
import { textMode } from "./grpcwebtext";
import { restCaller, type StreamFormat } from "./rest";

export { isProtocolId, type ProtocolId } from "./choices";

export interface Protocol extends Choice {
  caller(baseUrl: string, fetch: typeof globalThis.fetch, restStream: StreamFormat): Caller;
}

export const protocols: Record<ProtocolId, Protocol> = {
  "connect-json": {
    ...choices["connect-json"],
    caller: (baseUrl, fetch) => rpcCaller(createConnectTransport({ baseUrl, fetch, useBinaryFormat: false })),
  },
  "connect-binary": {
    ...choices["connect-binary"],
    caller: (baseUrl, fetch) => rpcCaller(createConnectTransport({ baseUrl, fetch, useBinaryFormat: true })),
  },
  "connect-get": {
    ...choices["connect-get"],
    caller: (baseUrl, fetch) =>
      rpcCaller(createConnectTransport({ baseUrl, fetch, useBinaryFormat: false, useHttpGet: true })),
  },
  "grpcweb-binary": {
    ...choices["grpcweb-binary"],
    caller: (baseUrl, fetch) => rpcCaller(createGrpcWebTransport({ baseUrl, fetch, useBinaryFormat: true })),
  },
  "grpcweb-json": {
    ...choices["grpcweb-json"],
    caller: (baseUrl, fetch) => rpcCaller(createGrpcWebTransport({ baseUrl, fetch, useBinaryFormat: false })),
  },
  "grpcweb-text": {
    ...choices["grpcweb-text"],
    caller: (baseUrl, fetch) =>
      rpcCaller(createGrpcWebTransport({ baseUrl, fetch: textMode(fetch), useBinaryFormat: true })),
  },
  rest: {
    ...choices.rest,
    caller: (baseUrl, fetch, restStream) => restCaller(baseUrl, fetch, restStream),
  },
};
