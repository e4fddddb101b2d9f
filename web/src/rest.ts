// The REST form of HelloWorldService, as the proto's google.api.http options
// map it (docs/rest.md): GET /v1/hello/{name} answers SayHello in JSON, and
// GET /v1/hello/{name}/replies streams LotsOfReplies as newline-delimited
// JSON or as server-sent events. Errors are an HTTP status and a
// google.rpc.Status, turned here into the ConnectError that the other
// protocols throw, so the page explains them all alike.
import { Code, ConnectError } from "@connectrpc/connect";
import type { CallOptions, Caller } from "./caller";

// StreamFormat is how the replies stream: "ndjson" (application/x-ndjson,
// the default) or "sse" (text/event-stream).
export type StreamFormat = "ndjson" | "sse";

const accept: Record<StreamFormat, string> = { ndjson: "application/x-ndjson", sse: "text/event-stream" };

// restCaller calls baseUrl's REST paths with fetch.
export function restCaller(baseUrl: string, fetch: typeof globalThis.fetch, format: StreamFormat): Caller {
  const path = (name: string) => `${baseUrl}/v1/hello/${encodeURIComponent(name)}`;
  return {
    async sayHello(name, options) {
      const deadline = startDeadline(options);
      try {
        const res = await fetch(path(name), { headers: { accept: "application/json" }, signal: deadline.signal });
        const body = await res.text();
        if (!res.ok) throw statusError(res.status, body);
        return parseReply(body);
      } catch (err) {
        throw deadline.explain(err);
      } finally {
        deadline.stop();
      }
    },
    async *lotsOfReplies(name, options) {
      const deadline = startDeadline(options);
      try {
        const res = await fetch(`${path(name)}/replies`, { headers: { accept: accept[format] }, signal: deadline.signal });
        if (!res.ok) throw statusError(res.status, await res.text());
        if (res.body === null) return;
        const items = format === "sse" ? events(res.body) : lines(res.body);
        for await (const { kind, data } of items) {
          if (kind === "error") throw statusError(0, data);
          yield parseReply(data);
        }
      } catch (err) {
        throw deadline.explain(err);
      } finally {
        deadline.stop();
      }
    },
  };
}

// startDeadline starts the call's timeout: signal aborts when it passes,
// and explain turns the failure that abort causes into deadline_exceeded,
// as the RPC transports do.
function startDeadline(options: CallOptions) {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), options.timeoutMs);
  return {
    signal: controller.signal,
    explain: (err: unknown) =>
      controller.signal.aborted ? new ConnectError(`no reply within ${options.timeoutMs} ms`, Code.DeadlineExceeded) : err,
    stop: () => clearTimeout(timer),
  };
}

// parseReply reads a HelloReply in JSON (an empty message may be "{}").
function parseReply(json: string): string {
  const reply = JSON.parse(json) as { message?: string };
  return reply.message ?? "";
}

// statusError reads a google.rpc.Status in JSON; httpStatus (0: none) is
// the fallback when the body is something else.
function statusError(httpStatus: number, json: string): ConnectError {
  try {
    const st = JSON.parse(json) as { code?: number; message?: string };
    if (typeof st.code === "number" && st.code in Code) {
      return new ConnectError(st.message ?? "", st.code as Code);
    }
  } catch {
    // not JSON: fall through
  }
  return new ConnectError(`HTTP ${httpStatus}: ${json.slice(0, 200)}`, Code.Unknown);
}

// Item is one item of a stream: a reply's JSON, or an error's
// google.rpc.Status.
interface Item {
  kind: "data" | "error";
  data: string;
}

// lines reads newline-delimited JSON: one HelloReply a line, or a last
// {"error": Status}.
async function* lines(body: ReadableStream<Uint8Array>): AsyncGenerator<Item> {
  for await (const line of split(body, /\r?\n/)) {
    if (line.trim() === "") continue;
    const item = JSON.parse(line) as { error?: unknown };
    yield item.error !== undefined ? { kind: "error", data: JSON.stringify(item.error) } : { kind: "data", data: line };
  }
}

// events reads server-sent events: "data:" events carry replies, an
// "error" event carries the Status.
async function* events(body: ReadableStream<Uint8Array>): AsyncGenerator<Item> {
  for await (const block of split(body, /\r?\n\r?\n/)) {
    let kind = "message";
    const data: string[] = [];
    for (const line of block.split(/\r?\n/)) {
      const [field, ...rest] = line.split(":");
      const value = rest.join(":").replace(/^ /, "");
      if (field === "event") kind = value;
      if (field === "data") data.push(value);
    }
    if (data.length > 0) yield { kind: kind === "error" ? "error" : "data", data: data.join("\n") };
  }
}

// split yields the text of body between separators, as each part completes,
// and the rest at the end.
async function* split(body: ReadableStream<Uint8Array>, separator: RegExp): AsyncGenerator<string> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffered = "";
  for (;;) {
    const { done, value } = await reader.read();
    buffered += done ? decoder.decode() : decoder.decode(value, { stream: true });
    const parts = buffered.split(separator);
    buffered = done ? "" : (parts.pop() ?? "");
    yield* parts;
    if (done) return;
  }
}
