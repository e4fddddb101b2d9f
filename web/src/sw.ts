// The page's service worker, which build.mjs writes to static/sw.js and
// main.ts registers: it answers navigations to the page (its directory or
// index.html, with any query) with a copy of index.html it keeps in Cache
// Storage, and fetches a fresh copy behind each (stale-while-revalidate). A
// visit after the first so needs no round trip before the page's first
// call: the HTML comes from the copy, and the hashed assets it names from
// the HTTP cache (immutable). Nothing else goes through it: other requests
// are routed to the network (the Static Routing API, where the browser has
// it), and its fetch handler lets them pass. Without a copy (the first
// visit, or the cache cleared), the navigation goes to the network.
//
// A copy can be older than the server: after an upgrade, the page it holds
// names assets the server no longer has. boot.ts then stores a fresh copy
// and reloads, once.
import { copies, pageKey } from "./offline";

// What this worker needs of the ServiceWorkerGlobalScope and its events;
// the DOM's types, which the rest of the page uses, do not have them.
interface Extendable extends Event {
  waitUntil(promise: Promise<unknown>): void;
}
interface Installing extends Extendable {
  addRoutes?(rules: unknown): Promise<void>;
}
interface Fetching extends Extendable {
  request: Request;
  respondWith(response: Promise<Response>): void;
}
interface Worker {
  registration: { scope: string };
  skipWaiting(): Promise<void>;
  clients: { claim(): Promise<void> };
  addEventListener(type: "install", listener: (event: Installing) => void): void;
  addEventListener(type: "activate", listener: (event: Extendable) => void): void;
  addEventListener(type: "fetch", listener: (event: Fetching) => void): void;
}
const worker = self as unknown as Worker;
const page = pageKey(worker.registration.scope);
const index = new URL("index.html", page).href;

// refresh fetches the page from the server, and keeps it when it is a
// whole, plain answer.
async function refresh(): Promise<Response> {
  const response = await fetch(page, { cache: "no-cache" });
  if (response.status === 200 && response.type === "basic") {
    await (await caches.open(copies)).put(page, response.clone());
  }
  return response;
}

// answer answers a navigation to the page: the copy, refreshed behind it,
// or else the network.
async function answer(event: Fetching): Promise<Response> {
  const copy = await caches.match(page, { cacheName: copies });
  if (copy === undefined) return fetch(event.request);
  event.waitUntil(refresh().catch(() => undefined)); // offline: keep the copy
  return copy;
}

worker.addEventListener("install", (event) => {
  // Only navigations reach the fetch handler; the calls and assets go
  // straight to the network.
  const routed = event.addRoutes?.({ condition: { not: { requestMode: "navigate" } }, source: "network" });
  event.waitUntil(Promise.all([refresh(), routed?.catch(() => undefined)]).then(() => worker.skipWaiting()));
});

worker.addEventListener("activate", (event) => event.waitUntil(worker.clients.claim()));

worker.addEventListener("fetch", (event) => {
  const { request } = event;
  if (request.mode !== "navigate" || request.method !== "GET") return;
  const url = new URL(request.url);
  url.search = "";
  url.hash = "";
  if (url.href !== page && url.href !== index) return;
  event.respondWith(answer(event));
});
