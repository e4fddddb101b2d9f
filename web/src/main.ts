// The hellorpc page: calls HelloWorldService directly from the browser, in
// the protocol the user picks, and shows what happened: SayHello on Send,
// LotsOfReplies (server streaming) on "Stream greetings", and what went
// over the wire for the last call.
//
// The page's first script (boot.ts, inline in index.html) has set the form
// from the address, may have made a first call, and loads this module:
// this module then takes the form over, shows the wire view of that first
// call and makes the calls asked for before it had loaded (handoff.ts).
import type { Caller } from "./caller";
import { element } from "./dom";
import { describe } from "./errors";
import { handoff } from "./handoff";
import { isProtocolId, protocols, type Protocol } from "./protocols";
import type { StreamFormat } from "./rest";
import { markGreeting, notSent, pending, show, type Outcome } from "./result";
import { apiBase, httpBase, timeoutMs as callTimeoutMs } from "./settings";
import { Exchange, recorded, recordingFetch } from "./wire";
import { copyCommand, showWire } from "./wireview";

// How long a call may take (settings.ts).
const timeoutMs = callTimeoutMs();

const form = element<HTMLFormElement>("hello-form");
const nameInput = element<HTMLInputElement>("name");
const protocolSelect = element<HTMLSelectElement>("protocol");
const restStreamSelect = element<HTMLSelectElement>("rest-stream");
const apiInput = element<HTMLInputElement>("api");
const openapiLink = element<HTMLAnchorElement>("openapi");
const sendButton = element<HTMLButtonElement>("send");
const streamButton = element<HTMLButtonElement>("stream");
const streamResult = element<HTMLElement>("stream-result");
const greetings = element<HTMLOListElement>("greetings");
const streamStatus = element<HTMLElement>("stream-status");

// The name check. The proto's rules run in rules.ts, whose CEL and RE2
// interpreters are most of the page's code: it loads after first paint,
// when the browser is idle and no call is in flight, so it never delays the
// first greeting. Until it has loaded, the server's answer is the check.
// <html data-rules="ready"> says it has.
let checkName: ((name: string) => string | null) | null = null;
let rules: "later" | "after-call" | "asked" = "later";
let inFlight = 0;
let calls = 0; // calls made by this module

function loadRules(): void {
  if (rules === "asked") return;
  if (inFlight > 0) {
    rules = "after-call";
    return;
  }
  rules = "asked";
  import("./rules").then(
    (m) => {
      checkName = m.checkName;
      document.documentElement.dataset.rules = "ready";
    },
    (err: unknown) => {
      document.documentElement.dataset.rules = "failed";
      console.warn("the name's rules did not load; the server checks names alone", err);
    },
  );
}

// calling runs one call, counting it in flight.
async function calling(call: () => Promise<void>): Promise<void> {
  inFlight++;
  calls++;
  try {
    await call();
  } finally {
    inFlight--;
    if (inFlight === 0 && rules === "after-call") loadRules();
  }
}

// loadRulesWhenIdle loads the rules when the browser is next idle.
function loadRulesWhenIdle(): void {
  if ("requestIdleCallback" in window) requestIdleCallback(loadRules, { timeout: 2000 });
  else setTimeout(loadRules, 0);
}
if (document.readyState === "complete") loadRulesWhenIdle();
else addEventListener("load", loadRulesWhenIdle);
nameInput.addEventListener("input", loadRules, { once: true });

// The OpenAPI link follows the API base URL.
function linkOpenAPI(): void {
  openapiLink.href = `${httpBase(apiInput.value.trim()) ?? location.origin}/openapi.yaml`;
}
linkOpenAPI();
apiInput.addEventListener("input", linkOpenAPI);

const boot = handoff();
boot.taken = true;
form.addEventListener("submit", (event) => {
  event.preventDefault();
  if (event.submitter === streamButton) void calling(stream);
  else void calling(send);
});
element("copy-curl").addEventListener("click", () => void copyCommand("curl-command", "curl"));
element("copy-grpcurl").addEventListener("click", () => void copyCommand("grpcurl-command", "grpcurl"));

// Prepared is one call ready to go in the chosen protocol.
interface Prepared {
  protocol: Protocol;
  restStream: StreamFormat;
  baseUrl: string;
  exchange: Exchange;
  caller: Caller;
}

// prepare readies a call, or throws why it cannot be made.
function prepare(): Prepared {
  const id = protocolSelect.value;
  const protocol = protocols[isProtocolId(id) ? id : "connect-json"];
  const baseUrl = apiBase(apiInput.value);
  if (baseUrl === null) throw new Error(`The API base URL must be an http: or https: URL, not "${apiInput.value.trim()}".`);
  const restStream: StreamFormat = restStreamSelect.value === "sse" ? "sse" : "ndjson";
  const exchange = new Exchange();
  return { protocol, restStream, baseUrl, exchange, caller: protocol.caller(baseUrl, recordingFetch(exchange), restStream) };
}

