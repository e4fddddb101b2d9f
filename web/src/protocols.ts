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
  traceId: string; // the W3C trace id the call was sent with
}

// randomHex returns bytes random bytes as lower-case hex.
function randomHex(bytes: number): string {
  const b = crypto.getRandomValues(new Uint8Array(bytes));
  return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
}

// recordingFetch returns a fetch that fills wire with what it sees, and
// starts a trace: each request carries a W3C traceparent (sampled), so the
// server's span of the call shares its trace id.
export function recordingFetch(wire: Wire): typeof globalThis.fetch {
  return async (input, init) => {
    wire.method = init?.method ?? "GET";
    const headers = new Headers(init?.headers);
    wire.requestContentType = headers.get("content-type") ?? "";
    wire.traceId = randomHex(16);
    headers.set("traceparent", `00-${wire.traceId}-${randomHex(8)}-01`);
    init = { ...init, headers };
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
