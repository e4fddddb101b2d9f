// The page's first script, which build.mjs inlines into index.html: it
// costs no round trip of its own, so the form works, and a first SayHello
// in Connect JSON can go out, as soon as the HTML has arrived. On a slow
// phone each round trip is over half a second, and the full page (main.ts:
// the generated clients, every protocol, the name's rules, the wire view)
// takes two more and its compiling; the first greeting waits for none of
// that.
//
// It sets the form from the address (the form is a GET form: sent before
// any script ran, or without JavaScript, it comes back in the query) and
// makes the call the address or the form asks for when that is SayHello in
// Connect JSON: a plain fetch of the protocol's unary POST (Content-Type
// application/json, Connect-Protocol-Version 1, Connect-Timeout-Ms),
// recorded as main.ts records its calls. It loads the full page once the
// page has loaded and no call of its own is in flight, or at once when the
// form asks for a call it does not make (another protocol, a stream); those
// wait for the full page, which takes the form over (handoff.ts). The name
// is not checked here: until the full page has loaded the proto's rules,
// the server's answer is the check.
//
// If the full page does not load under a copy of the page kept by the
// service worker (sw.ts), the copy is likely older than the server: it
// stores a fresh one and reloads, once.
//
// The <script> element names the full page's module (data-app) and the
// chunks that module imports (data-preload), fetched beside it.
import { choices, isProtocolId } from "./choices";
import { element } from "./dom";
import { explain, type Failure } from "./failure";
import { handoff, type Kind, type Made } from "./handoff";
import { copies, pageKey } from "./offline";
import { notSent, pending, show, type Outcome } from "./result";
import { apiBase, httpBase, timeoutMs } from "./settings";
import { Exchange, recorded, recordingFetch } from "./wire";

const script = document.currentScript as HTMLScriptElement; // only set while this script runs
const params = new URLSearchParams(location.search);
const form = element<HTMLFormElement>("hello-form");
const nameInput = element<HTMLInputElement>("name");
const protocolSelect = element<HTMLSelectElement>("protocol");
const apiInput = element<HTMLInputElement>("api");
const sendButton = element<HTMLButtonElement>("send");
const streamButton = element<HTMLButtonElement>("stream");
const state = handoff();

// The form from the address. A refused ?api= is said so on the page; an
// empty one (the form sent as it is) means this page's origin.
const apiParam = params.get("api") ?? "";
apiInput.placeholder = location.origin;
if (apiParam !== "" && httpBase(apiParam) === null) {
  const notice = element<HTMLElement>("api-notice");
  notice.textContent = `Ignored ?api=${apiParam}: the API base URL must be an http: or https: URL. Calling this page's origin instead.`;
  notice.hidden = false;
} else {
  apiInput.value = apiParam;
}
const requested = params.get("protocol");
if (requested && isProtocolId(requested)) protocolSelect.value = requested;
if (params.get("rest-stream") === "sse") element<HTMLSelectElement>("rest-stream").value = "sse";
if (params.has("name")) nameInput.value = params.get("name") ?? "";

let appAsked = false;
let busy = false; // a call of this script is in flight

// loadApp loads the full page, once.
function loadApp(): void {
  if (appAsked) return;
  appAsked = true;
  for (const href of (script.dataset.preload ?? "").split(" ").filter(Boolean)) {
    const link = document.createElement("link");
    link.rel = "modulepreload";
    link.href = href;
    document.head.append(link);
  }
  import(new URL(script.dataset.app ?? "", document.baseURI).href).then(
    () => sessionStorage.removeItem(reloaded),
    async (err: unknown) => {
      if (navigator.serviceWorker?.controller && sessionStorage.getItem(reloaded) === null) {
        // Most likely a copy older than the server (sw.ts): renew it, reload.
        sessionStorage.setItem(reloaded, "1");
        await (await caches.open(copies)).add(pageKey(location.href)).catch(() => undefined);
        location.reload();
      } else if (state.queued.length > 0) {
        show({ state: "error", reply: `The page's script did not load (${String(err)}): reload the page.`, ...notSent });
      }
    },
  );
}

// reloaded is the sessionStorage key set while the page reloads because
// its full page did not load.
const reloaded = "hellorpc-reloaded";

addEventListener("load", () => {
  if (!busy) loadApp();
});

