// Builds the page into static/, which the Go server embeds (web.go):
//
//   - src/main.ts and src/style.css, bundled and minified by esbuild with code
//     splitting into static/assets/, every name carrying a hash of its
//     content (main-<hash>.js, style-<hash>.css, chunk-<hash>.js, and
//     rules-<hash>.js, which main loads after first paint). The server sends
//     them as immutable. static/assets/ is emptied first, so no stale file
//     stays behind.
//   - static/index.html from src/index.html, with the hashed names in place of
//     its "<!-- assets -->" line, and a modulepreload for each chunk that main
//     imports, so the browser fetches them beside main instead of after it.
//   - beside every text file of static/ (openapi.yaml too), its gzip (.gz)
//     and brotli (.br) forms, when they save a tenth or more; a .gz or .br
//     whose source is gone is removed.
//
// The output is deterministic: the same sources give the same bytes, which
// CI checks (.ci/run).
import { build } from "esbuild";
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { brotliCompressSync, constants, gzipSync } from "node:zlib";

const staticDir = "static";
const assetsDir = join(staticDir, "assets");
const compressible = [".html", ".js", ".css", ".yaml", ".json", ".svg", ".txt"];

rmSync(assetsDir, { recursive: true, force: true });
mkdirSync(assetsDir, { recursive: true });

const { metafile } = await build({
  entryPoints: ["src/main.ts", "src/style.css"],
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
const [styleCSS] = entry("src/style.css");
const preloads = main.imports.filter((i) => i.kind === "import-statement").map((i) => i.path);

const template = readFileSync("src/index.html", "utf8");
const marker = "<!-- assets -->";
if (!template.includes(marker)) throw new Error(`src/index.html has no ${marker} line`);
const tags = [
  `<link rel="stylesheet" href="${href(styleCSS)}">`,
  ...preloads.map((p) => `<link rel="modulepreload" href="${href(p)}">`),
  `<script type="module" src="${href(mainJS)}"></script>`,
].join("\n");
writeFileSync(join(staticDir, "index.html"), template.replace(marker, tags));

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
