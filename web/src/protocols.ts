// The protocol choices of the page: each builds a connect-web transport for
// the API base URL, with a fetch that records what went over the wire.
import type { Transport } from "@connectrpc/connect";
import { createConnectTransport, createGrpcWebTransport } from "@connectrpc/connect-web";

export type ProtocolId =
  | "connect-json"
  | "connect-binary"
  | "connect-get"
  | "grpcweb-binary"
  | "grpcweb-json";

export interface Protocol {
  label: string;
  transport(baseUrl: string, fetch: typeof globalThis.fetch): Transport;
}

export const protocols: Record<ProtocolId, Protocol> = {
  "connect-json": {
    label: "Connect, JSON",
    transport: (baseUrl, fetch) => createConnectTransport({ baseUrl, fetch, useBinaryFormat: false }),
  },
  "connect-binary": {
    label: "Connect, binary",
    transport: (baseUrl, fetch) => createConnectTransport({ baseUrl, fetch, useBinaryFormat: true }),
  },
  "connect-get": {
    label: "Connect GET, JSON",
    transport: (baseUrl, fetch) =>
      createConnectTransport({ baseUrl, fetch, useBinaryFormat: false, useHttpGet: true }),
  },
  "grpcweb-binary": {
    label: "gRPC-Web, binary",
    transport: (baseUrl, fetch) => createGrpcWebTransport({ baseUrl, fetch, useBinaryFormat: true }),
  },
  "grpcweb-json": {
    label: "gRPC-Web, JSON",
    transport: (baseUrl, fetch) => createGrpcWebTransport({ baseUrl, fetch, useBinaryFormat: false }),
  },
};

export function isProtocolId(value: string): value is ProtocolId {
  return Object.prototype.hasOwnProperty.call(protocols, value);
}

// Wire is what one call sent and received, as the browser saw it.
export interface Wire {
  method: string;
  requestContentType: string;
  responseContentType: string;
  networkError: boolean;
}

// recordingFetch returns a fetch that fills wire with what it sees.
export function recordingFetch(wire: Wire): typeof globalThis.fetch {
  return async (input, init) => {
    wire.method = init?.method ?? "GET";
    wire.requestContentType = new Headers(init?.headers).get("content-type") ?? "";
    let response: Response;
    try {
      response = await globalThis.fetch(input, init);
    } catch (err) {
      // An aborted fetch is a timeout or a cancellation, not the network.
      wire.networkError = !init?.signal?.aborted;
      throw err;
    }
    wire.responseContentType = response.headers.get("content-type") ?? "";
    return response;
  };
}
