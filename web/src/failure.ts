// How a failed call reads to a person, from the error's code as the wire
// names it ("invalid_argument") and its message. errors.ts reads them off
// a ConnectError; the first call (boot.ts) off the Connect JSON error body,
// without loading connect.

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

// explain says what failed and, where it helps, why: code is the error's
// code as gRPC and Connect name it on the wire, message its message.
export function explain(code: string, message: string, f: Failure): string {
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
  switch (code) {
    case "invalid_argument":
      return `Invalid argument: ${message}`;
    case "deadline_exceeded":
      return `Timed out: no reply within ${f.timeoutMs} ms.`;
    case "canceled":
      return "Cancelled.";
    default:
      return `${code}: ${message}`;
  }
}
