// How a failed call reads to a person.
import { Code, ConnectError } from "@connectrpc/connect";

// codeName turns Code.InvalidArgument into "invalid_argument", the name that
// gRPC and Connect use on the wire.
export function codeName(code: Code): string {
  return Code[code].replace(/[A-Z]/g, (c, i: number) => (i > 0 ? "_" : "") + c.toLowerCase());
}

// Failure is what the page knows of a failed call besides the error.
export interface Failure {
  baseUrl: string;
  timeoutMs: number;
  networkError: boolean; // no response at all
  bodyError: boolean; // the response broke off
  received: number; // replies shown before it failed (streams)
}

// sameOrigin reports whether baseUrl is this page's own origin: then CORS
// cannot be why a call failed.
function sameOrigin(baseUrl: string): boolean {
  try {
    return new URL(baseUrl).origin === location.origin;
  } catch {
    return false;
  }
}

// describe explains err for the page: what failed and, where it helps, why.
export function describe(err: unknown, f: Failure): string {
  const e = ConnectError.from(err);
  if (f.networkError && sameOrigin(f.baseUrl)) {
    return `Network failure: no answer from ${f.baseUrl}. Is the server running?`;
  }
  if (f.networkError) {
    return (
      `Network or CORS failure: the browser could not call ${f.baseUrl}. ` +
      `Is the server running, and does it allow the origin ${location.origin} (hello-server -cors-origins)?`
    );
  }
  if (f.bodyError) {
    const after = f.received === 1 ? "1 reply" : `${f.received} replies`;
    return (
      `Connection lost: the answer from ${f.baseUrl} broke off after ${after}, before the call ended ` +
      `(the server stopped, or the connection was cut).`
    );
  }
  switch (e.code) {
    case Code.InvalidArgument:
      return `Invalid argument: ${e.rawMessage}`;
    case Code.DeadlineExceeded:
      return `Timed out: no reply within ${f.timeoutMs} ms.`;
    case Code.Canceled:
      return "Cancelled.";
    default:
      return `${codeName(e.code)}: ${e.rawMessage}`;
  }
}
