// Base64 as gRPC-Web text mode uses it: a body may be several chunks, each
// padded on its own, one after another, so it is decoded group by group.

// base64Alphabet matches one character of a base64 text, padding included.
export const base64Alphabet = /[A-Za-z0-9+/=]/;

// decodeGroups decodes text made of whole 4-character groups, each on its
// own, so that padding may end any group. It throws on a character outside
// the alphabet.
export function decodeGroups(text: string): Uint8Array {
  const out: number[] = [];
  for (let at = 0; at + 4 <= text.length; at += 4) {
    const bin = atob(text.slice(at, at + 4));
    for (let i = 0; i < bin.length; i++) out.push(bin.charCodeAt(i));
  }
  return Uint8Array.from(out);
}

// fromBase64 decodes a whole text mode body, ignoring line breaks and any
// incomplete last group.
export function fromBase64(text: string): Uint8Array {
  return decodeGroups(text.replace(/[^A-Za-z0-9+/=]/g, ""));
}

// toBase64 encodes bytes as one padded base64 string.
export function toBase64(bytes: Uint8Array): string {
  let bin = "";
  for (const b of bytes) bin += String.fromCharCode(b);
  return btoa(bin);
}