// refusal is why no call is made, or null: the name breaks the proto's
// rules (checked once they have loaded: the page says what the server would
// say, without a call), or the call cannot be prepared.
function refusal(): { message: string } | Prepared {
  const message = checkName?.(nameInput.value) ?? null;
  if (message !== null) return { message: `Invalid argument: ${message} (checked in the page; nothing was sent)` };
  try {
    return prepare();
  } catch (err) {
    return { message: err instanceof Error ? err.message : String(err) };
  }
}

async function send(): Promise<void> {
  const name = nameInput.value;
  const ready = refusal();
  if ("message" in ready) {
    show({ state: "error", reply: ready.message, ...notSent });
    showWire(new Exchange(), { rpc: "SayHello", name, baseUrl: "", grpcShaped: false });
    return;
  }
  const { protocol, baseUrl, exchange, caller } = ready;
  pending();
  sendButton.disabled = true;
  const started = performance.now();
  let outcome: Pick<Outcome, "state" | "reply">;
  try {
    outcome = { state: "ok", reply: await caller.sayHello(name, { timeoutMs }) };
  } catch (err) {
    await recorded(exchange);
    const failure = { networkError: exchange.networkError, bodyError: exchange.bodyError, baseUrl, timeoutMs, received: 0 };
    outcome = { state: "error", reply: describe(err, failure) };
  } finally {
    sendButton.disabled = false;
  }
  const elapsed = performance.now() - started;
  show({
    ...outcome,
    protocol: `${protocol.label} (${exchange.request?.method || "no request"})`,
    contentType: exchange.header("content-type") || "none (no response)",
    roundTrip: `${elapsed.toFixed(1)} ms`,
    traceId: exchange.traceId || "—",
  });
  await recorded(exchange);
  showWire(exchange, { rpc: "SayHello", name, baseUrl, grpcShaped: protocol.rpc });
}

// scrollBehavior is how new greetings scroll into view: smoothly, unless
// the user asks for reduced motion.
function scrollBehavior(): ScrollBehavior {
  return matchMedia("(prefers-reduced-motion: reduce)").matches ? "auto" : "smooth";
}

// stream calls LotsOfReplies and shows each greeting as soon as it arrives,
// scrolled into view (on a phone the list is below the fold). Streams always
// POST, so "Connect GET" streams as Connect JSON.
async function stream(): Promise<void> {
  const name = nameInput.value;
  const ready = refusal();
  if ("message" in ready) {
    streamResult.dataset.state = "error";
    streamStatus.textContent = ready.message;
    greetings.replaceChildren();
    showWire(new Exchange(), { rpc: "LotsOfReplies", name, baseUrl: "", grpcShaped: false });
    return;
  }
  const { protocol, restStream, baseUrl, exchange, caller } = ready;
  const label =
    protocol === protocols.rest
      ? `REST, ${restStream === "sse" ? "server-sent events" : "NDJSON"}`
      : (protocol.streamLabel ?? protocol.label);
  const streamTimeoutMs = timeoutMs * 6;
  streamResult.dataset.state = "streaming";
  streamButton.disabled = true;
  greetings.replaceChildren();
  streamStatus.textContent = `Streaming over ${label}…`;
  streamResult.scrollIntoView({ block: "nearest", behavior: scrollBehavior() });
  const started = performance.now();
  try {
    for await (const message of caller.lotsOfReplies(name, { timeoutMs: streamTimeoutMs })) {
      const item = document.createElement("li");
      item.textContent = message;
      greetings.append(item);
      markGreeting();
      item.scrollIntoView({ block: "nearest", behavior: scrollBehavior() });
    }
    streamResult.dataset.state = "done";
    streamStatus.textContent =
      `${greetings.childElementCount} greetings over ${label} (${exchange.header("content-type")}) ` +
      `in ${(performance.now() - started).toFixed(0)} ms.`;
  } catch (err) {
    await recorded(exchange);
    streamResult.dataset.state = "error";
    const failure = {
      networkError: exchange.networkError,
      bodyError: exchange.bodyError,
      baseUrl,
      timeoutMs: streamTimeoutMs,
      received: greetings.childElementCount,
    };
    streamStatus.textContent = describe(err, failure);
  } finally {
    streamButton.disabled = false;
  }
  streamStatus.scrollIntoView({ block: "nearest", behavior: scrollBehavior() });
  await recorded(exchange);
  showWire(exchange, { rpc: "LotsOfReplies", name, baseUrl, grpcShaped: protocol.rpc });
}

// Take over from the first script: show the wire view of its call, unless
// a call of this module came first, and make the calls asked for before
// this module had loaded, in order.
async function takeOver(): Promise<void> {
  const made = await boot.made;
  if (made !== null && calls === 0) {
    showWire(made.exchange, { rpc: "SayHello", name: made.name, baseUrl: made.baseUrl, grpcShaped: true });
  }
  for (const kind of boot.queued.splice(0)) await calling(kind === "stream" ? stream : send);
}
void takeOver();

// The service worker (sw.ts) keeps a copy of the page for the next visit.
if ("serviceWorker" in navigator) {
  navigator.serviceWorker.register("./sw.js").catch((err: unknown) => {
    console.warn("the service worker did not register: the next visit fetches the page again", err);
  });
}