// ask makes the call of kind when this script can, else leaves it to the
// full page.
function ask(kind: Kind): void {
  const baseUrl = apiBase(apiInput.value);
  if (kind === "unary" && protocolSelect.value === "connect-json" && baseUrl !== null && !busy) {
    state.made = send(baseUrl);
    return;
  }
  state.queued.push(kind);
  loadApp();
}

form.addEventListener("submit", (event) => {
  if (state.taken) return; // main.ts's own handler runs the form
  event.preventDefault();
  ask(event.submitter === streamButton ? "stream" : "unary");
});

// Connect's unary answer in JSON: the reply message, or an error.
interface Answer {
  message?: unknown;
  code?: unknown;
}

// outcomeOf reads a Connect unary JSON answer: the greeting, or the error's
// code and message (the error body {"code", "message"}; without one, as a
// proxy in between may answer, the code the Connect protocol gives the HTTP
// status and the message "HTTP <status>", as connect-es and the full page
// report it).
async function outcomeOf(res: Response): Promise<{ ok: true; message: string } | { ok: false; code: string; message: string }> {
  const body = (await res.json().catch(() => null)) as Answer | null;
  if (res.ok && body !== null && typeof body === "object") {
    return { ok: true, message: typeof body.message === "string" ? body.message : "" };
  }
  const connectError = typeof body?.code === "string";
  return {
    ok: false,
    code: connectError ? String(body?.code) : codeOfStatus(res.status),
    message: connectError ? (typeof body?.message === "string" ? body.message : "") : `HTTP ${res.status}`,
  };
}

// codeOfStatus is the code of an HTTP status that carries no Connect error
// (the Connect protocol's "HTTP to error code" table).
function codeOfStatus(status: number): string {
  switch (status) {
    case 400:
      return "internal";
    case 401:
      return "unauthenticated";
    case 403:
      return "permission_denied";
    case 404:
      return "unimplemented";
    case 429:
    case 502:
    case 503:
    case 504:
      return "unavailable";
    default:
      return "unknown";
  }
}

// send calls SayHello in Connect JSON with the name in the form, shows the
// outcome, and then loads the full page if the page has loaded meanwhile.
async function send(baseUrl: string): Promise<Made> {
  busy = true;
  const name = nameInput.value;
  const exchange = new Exchange();
  const timeout = timeoutMs();
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), timeout);
  pending();
  sendButton.disabled = true;
  const started = performance.now();
  let outcome: Pick<Outcome, "state" | "reply">;
  try {
    const res = await recordingFetch(exchange)(`${baseUrl}/rpc_package.HelloWorldService/SayHello`, {
      method: "POST",
      headers: {
        "Content-Type": "application/json",
        "Connect-Protocol-Version": "1",
        "Connect-Timeout-Ms": String(timeout),
      },
      body: JSON.stringify({ name }),
      signal: abort.signal,
    });
    const answer = await outcomeOf(res);
    if (abort.signal.aborted) throw abort.signal.reason;
    outcome = answer.ok
      ? { state: "ok", reply: answer.message }
      : { state: "error", reply: explain(answer.code, answer.message, failure(exchange, baseUrl, timeout)) };
  } catch (err) {
    await recorded(exchange);
    const code = abort.signal.aborted ? "deadline_exceeded" : "unknown";
    outcome = { state: "error", reply: explain(code, String(err), failure(exchange, baseUrl, timeout)) };
  } finally {
    clearTimeout(timer);
    sendButton.disabled = false;
    busy = false;
  }
  show({
    ...outcome,
    protocol: `${choices["connect-json"].label} (${exchange.request?.method || "no request"})`,
    contentType: exchange.header("content-type") || "none (no response)",
    roundTrip: `${(performance.now() - started).toFixed(1)} ms`,
    traceId: exchange.traceId || "—",
  });
  if (document.readyState === "complete") setTimeout(loadApp); // after the greeting shows
  await recorded(exchange);
  return { exchange, name, baseUrl };
}

// failure is what explain needs to know of a failed call besides its error.
function failure(exchange: Exchange, baseUrl: string, timeout: number): Failure {
  return { networkError: exchange.networkError, bodyError: exchange.bodyError, baseUrl, timeoutMs: timeout, received: 0 };
}

// A form sent before this script ran (or without JavaScript) comes back
// with its fields in the query: make the call it asked for.
if (params.has("name")) ask(params.get("call") === "stream" ? "stream" : "unary");
