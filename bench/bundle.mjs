#!/usr/bin/env node
// Bundle-size benchmark: builds the Worker exactly as `wrangler deploy` would (dry run, minified, offline,
// no account needed), then reports the raw and gzip (zlib level 9) size of the bundle against the goal,
// and which packages / source folders contribute the most bytes (from esbuild's metafile).
//
//   npm run bench:bundle              # table
//   npm run bench:bundle -- --json    # one JSON line only
//   npm run bench:bundle -- --top 15  # more contributors
//   npm run bench:bundle -- --keep    # keep the temp output dir (path is printed)
import { spawn } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync, constants as zc } from "node:zlib";

const GOAL_GZIP_KIB = 100;
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const BIN = join(ROOT, "node_modules", ".bin");

const args = process.argv.slice(2);
const flag = (name) => args.includes(`--${name}`);
const opt = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] !== undefined ? args[i + 1] : dflt;
};
if (flag("help")) {
  console.log("usage: node bench/bundle.mjs [--json] [--top N] [--keep]");
  process.exit(0);
}
const JSON_ONLY = flag("json");
const TOP = Number(opt("top", 10));
const KEEP = flag("keep");
const log = (...a) => {
  if (!JSON_ONLY) console.log(...a);
};

const kib = (n) => n / 1024;
const fmt = (n) => kib(n).toFixed(2);

