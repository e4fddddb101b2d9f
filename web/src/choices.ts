// The protocol choices of the page's form, by the value of their <option>,
// and how the page names each: the first call (boot.ts) needs the names
// only, protocols.ts adds how each one calls.

// Choice is how the page names a protocol choice.
export interface Choice {
  label: string;
  // streamLabel names what LotsOfReplies goes over, when not label.
  streamLabel?: string;
  // rpc is true for the gRPC-shaped protocols (a grpcurl command
  // reproduces their calls), false for REST.
  rpc: boolean;
}

export const choices = {
  "connect-json": { label: "Connect, JSON", rpc: true },
  "connect-binary": { label: "Connect, binary", rpc: true },
  "connect-get": { label: "Connect GET, JSON", streamLabel: "Connect, JSON (streams POST)", rpc: true },
  "grpcweb-binary": { label: "gRPC-Web, binary", rpc: true },
  "grpcweb-json": { label: "gRPC-Web, JSON", rpc: true },
  "grpcweb-text": { label: "gRPC-Web, text", rpc: true },
  rest: { label: "REST, JSON", rpc: false },
} satisfies Record<string, Choice>;

export type ProtocolId = keyof typeof choices;

export function isProtocolId(value: string): value is ProtocolId {
  return Object.prototype.hasOwnProperty.call(choices, value);
}
