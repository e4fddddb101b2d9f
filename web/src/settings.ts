// Settings the page reads from its address and form, shared by the first
// call (boot.ts) and the full page (main.ts).

// timeoutMs is how long a call may take: ?timeout= (milliseconds) when
// given, else 5 s.
export function timeoutMs(): number {
  return Number(new URLSearchParams(location.search).get("timeout")) || 5000;
}

// httpBase returns raw, without trailing slashes, when it is an http: or
// https: URL, and null for anything else (javascript:, data:, garbage): the
// page calls only web APIs, and its Content-Security-Policy allows no more.
export function httpBase(raw: string): string | null {
  try {
    const { protocol } = new URL(raw);
    return protocol === "http:" || protocol === "https:" ? raw.replace(/\/+$/, "") : null;
  } catch {
    return null;
  }
}

// apiBase is the API base URL the form names: this page's origin when the
// field is empty, null when it holds no http(s) URL.
export function apiBase(typed: string): string | null {
  typed = typed.trim();
  return typed === "" ? location.origin : httpBase(typed);
}
