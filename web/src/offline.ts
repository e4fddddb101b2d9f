// The copy of the page that the service worker (sw.ts) keeps and answers
// navigations with: where it is kept, shared by the worker and the page.

// copies is the name of the Cache Storage cache that holds the copy.
export const copies = "hellorpc-page";

// pageKey is the address the copy is kept under: the page's directory
// (the worker's scope), whatever the query.
export function pageKey(base: string): string {
  return new URL("./", base).href;
}
