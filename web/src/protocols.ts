// The protocol choices of the page, every one the server speaks: Connect
// (JSON, binary, GET), gRPC-Web (binary, JSON, text) and REST. Each makes a
// Caller for the API base URL over a fetch that records what went over the
// wire.
import { createConnectTransport, createGrpcWebTransport } from "@connectrpc/connect-web";
import { rpcCaller, type Caller } from "./caller";
import { textMode } from "./grpcwebtext";
import { restCaller, type StreamFormat } from "./rest";

export type ProtocolId =
  | "connect-json"
  | "connect-binary"
  | "connect-get"
  | "grpcweb-binary"
  | "grpcweb-json"
  | "grpcweb-text"
  | "rest";

export interface Protocol {
  label: string;
  // streamLabel names what LotsOfReplies goes over, when not label.
  streamLabel?: string;
  // rpc is true for the gRPC-shaped protocols (a grpcurl command
  // reproduces their calls), false for REST.
  rpc: boolean;
  caller(baseUrl: string, fetch: typeof globalThis.fetch, restStream: StreamFormat): Caller;
}

export const protocols: Record<ProtocolId, Protocol> = {
  "connect-json": {
    label: "Connect, JSON",
    rpc: true,
    caller: (baseUrl, fetch) => rpcCaller(createConnectTransport({ baseUrl, fetch, useBinaryFormat: false })),
  },
  "connect-binary": {
    label: "Connect, binary",
    rpc: true,
    caller: (baseUrl, fetch) => rpcCaller(createConnectTransport({ baseUrl, fetch, useBinaryFormat: true })),
  },
  "connect-get": {
    label: "Connect GET, JSON",
    streamLabel: "Connect, JSON (streams POST)",
    rpc: true,
    caller: (baseUrl, fetch) =>
      rpcCaller(createConnectTransport({ baseUrl, fetch, useBinaryFormat: false, useHttpGet: true })),
  },
  "grpcweb-binary": {
    label: "gRPC-Web, binary",
    rpc: true,
    caller: (baseUrl, fetch) => rpcCaller(createGrpcWebTransport({ baseUrl, fetch, useBinaryFormat: true })),
  },
  "grpcweb-json": {
    label: "gRPC-Web, JSON",
    rpc: true,
    caller: (baseUrl, fetch) => rpcCaller(createGrpcWebTransport({ baseUrl, fetch, useBinaryFormat: false })),
  },
  "grpcweb-text": {
    label: "gRPC-Web, text",
    rpc: true,
    caller: (baseUrl, fetch) =>
      rpcCaller(createGrpcWebTransport({ baseUrl, fetch: textMode(fetch), useBinaryFormat: true })),
  },
  rest: {
    label: "REST, JSON",
    rpc: false,
    caller: (baseUrl, fetch, restStream) => restCaller(baseUrl, fetch, restStream),
  },
};

export function isProtocolId(value: string): value is ProtocolId {
  return Object.prototype.hasOwnProperty.call(protocols, value);
}
