// The hellorpc page: calls HelloWorldService.SayHello directly from the
// browser, in the protocol the user picks, and shows what happened.
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

// The API base URL: ?api= when given, else this page's own origin.
apiInput.value = new URLSearchParams(location.search).get("api") ?? location.origin;
const requested = new URLSearchParams(location.search).get("protocol");
if (requested && isProtocolId(requested)) protocolSelect.value = requested;

form.addEventListener("submit", (event) => {
  event.preventDefault();
  void send();
});

async function send(): Promise<void> {
  const id = protocolSelect.value;
  if (!isProtocolId(id)) return;
  const protocol = protocols[id];
  const baseUrl = apiInput.value.trim().replace(/\/+$/, "") || location.origin;
  const wire: Wire = { method: "", requestContentType: "", responseContentType: "", networkError: false };
  const client = createClient(HelloWorldService, protocol.transport(baseUrl, recordingFetch(wire)));

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
