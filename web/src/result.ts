// The reply section of the page: what the last SayHello call showed. The
// first call (boot.ts) and the full page (main.ts) show their outcomes
// here alike.
import { element } from "./dom";

// Outcome is every row of the reply section, all set by every outcome, so
// that none shows a previous call's value.
export interface Outcome {
  state: "ok" | "error";
  reply: string;
  protocol: string;
  contentType: string;
  roundTrip: string;
  traceId: string;
}

// notSent are the rows of a call that was not sent.
export const notSent = { protocol: "none (not sent)", contentType: "none (not sent)", roundTrip: "—", traceId: "—" };

// markGreeting marks, once a page load, when the page first shows a
// greeting (a User Timing mark, "greeting"), for the tests and benchmarks
// of the page's speed.
export function markGreeting(): void {
  if (performance.getEntriesByName("greeting", "mark").length === 0) performance.mark("greeting");
}

// pending shows that a call is on its way.
export function pending(): void {
  element("result").dataset.state = "pending";
  element("reply").textContent = "Calling…";
}

// show shows the outcome of a call and scrolls it into view.
export function show(o: Outcome): void {
  if (o.state === "ok") markGreeting();
  const result = element("result");
  result.dataset.state = o.state;
  element("reply").textContent = o.reply;
  element("protocol-used").textContent = o.protocol;
  element("content-type").textContent = o.contentType;
  element("round-trip").textContent = o.roundTrip;
  element("trace-id").textContent = o.traceId;
  result.scrollIntoView({ block: "nearest" });
}
