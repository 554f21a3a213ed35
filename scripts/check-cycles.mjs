// Fails when the Worker's modules import each other in a cycle, file by file or folder by folder (src/digest →
// src/mail → src/digest counts, even when no single file closes the loop). Reads esbuild's metafile of the Worker
// bundle (esbuild ships with wrangler), so it needs no extra dependency. Run by `npm run lint`.
import { build } from "esbuild";

const { metafile } = await build({
  entryPoints: ["src/index.ts"],
  bundle: true,
  write: false,
  metafile: true,
  platform: "neutral",
  format: "esm",
  packages: "external",
  external: ["cloudflare:*"],
  logLevel: "silent",
});

const own = (path) => path.startsWith("src/") || path.startsWith("templates/");
// A folder of src/ is one node; each file at src/'s top (the entry, the app, the config) is a node of its own.
const folder = (path) => {
  const parts = path.split("/");
  return parts[0] === "src" ? `src/${parts[1].replace(/\.ts$/, "")}` : parts[0];
};

function cycles(edges) {
  const found = [];
  const state = new Map(); // 1: on the current path, 2: done
  const walk = (node, path) => {
    state.set(node, 1);
    for (const next of edges.get(node) ?? []) {
      if (state.get(next) === 1) found.push([...path.slice(path.indexOf(next)), next].join(" → "));
      else if (!state.has(next)) walk(next, [...path, next]);
    }
    state.set(node, 2);
  };
  for (const node of edges.keys()) if (!state.has(node)) walk(node, [node]);
  return found;
}

const files = new Map();
const folders = new Map();
for (const [path, input] of Object.entries(metafile.inputs)) {
  if (!own(path)) continue;
  for (const { path: dep } of input.imports) {
    if (!own(dep)) continue;
    files.set(path, [...(files.get(path) ?? []), dep]);
    if (folder(path) !== folder(dep))
      folders.set(folder(path), [...new Set([...(folders.get(folder(path)) ?? []), folder(dep)])]);
  }
}

const problems = [...cycles(files), ...cycles(folders)];
if (problems.length > 0) {
  console.error(`Import cycles:\n  ${problems.join("\n  ")}`);
  process.exit(1);
}
console.log(
  `No import cycles: ${Object.keys(metafile.inputs).filter(own).length} modules; folders ${[...folders].map(([f, deps]) => `${f} → ${deps.join(", ")}`).join("; ")}`,
);
