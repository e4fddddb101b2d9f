// Commands that reproduce the last call from a shell: curl sends the same
// request (method, URL, the headers the page set, the body's bytes) and
// prints the answer's body; grpcurl makes the same call over gRPC.
import type { Sent } from "./wire";

// quote makes s one word for a POSIX shell.
function quote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

// isPlainText reports whether body is UTF-8 text without control
// characters other than tab and line breaks: such a body can be written on
// the command line as it is.
export function isPlainText(body: Uint8Array): boolean {
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(body);
  } catch {
    return false;
  }
  return !/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/.test(text);
}

// printfBytes spells bytes as a printf format that writes exactly them:
// printable ASCII as it is, anything else (and \ ' %) as an octal escape.
function printfBytes(bytes: Uint8Array): string {
  let out = "";
  for (const b of bytes) {
    const plain = b >= 0x20 && b < 0x7f && b !== 0x5c && b !== 0x27 && b !== 0x25;
    out += plain ? String.fromCharCode(b) : "\\" + b.toString(8).padStart(3, "0");
  }
  return out;
}

// CurlOptions say how to print the answer: stream (-N: as it arrives) and
// binary (--output -: a terminal gets the bytes too).
export interface CurlOptions {
  stream: boolean;
  binary: boolean;
}

// curlCommand returns a shell command that sends req as the page sent it.
// --compressed stands in for the browser's Accept-Encoding, and decodes the
// answer as the browser did; a binary body is piped in through printf.
export function curlCommand(req: Sent, options: CurlOptions): string {
  // One line per option, so the command reads as the request does.
  let first = "curl -sS --compressed";
  if (options.stream) first += " -N";
  if (options.binary) first += " --output -";
  const lines = [first];
  const implied = req.body ? "POST" : "GET";
  if (req.method !== implied) lines.push(`-X ${req.method}`);
  for (const [name, value] of req.headers) lines.push(`-H ${quote(`${name}: ${value}`)}`);
  let input = "";
  if (req.body && isPlainText(req.body)) {
    lines.push(`--data-binary ${quote(new TextDecoder().decode(req.body))}`);
  } else if (req.body) {
    input = `printf ${quote(printfBytes(req.body))} |\n`;
    lines.push("--data-binary @-");
  }
  lines.push(quote(req.url));
  return input + lines.join(" \\\n  ");
}

// grpcurlCommand returns a grpcurl command that makes the same call over
// gRPC (the server's reflection describes the service): rpc on baseUrl's
// host with the name, and the trace context the page sent.
export function grpcurlCommand(baseUrl: string, rpc: string, name: string, traceparent: string): string {
  const url = new URL(baseUrl);
  const port = url.port || (url.protocol === "https:" ? "443" : "80");
  const args = ["grpcurl"];
  if (url.protocol === "http:") args.push("-plaintext");
  args.push("-d", quote(JSON.stringify({ name })));
  if (traceparent) args.push("-H", quote(`traceparent: ${traceparent}`));
  args.push(`${url.hostname}:${port}`, `rpc_package.HelloWorldService/${rpc}`);
  return args.join(" ");
}
