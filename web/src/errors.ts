// How a failed call reads to a person.
import { Code, ConnectError } from "@connectrpc/connect";

// codeName turns Code.InvalidArgument into "invalid_argument", the name that
// gRPC and Connect use on the wire.
export function codeName(code: Code): string {
  return Code[code].replace(/[A-Z]/g, (c, i: number) => (i > 0 ? "_" : "") + c.toLowerCase());
}

// describe explains err for the page: what failed and, where it helps, why.
export function describe(err: unknown, opts: { networkError: boolean; baseUrl: string; timeoutMs: number }): string {
  const e = ConnectError.from(err);
  if (opts.networkError) {
    return (
      `Network or CORS failure: the browser could not call ${opts.baseUrl}. ` +
      `Is the server running, and does it allow the origin ${location.origin} (hello-server -cors-origins)?`
    );
  }
  switch (e.code) {
    case Code.InvalidArgument:
      return `Invalid argument: ${e.rawMessage}`;
    case Code.DeadlineExceeded:
      return `Timed out: no reply within ${opts.timeoutMs} ms.`;
    case Code.Canceled:
      return "Cancelled.";
    default:
      return `${codeName(e.code)}: ${e.rawMessage}`;
  }
}