function run(cmd, argv) {
  return new Promise((res, rej) => {
    const child = spawn(cmd, argv, {
      cwd: ROOT,
      env: {
        ...process.env,
        PATH: `${BIN}:${process.env.PATH}`,
        WRANGLER_SEND_METRICS: "false",
        CI: "1",
        NO_COLOR: "1",
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => (out += d));
    const timer = setTimeout(() => child.kill("SIGKILL"), 120_000);
    child.on("error", rej);
    child.on("close", (code) => {
      clearTimeout(timer);
      code === 0 ? res(out) : rej(new Error(`${cmd} ${argv.join(" ")} exited with ${code}\n${out}`));
    });
  });
}

/** "node_modules/@scope/pkg/x.js" → "@scope/pkg"; "src/routes/a.ts" → "src/routes"; wrangler shims → "(wrangler)". */
function ownerOf(path) {
  const nm = path.lastIndexOf("node_modules/");
  if (nm >= 0) {
    const parts = path.slice(nm + "node_modules/".length).split("/");
    return parts[0].startsWith("@") ? `${parts[0]}/${parts[1]}` : parts[0];
  }
  if (path.startsWith("src/") || path.startsWith("templates/")) {
    const parts = path.split("/");
    return parts.length > 2 ? `${parts[0]}/${parts[1]}` : parts[0];
  }
  return "(wrangler/esbuild glue)";
}

const outdir = mkdtempSync(join(tmpdir(), "bench-bundle-"));
const cleanup = () => {
  if (!KEEP) rmSync(outdir, { recursive: true, force: true });
};
process.on("SIGINT", () => {
  cleanup();
  process.exit(130);
});

try {
  const metafile = join(outdir, "bundle-meta.json");
  const wranglerOut = await run(join(BIN, "wrangler"), [
    "deploy",
    "--dry-run",
    "--outdir",
    outdir,
    "--minify",
    "--metafile",
    metafile,
  ]);
  const wranglerVersion = /wrangler (\d+\.\d+\.\d+)/.exec(wranglerOut)?.[1] ?? null;
  const wranglerReported = /Total Upload: ([\d.]+) KiB \/ gzip: ([\d.]+) KiB/.exec(wranglerOut);

  // The worker bundle: the .js/.mjs file(s) in outdir (not the source map, not the metafile).
  const files = readdirSync(outdir).filter((f) => /\.(m?js|wasm)$/.test(f));
  if (files.length === 0) throw new Error(`no bundle found in ${outdir}: ${readdirSync(outdir).join(", ")}`);
  let raw = 0;
  const parts = [];
  for (const f of files) parts.push(readFileSync(join(outdir, f)));
  const all = Buffer.concat(parts);
  raw = all.length;
  const gzip = gzipSync(all, { level: zc.Z_BEST_COMPRESSION }).length;
  const mainFile = files.sort((a, b) => statSync(join(outdir, b)).size - statSync(join(outdir, a)).size)[0];

  // Contributors, from esbuild's metafile (bytes in the minified output, before gzip).
  let contributors = null;
  let viaDependency = null;
  try {
    const meta = JSON.parse(readFileSync(metafile, "utf8"));
    const outKey = Object.keys(meta.outputs).find((k) => k.endsWith(mainFile));
    const inputs = meta.outputs[outKey].inputs;
    const byOwner = new Map();
    for (const [path, v] of Object.entries(inputs))
      byOwner.set(ownerOf(path), (byOwner.get(ownerOf(path)) ?? 0) + v.bytesInOutput);
    contributors = [...byOwner.entries()]
      .sort((a, b) => b[1] - a[1])
      .map(([name, bytes]) => ({ name, bytes, kib: +fmt(bytes), share: +(bytes / raw).toFixed(3) }));

    // Attribute transitive packages to the direct dependency (or our own folder) that pulls them in:
    // walk the import graph from the entry point; a package first reached from a non-package file is "direct".
    const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8"));
    const direct = new Set(Object.keys(pkg.dependencies ?? {}));
    const entry = meta.outputs[outKey].entryPoint;
    const via = new Map([[entry, null]]);
    const queue = [entry];
    while (queue.length) {
      const file = queue.shift();
      const from = via.get(file);
      for (const imp of meta.inputs[file]?.imports ?? []) {
        if (!imp.path || imp.external || via.has(imp.path)) continue;
        const owner = ownerOf(imp.path);
        const isPkg = imp.path.includes("node_modules/");
        via.set(imp.path, from ?? (isPkg ? (direct.has(owner) ? owner : `${owner} (imported by own code)`) : null));
        queue.push(imp.path);
      }
    }
    const byDirect = new Map();
    for (const [path, v] of Object.entries(inputs)) {
      const key = via.get(path) ?? (path.includes("node_modules/") ? ownerOf(path) : "(own code: src/, templates/)");
      byDirect.set(key, (byDirect.get(key) ?? 0) + v.bytesInOutput);
    }
    viaDependency = [...byDirect.entries()]
      .sort((a, b) => b[1] - a[1])
      .map(([name, bytes]) => ({ name, bytes, kib: +fmt(bytes), share: +(bytes / raw).toFixed(3) }));
  } catch (err) {
    log(`(no metafile breakdown: ${err.message})`);
  }

  const result = {
    bench: "bundle",
    file: mainFile,
    files,
    raw_bytes: raw,
    gzip_bytes: gzip,
    raw_kib: +fmt(raw),
    gzip_kib: +fmt(gzip),
    goal_gzip_kib: GOAL_GZIP_KIB,
    pass: kib(gzip) <= GOAL_GZIP_KIB,
    wrangler_version: wranglerVersion,
    wrangler_reported: wranglerReported ? { total_kib: +wranglerReported[1], gzip_kib: +wranglerReported[2] } : null,
    node: process.version,
    top_packages: contributors?.slice(0, TOP) ?? null,
    by_direct_dependency: viaDependency?.slice(0, TOP) ?? null,
  };

  if (JSON_ONLY) {
    console.log(JSON.stringify(result));
  } else {
    log(`Worker bundle (wrangler ${wranglerVersion}, deploy --dry-run --minify), node ${process.version}`);
    log(`  file        ${files.join(", ")}${KEEP ? `  (kept in ${outdir})` : ""}`);
    log(`  raw         ${fmt(raw)} KiB (${raw} bytes)`);
    log(
      `  gzip -9     ${fmt(gzip)} KiB (${gzip} bytes)   goal ≤ ${GOAL_GZIP_KIB} KiB gzip: ${result.pass ? "PASS" : "FAIL"}`,
    );
    if (wranglerReported)
      log(`  (wrangler's own figure: ${wranglerReported[1]} KiB / gzip ${wranglerReported[2]} KiB)`);
    if (contributors) {
      log(`\nBiggest contributors (minified bytes in the bundle, before gzip):`);
      for (const c of contributors.slice(0, TOP))
        log(`  ${c.kib.toFixed(2).padStart(8)} KiB  ${(c.share * 100).toFixed(1).padStart(5)}%  ${c.name}`);
    }
    if (viaDependency) {
      log(`\nBy direct dependency (transitive packages counted under the dependency that imports them):`);
      for (const c of viaDependency.slice(0, TOP))
        log(`  ${c.kib.toFixed(2).padStart(8)} KiB  ${(c.share * 100).toFixed(1).padStart(5)}%  ${c.name}`);
    }
    log(`\n${JSON.stringify(result)}`);
  }
  cleanup();
  process.exit(0);
} catch (err) {
  console.error(String(err?.stack ?? err));
  cleanup();
  process.exit(1);
}
