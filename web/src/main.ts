// The hellorpc page: calls HelloWorldService directly from the browser, in
// the protocol the user picks, and shows what happened: SayHello on Send,
// LotsOfReplies (server streaming) on "Stream greetings".
import { createClient } from "@connectrpc/connect";
import { HelloWorldService } from "./gen/rpc_package/helloworld_pb";
import { describe } from "./errors";
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
const streamButton = element<HTMLButtonElement>("stream");
const streamResult = element<HTMLElement>("stream-result");
const greetings = element<HTMLOListElement>("greetings");
const streamStatus = element<HTMLElement>("stream-status");

// The API base URL: ?api= when given, else this page's own origin.
apiInput.value = new URLSearchParams(location.search).get("api") ?? location.origin;
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
  const baseUrl = apiInput.value.trim().replace(/\/+$/, "") || location.origin;
  const wire: Wire = { method: "", requestContentType: "", responseContentType: "", networkError: false };
  const client = createClient(HelloWorldService, protocol.transport(baseUrl, recordingFetch(wire)));
  return { protocol, baseUrl, wire, client };
}

async function send(): Promise<void> {
  const { protocol, baseUrl, wire, client } = call();
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
}

// stream calls LotsOfReplies and shows each greeting as soon as it arrives.
// Streams always POST, so "Connect GET" streams as Connect JSON.
async function stream(): Promise<void> {
  const { protocol, baseUrl, wire, client } = call();
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
