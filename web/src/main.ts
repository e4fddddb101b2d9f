// The hellorpc page: calls HelloWorldService directly from the browser, in
// the protocol the user picks, and shows what happened: SayHello on Send,
// LotsOfReplies (server streaming) on "Stream greetings".
import { createClient } from "@connectrpc/connect";
import { HelloWorldService } from "./gen/rpc_package/helloworld_pb";
import { describe } from "./errors";
import { checkName } from "./rules";
import { isProtocolId, protocols, recordingFetch, type Wire } from "./protocols";

// How long a call may take: ?timeout= (milliseconds) when given, else 5 s.
const timeoutMs = Number(new URLSearchParams(location.search).get("timeout")) || 5000;

function element<T extends HTMLElement>(id: string): T {
  const el = document.getElementById(id);
  if (!el) throw new Error(`page is missing #${id}`);
  return el as T;
}

const form = element<HTMLFormElement>("hello-form");
const nameInput = element<HTMLInputElement>("name");
const protocolSelect = element<HTMLSelectElement>("protocol");
const apiInput = element<HTMLInputElement>("api");
const sendButton = element<HTMLButtonElement>("send");
const result = element<HTMLElement>("result");
const reply = element<HTMLElement>("reply");
const protocolUsed = element<HTMLElement>("protocol-used");
const contentType = element<HTMLElement>("content-type");
const roundTrip = element<HTMLElement>("round-trip");
const traceIdShown = element<HTMLElement>("trace-id");
const streamButton = element<HTMLButtonElement>("stream");
const streamResult = element<HTMLElement>("stream-result");
const greetings = element<HTMLOListElement>("greetings");
const streamStatus = element<HTMLElement>("stream-status");

// httpBase returns raw, without trailing slashes, when it is an http: or
// https: URL, and null for anything else (javascript:, data:, garbage): the
// page calls only web APIs, and its Content-Security-Policy allows no more.
function httpBase(raw: string): string | null {
  try {
    const { protocol } = new URL(raw);
    return protocol === "http:" || protocol === "https:" ? raw.replace(/\/+$/, "") : null;
  } catch {
    return null;
  }
}

// The API base URL: ?api= when given and an http(s) URL, else this page's own
// origin; a refused ?api= is said so on the page.
const apiParam = new URLSearchParams(location.search).get("api");
apiInput.value = location.origin;
if (apiParam !== null && httpBase(apiParam) === null) {
  const notice = element<HTMLElement>("api-notice");
  notice.textContent = `Ignored ?api=${apiParam}: the API base URL must be an http: or https: URL. Calling this page's origin instead.`;
  notice.hidden = false;
} else if (apiParam !== null) {
  apiInput.value = apiParam;
}
const requested = new URLSearchParams(location.search).get("protocol");
if (requested && isProtocolId(requested)) protocolSelect.value = requested;

form.addEventListener("submit", (event) => {
  event.preventDefault();
  void send();
});

streamButton.addEventListener("click", () => void stream());

// call prepares one call in the chosen protocol: the client, the base URL and
// the record of what went over the wire.
function call() {
  const id = protocolSelect.value;
  const protocol = protocols[isProtocolId(id) ? id : "connect-json"];
  const typed = apiInput.value.trim();
  const baseUrl = typed === "" ? location.origin : httpBase(typed);
  if (baseUrl === null) throw new Error(`The API base URL must be an http: or https: URL, not "${typed}".`);
  const wire: Wire = { method: "", requestContentType: "", responseContentType: "", networkError: false, traceId: "" };
  const client = createClient(HelloWorldService, protocol.transport(baseUrl, recordingFetch(wire)));
  return { protocol, baseUrl, wire, client };
}

// prepare is call, or null after showing with fail why the call cannot be made.
function prepare(fail: (message: string) => void): ReturnType<typeof call> | null {
  try {
    return call();
  } catch (err) {
    fail(err instanceof Error ? err.message : String(err));
    return null;
  }
}

// invalidName shows with fail, and returns true, when the name breaks the
// proto's rules: the page says what the server would say, without a call.
function invalidName(fail: (message: string) => void): boolean {
  const message = checkName(nameInput.value);
  if (message === null) return false;
  fail(`Invalid argument: ${message} (checked in the page; nothing was sent)`);
  return true;
}

async function send(): Promise<void> {
  const fail = (message: string) => {
    result.dataset.state = "error";
    reply.textContent = message;
  };
  if (invalidName(fail)) {
    protocolUsed.textContent = "none (not sent)";
    contentType.textContent = "none (not sent)";
    roundTrip.textContent = "—";
    return;
  }
  const prepared = prepare(fail);
  if (!prepared) return;
  const { protocol, baseUrl, wire, client } = prepared;
  result.dataset.state = "pending";
  sendButton.disabled = true;
  reply.textContent = "Calling…";
  const started = performance.now();
  try {
    const res = await client.sayHello({ name: nameInput.value }, { timeoutMs });
    result.dataset.state = "ok";
    reply.textContent = res.message;
  } catch (err) {
    result.dataset.state = "error";
    reply.textContent = describe(err, { networkError: wire.networkError, baseUrl, timeoutMs });
  } finally {
    sendButton.disabled = false;
  }
  protocolUsed.textContent = `${protocol.label} (${wire.method || "no request"})`;
  contentType.textContent = wire.responseContentType || "none (no response)";
  roundTrip.textContent = `${(performance.now() - started).toFixed(1)} ms`;
  traceIdShown.textContent = wire.traceId || "—";
}

// stream calls LotsOfReplies and shows each greeting as soon as it arrives.
// Streams always POST, so "Connect GET" streams as Connect JSON.
async function stream(): Promise<void> {
  const fail = (message: string) => {
    streamResult.dataset.state = "error";
    streamStatus.textContent = message;
  };
  if (invalidName(fail)) {
    greetings.replaceChildren();
    return;
  }
  const prepared = prepare(fail);
  if (!prepared) return;
  const { protocol, baseUrl, wire, client } = prepared;
  const streamTimeoutMs = timeoutMs * 6;
  streamResult.dataset.state = "streaming";
  streamButton.disabled = true;
  greetings.replaceChildren();
  streamStatus.textContent = `Streaming over ${protocol.label}…`;
  const started = performance.now();
  try {
    for await (const res of client.lotsOfReplies({ name: nameInput.value }, { timeoutMs: streamTimeoutMs })) {
      const item = document.createElement("li");
      item.textContent = res.message;
      greetings.append(item);
    }
    streamResult.dataset.state = "done";
    streamStatus.textContent =
      `${greetings.childElementCount} greetings over ${protocol.label} (${wire.responseContentType}) ` +
      `in ${(performance.now() - started).toFixed(0)} ms.`;
  } catch (err) {
    streamResult.dataset.state = "error";
    streamStatus.textContent = describe(err, { networkError: wire.networkError, baseUrl, timeoutMs: streamTimeoutMs });
  } finally {
    streamButton.disabled = false;
  }
}
