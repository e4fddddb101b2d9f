// What the first script (boot.ts, inline in index.html) hands over to the
// full page (main.ts) when that has loaded: the calls asked for before,
// and the call it made itself, whose wire view the full page shows.
import type { Exchange } from "./wire";

// Kind is which button sent the form: Send (unary) or Stream greetings.
export type Kind = "unary" | "stream";

// Made is a SayHello call that boot.ts made.
export interface Made {
  exchange: Exchange;
  name: string;
  baseUrl: string;
}

export interface Handoff {
  // taken is set by main.ts once its own handlers run the form.
  taken: boolean;
  // queued are the calls asked for that boot.ts left to main.ts, in order.
  queued: Kind[];
  // made settles when boot.ts's call (if any) has ended, with what it was.
  made: Promise<Made | null>;
}

declare global {
  interface Window {
    hellorpcHandoff?: Handoff;
  }
}

// handoff returns the page's handoff, made on first use.
export function handoff(): Handoff {
  window.hellorpcHandoff ??= { taken: false, queued: [], made: Promise.resolve(null) };
  return window.hellorpcHandoff;
}
