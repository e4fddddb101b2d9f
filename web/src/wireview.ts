// The wire view: the last call's request and response as they went, and
// the commands that reproduce it (curl.ts).
import { fromBase64, toBase64 } from "./base64";
import { element } from "./dom";
import { curlCommand, grpcurlCommand, isPlainText } from "./curl";
import { envelopes, type Exchange } from "./wire";

// Call says what the recorded call was, for the view and grpcurl.
export interface Call {
  rpc: "SayHello" | "LotsOfReplies";
  name: string;
  baseUrl: string;
  grpcShaped: boolean; // false for REST, which grpcurl cannot reproduce
}

// hexdump shows bytes 16 a line: offset, hex, and the printable ASCII.
export function hexdump(bytes: Uint8Array): string {
  const lines: string[] = [];
  for (let at = 0; at < bytes.length; at += 16) {
    const row = bytes.subarray(at, at + 16);
    const hex = Array.from(row, (b) => b.toString(16).padStart(2, "0"));
    const left = hex.slice(0, 8).join(" ");
    const right = hex.slice(8).join(" ");
    const ascii = Array.from(row, (b) => (b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : ".")).join("");
    lines.push(`${at.toString(16).padStart(8, "0")}  ${left.padEnd(23)}  ${right.padEnd(23)}  |${ascii}|`);
  }
  return lines.join("\n");
}

// showBody writes body into el as text, or as hex when it is binary, and
// keeps its exact bytes in data-base64.
function showBody(el: HTMLElement, body: Uint8Array | null, what: string): void {
  el.dataset.base64 = body ? toBase64(body) : "";
  if (!body || body.length === 0) {
    el.textContent = `${what}: none`;
  } else if (isPlainText(body)) {
    el.textContent = `${what}, ${body.length} bytes, text:\n${new TextDecoder().decode(body)}`;
  } else {
    el.textContent = `${what}, ${body.length} bytes, binary (hex):\n${hexdump(body)}`;
  }
}

function headerLines(headers: [string, string][]): string {
  return headers.length === 0 ? "(no headers)" : headers.map(([k, v]) => `${k}: ${v}`).join("\n");
}

// trailers finds the call's trailers where its protocol puts them: in the
// body's last frame (gRPC-Web: flag 0x80, text mode base64-encoded; Connect
// streams: the end-of-stream frame, flag 0x02, JSON), or in headers
// prefixed "trailer-" (Connect unary). REST has none.
export function trailers(ex: Exchange): string {
  const res = ex.response;
  if (!res) return "(no response)";
  const type = ex.header("content-type");
  const text = (b: Uint8Array) => new TextDecoder().decode(b);
  if (type.startsWith("application/grpc-web")) {
    const body = type.startsWith("application/grpc-web-text") ? fromBase64(text(res.body)) : res.body;
    const found = envelopes(body).filter((e) => e.flags & 0x80);
    return found.length > 0 ? found.map((e) => text(e.data).trim()).join("\n") : headerTrailers(ex);
  }
  if (type.startsWith("application/connect+")) {
    const found = envelopes(res.body).filter((e) => e.flags & 0x02);
    return found.length > 0 ? `end of stream: ${text(found[0].data)}` : "(none: the stream did not end)";
  }
  const prefixed = res.headers.filter(([k]) => k.startsWith("trailer-"));
  if (prefixed.length > 0) return prefixed.map(([k, v]) => `${k.slice("trailer-".length)}: ${v}`).join("\n");
  return "(none)";
}

// headerTrailers reads a gRPC status sent in the headers (a
// "trailers-only" answer, as errors are).
function headerTrailers(ex: Exchange): string {
  const status = ex.header("grpc-status");
  if (status === "") return "(none)";
  return `(in the headers) grpc-status: ${status}\ngrpc-message: ${ex.header("grpc-message")}`;
}

// commands returns the curl command and, for gRPC-shaped calls, the
// grpcurl one ("" otherwise).
function commands(ex: Exchange, call: Call): { curl: string; grpcurl: string } {
  if (!ex.request) return { curl: "", grpcurl: "" };
  const type = ex.header("content-type");
  const binary = ex.response ? !isPlainText(ex.response.body) : type.includes("proto");
  const curl = curlCommand(ex.request, { stream: call.rpc === "LotsOfReplies", binary });
  const traceparent = ex.request.headers.find(([k]) => k === "traceparent")?.[1] ?? "";
  const grpcurl = call.grpcShaped ? grpcurlCommand(call.baseUrl, call.rpc, call.name, traceparent) : "";
  return { curl, grpcurl };
}

// showWire renders ex, the last call, into the wire section.
export function showWire(ex: Exchange, call: Call): void {
  const req = ex.request;
  const res = ex.response;
  element("wire-summary").textContent = req
    ? `(the last call: ${call.rpc}, ${req.method} ${new URL(req.url).pathname} → ${res ? res.status : "no response"})`
    : "(the last call was not sent)";
  element("wire-request-line").textContent = req ? `${req.method} ${req.url}` : "not sent";
  element("wire-request-headers").textContent = req ? headerLines(req.headers) : "";
  showBody(element("wire-request-body"), req?.body ?? null, "Body");
  element("wire-response-line").textContent = res
    ? `HTTP ${res.status} ${res.statusText}${res.complete ? "" : " (the body broke off or was cut short)"}`
    : ex.networkError
      ? "no response: the request failed"
      : "no response";
  element("wire-response-headers").textContent = res ? headerLines(res.headers) : "";
  showBody(element("wire-response-body"), res?.body ?? null, "Body");
  element("wire-trailers").textContent = trailers(ex);
  const { curl, grpcurl } = commands(ex, call);
  element("curl-command").textContent = curl;
  element("grpcurl-command").textContent = grpcurl;
  element<HTMLButtonElement>("copy-curl").disabled = curl === "";
  element<HTMLButtonElement>("copy-grpcurl").disabled = grpcurl === "";
  element("copy-status").textContent = "";
}

// copyCommand copies the text of the command element id to the clipboard
// and says so in #copy-status.
export async function copyCommand(id: string, what: string): Promise<void> {
  const status = element("copy-status");
  const text = element(id).textContent ?? "";
  try {
    await navigator.clipboard.writeText(text);
    status.textContent = `Copied the ${what} command.`;
  } catch (err) {
    status.textContent = `Could not copy (${err instanceof Error ? err.message : String(err)}): select the command below instead.`;
  }
}
