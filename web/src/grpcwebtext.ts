// gRPC-Web text mode (application/grpc-web-text) on top of connect-web's
// gRPC-Web transport, which speaks only the binary form: a fetch wrapper
// that sends the request body as base64 and decodes the answer's base64
// back as it arrives. The server sends each flush as one padded base64
// chunk, so a stream stays incremental.
import { base64Alphabet, decodeGroups, toBase64 } from "./base64";

const textType = "application/grpc-web-text";

// textMode returns a fetch that turns a binary gRPC-Web call into a text
// mode one on the wire and hands the caller a binary answer; next does the
// fetching (and records what went over the wire).
export function textMode(next: typeof globalThis.fetch): typeof globalThis.fetch {
  return async (input, init) => {
    const headers = new Headers(init?.headers);
    headers.set("content-type", textType);
    headers.set("accept", textType);
    const body = init?.body instanceof Uint8Array ? toBase64(init.body) : init?.body;
    const res = await next(input, { ...init, headers, body });
    const type = res.headers.get("content-type") ?? "";
    if (res.body === null || !type.startsWith(textType)) return res;
    return new Response(res.body.pipeThrough(base64Decoder()), {
      status: res.status,
      statusText: res.statusText,
      headers: res.headers,
    });
  };
}

// base64Decoder decodes a stream of base64 text, made of chunks each padded
// on its own, into bytes, passing each whole 4-character group on as soon
// as it is complete.
function base64Decoder(): TransformStream<Uint8Array, Uint8Array> {
  let pending = ""; // characters of an incomplete group
  return new TransformStream({
    transform(chunk, controller) {
      let text = pending;
      for (const c of chunk) {
        const ch = String.fromCharCode(c);
        if (base64Alphabet.test(ch)) text += ch;
      }
      const whole = text.length - (text.length % 4);
      pending = text.slice(whole);
      if (whole === 0) return;
      const out = decodeGroups(text.slice(0, whole)); // throws on bad base64: the call fails
      controller.enqueue(out);
    },
    flush(controller) {
      if (pending !== "") controller.error(new Error("gRPC-Web text answer ends inside a base64 group"));
    },
  });
}
