// Builds the page into static/, which the Go server embeds (web.go):
//
//   - src/main.ts, the full page, bundled and minified by esbuild with code
//     splitting into static/assets/, every name carrying a hash of its
//     content (main-<hash>.js, chunk-<hash>.js, and rules-<hash>.js, which
//     main loads after first paint). The server sends them as immutable.
//     static/assets/ is emptied first, so no stale file stays behind.
//   - static/index.html from src/index.html, with two things inlined, so that
//     the first greeting costs no round trip but the page's and the call's:
//     src/style.css, minified, in place of its "<!-- style -->" line, and
//     src/boot.ts (the first script: it makes the first call and loads main),
//     bundled and minified, in place of its "<!-- boot -->" line, in a
//     <script> whose data-app names main and data-preload the chunks main
//     imports, which boot fetches beside main instead of after it. The server
//     allows these two inline blocks, and no other, by their hashes in its
//     Content-Security-Policy (web.go).
//   - static/sw.js, the service worker (src/sw.ts), bundled and minified; it
//     keeps its name, since the page registers it by that name.
//   - beside every text file of static/ (openapi.yaml too), its gzip (.gz)
//     and brotli (.br) forms, when they save a tenth or more; a .gz or .br
//     whose source is gone is removed.
//
// The output is deterministic: the same sources give the same bytes, which
// CI checks (.ci/run).
import { build, transform } from "esbuild";
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { brotliCompressSync, constants, gzipSync } from "node:zlib";

const staticDir = "static";
const assetsDir = join(staticDir, "assets");
const compressible = [".html", ".js", ".css", ".yaml", ".json", ".svg", ".txt"];

rmSync(assetsDir, { recursive: true, force: true });
mkdirSync(assetsDir, { recursive: true });

const { metafile } = await build({
  entryPoints: ["src/main.ts"],
  bundle: true,
  minify: true,
  format: "esm",
  target: "es2020",
  splitting: true,
  outdir: assetsDir,
  entryNames: "[name]-[hash]",
  chunkNames: "[name]-[hash]",
  metafile: true,
  logLevel: "warning",
});

// href is an output's URL relative to index.html.
const href = (output) => relative(staticDir, output).split("\\").join("/");
const outputs = Object.entries(metafile.outputs);
const entry = (source) => {
  const found = outputs.find(([, o]) => o.entryPoint === source);
  if (!found) throw new Error(`esbuild wrote no output for ${source}`);
  return found;
};
const [mainJS, main] = entry("src/main.ts");
const preloads = main.imports.filter((i) => i.kind === "import-statement").map((i) => `./${href(i.path)}`);

const boot = await build({
  entryPoints: ["src/boot.ts"],
  bundle: true,
  minify: true,
  format: "iife",
  target: "es2020",
  write: false,
  logLevel: "warning",
});
await build({
  entryPoints: ["src/sw.ts"],
  bundle: true,
  minify: true,
  format: "iife",
  target: "es2020",
  outfile: join(staticDir, "sw.js"),
  logLevel: "warning",
});
const style = await transform(readFileSync("src/style.css", "utf8"), { loader: "css", minify: true });

// inline returns the text of an inline element, which must not close it.
const inline = (tag, text) => {
  if (text.toLowerCase().includes(`</${tag}`)) throw new Error(`inline <${tag}> would be closed by its own text`);
  return text.trim();
};
let html = readFileSync("src/index.html", "utf8");
for (const [marker, tag] of [
  ["<!-- style -->", `<style>${inline("style", style.code)}</style>`],
  [
    "<!-- boot -->",
    `<script data-app="./${href(mainJS)}" data-preload="${preloads.join(" ")}">` +
      `${inline("script", boot.outputFiles[0].text)}</script>`,
  ],
]) {
  if (!html.includes(marker)) throw new Error(`src/index.html has no ${marker} line`);
  html = html.replace(marker, () => tag);
}
writeFileSync(join(staticDir, "index.html"), html);

// files lists every file under dir, recursively, in a stable order.
function files(dir) {
  return readdirSync(dir)
    .sort()
    .flatMap((name) => {
      const p = join(dir, name);
      return statSync(p).isDirectory() ? files(p) : [p];
    });
}

for (const p of files(staticDir)) {
  if (p.endsWith(".gz") || p.endsWith(".br")) {
    if (!existsSync(p.slice(0, -3))) rmSync(p);
    continue;
  }
  if (!compressible.some((ext) => p.endsWith(ext))) continue;
  const body = readFileSync(p);
  const forms = {
    ".gz": gzipSync(body, { level: 9 }),
    ".br": brotliCompressSync(body, {
      params: {
        [constants.BROTLI_PARAM_QUALITY]: constants.BROTLI_MAX_QUALITY,
        [constants.BROTLI_PARAM_MODE]: constants.BROTLI_MODE_TEXT,
        [constants.BROTLI_PARAM_SIZE_HINT]: body.length,
      },
    }),
  };
  for (const [ext, packed] of Object.entries(forms)) {
    if (packed.length <= body.length * 0.9) {
      writeFileSync(p + ext, packed);
    } else {
      rmSync(p + ext, { force: true });
    }
  }
}
