// What one call sent and received, as the page's fetch saw it: the record
// behind the wire view (wireview.ts) and "copy as curl" (curl.ts).

// Sent is a request as it went: method, URL, the headers the page set (the
// browser adds its own, such as User-Agent and Accept-Encoding, which a page
// cannot see) and the body's bytes.
export interface Sent {
  method: string;
  url: string;
  headers: [string, string][];
  body: Uint8Array | null;
}

// Received is a response as the browser handed it over: status, the headers
// it lets the page read (cross-origin, only the CORS-safelisted and exposed
// ones) and the body's bytes, decoded from any Content-Encoding.
export interface Received {
  status: number;
  statusText: string;
  headers: [string, string][];
  body: Uint8Array;
  complete: boolean; // false when the body broke off or the call was cut short
}

// Exchange is the record of one call.
export class Exchange {
  request: Sent | null = null;
  response: Received | null = null;
  traceId = ""; // the W3C trace id the call was sent with
  networkError = false; // fetch failed with no response at all
  bodyError = false; // the response started, then its body broke off
  // recorded settles once the response body is fully read or has failed.
  recorded: Promise<void> = Promise.resolve();

  header(name: string): string {
    const found = this.response?.headers.find(([k]) => k === name.toLowerCase());
    return found ? found[1] : "";
  }
}

// recorded waits, briefly (at most 1 s), until ex holds the whole answer.
export async function recorded(ex: Exchange): Promise<void> {
  await Promise.race([ex.recorded, new Promise((resolve) => setTimeout(resolve, 1000))]);
}

// randomHex returns bytes random bytes as lower-case hex.
function randomHex(bytes: number): string {
  const b = crypto.getRandomValues(new Uint8Array(bytes));
  return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
}

// bodyBytes returns the bytes of a fetch body as the page hands them over
// (connect-web sends a Uint8Array, text mode a string), or null for none.
function bodyBytes(body: BodyInit | null | undefined): Uint8Array | null {
  if (body === undefined || body === null) return null;
  if (typeof body === "string") return new TextEncoder().encode(body);
  if (body instanceof Uint8Array) return new Uint8Array(body);
  if (body instanceof ArrayBuffer) return new Uint8Array(body.slice(0));
  return null; // a stream or a form: never sent by this page
}

// concat joins chunks into one array.
function concat(chunks: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

// Statuses whose responses have no body (a Response with one would throw).
const nullBodyStatus = new Set([101, 103, 204, 205, 304]);

// recordingFetch returns a fetch that records into ex what it sends and
// receives, and starts a trace: each request carries a W3C traceparent
// (sampled), so the server's span of the call shares its trace id. The
// response body is read twice (a tee): once by the caller, once here.
export function recordingFetch(ex: Exchange): typeof globalThis.fetch {
  return async (input, init) => {
    const headers = new Headers(init?.headers);
    ex.traceId = randomHex(16);
    headers.set("traceparent", `00-${ex.traceId}-${randomHex(8)}-01`);
    init = { ...init, headers };
    const url = typeof input === "string" ? input : input instanceof URL ? input.href : input.url;
    ex.request = { method: init.method ?? "GET", url, headers: [...headers], body: bodyBytes(init.body) };
    let response: Response;
    try {
      response = await globalThis.fetch(input, init);
    } catch (err) {
      // An aborted fetch is a timeout or a cancellation, not the network.
      ex.networkError = !init.signal?.aborted;
      throw err;
    }
    const received: Received = {
      status: response.status,
      statusText: response.statusText,
      headers: [...response.headers],
      body: new Uint8Array(0),
      complete: response.body === null,
    };
    ex.response = received;
    if (response.body === null || nullBodyStatus.has(response.status)) return response;
    const [mine, theirs] = response.body.tee();
    ex.recorded = record(mine, received, () => {
      ex.bodyError = !init?.signal?.aborted;
    });
    return new Response(theirs, { status: response.status, statusText: response.statusText, headers: response.headers });
  };
}

// record reads body into received; broke is called when it fails.
async function record(body: ReadableStream<Uint8Array>, received: Received, broke: () => void): Promise<void> {
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
    }
    received.complete = true;
  } catch {
    broke();
  } finally {
    received.body = concat(chunks);
  }
}

// Envelope is one frame of an enveloped body (gRPC-Web, Connect streams):
// a flags byte, a 4-byte big-endian length, the data.
export interface Envelope {
  flags: number;
  data: Uint8Array;
}

// envelopes splits body into its frames; a truncated last frame is dropped.
export function envelopes(body: Uint8Array): Envelope[] {
  const out: Envelope[] = [];
  let at = 0;
  while (at + 5 <= body.length) {
    const length = new DataView(body.buffer, body.byteOffset + at + 1, 4).getUint32(0);
    if (at + 5 + length > body.length) break;
    out.push({ flags: body[at], data: body.subarray(at + 5, at + 5 + length) });
    at += 5 + length;
  }
  return out;
}
