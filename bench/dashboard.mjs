#!/usr/bin/env node
// Dashboard benchmark, on a private `wrangler dev` (local mode, its own fresh D1):
//  1. a CSV upload of the largest list allowed (50,000 rows by default, a few of them rejected) through the
//     dashboard's form: how long the upload answers, and how long the queued import takes to finish (rows/s), read
//     off the import's own page as an operator watches it;
//  2. the size of every dashboard page once the list is in (the issue asks for each page under 60 KB).
//
//   npm run bench:dashboard                    # 50,000 rows
//   npm run bench:dashboard -- --rows 10000    # a smaller list
//   npm run bench:dashboard -- --json          # one JSON line only
//   flags: --rows N  --json  --verbose (wrangler's output on stderr)
import { randomBytes } from "node:crypto";
import { cliArgs, createDevServer, freePorts, runBenchmark, startWatchdog } from "./lib.mjs";

const GOALS = { pageBytesMax: 60_000 };
const { flag, num } = cliArgs();
if (flag("help")) {
  console.log("usage: node bench/dashboard.mjs [--rows 50000] [--json] [--verbose]");
  process.exit(0);
}
const ROWS = Math.floor(num("rows", 50_000));
const JSON_ONLY = flag("json");
const VERBOSE = flag("verbose");
const say = (...a) => (JSON_ONLY ? undefined : console.log(...a));
const dev = createDevServer({ prefix: "bench-dashboard-", verbose: VERBOSE });
startWatchdog(900, () => dev);

async function main() {
  const { port, inspector } = await freePorts();
  const base = `http://127.0.0.1:${port}`;
  const adminToken = randomBytes(24).toString("hex");
  dev.snapshot();
  const startupS = await dev.start({
    port,
    inspector,
    tokenSecret: randomBytes(32).toString("hex"),
    vars: { ADMIN_TOKEN: adminToken },
    probe: async () => (await fetch(`${base}/health`).catch(() => null))?.ok === true,
  });
  say(`wrangler dev up in ${startupS.toFixed(1)} s`);

  const signIn = await fetch(`${base}/admin/sign-in`, {
    method: "POST",
    headers: { origin: base, "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ token: adminToken }),
    redirect: "manual",
  });
  if (signIn.status !== 303) throw new Error(`sign-in answered ${signIn.status}`);
  const cookie = signIn.headers.get("set-cookie").split(";")[0];
  const get = (path) => fetch(base + path, { headers: { cookie }, redirect: "manual" });

  // The list: ROWS rows, one in a thousand not an address.
  const lines = ["email"];
  for (let i = 0; i < ROWS; i++) lines.push(i % 1000 === 999 ? `not-an-address-${i}` : `reader-${i}@example.org`);
  const csv = `${lines.join("\n")}\n`;
  const rejected = Math.floor(ROWS / 1000);
  const form = new FormData();
  form.append("file", new Blob([csv], { type: "text/csv" }), "list.csv");

  const t0 = performance.now();
  const up = await fetch(`${base}/admin/readers/import`, {
    method: "POST",
    headers: { origin: base, cookie },
    body: form,
    redirect: "manual",
  });
  const uploadS = (performance.now() - t0) / 1000;
  if (up.status !== 303) throw new Error(`upload answered ${up.status}: ${(await up.text()).slice(0, 300)}`);
  const at = new URL(up.headers.get("location")).pathname;
  say(`upload of ${ROWS} rows (${(csv.length / 1024 / 1024).toFixed(2)} MB) answered in ${uploadS.toFixed(2)} s`);

  // Poll the import's page, as its refresh does, until it says done.
  let text = "";
  let polls = 0;
  for (;;) {
    text = await (await get(at)).text();
    polls++;
    if (text.includes("Import done.") || text.includes("Import stopped")) break;
    await new Promise((r) => setTimeout(r, 250));
  }
  const doneS = (performance.now() - t0) / 1000;
  const imported = Number(/Imported<\/th><td class="n">(\d+)</.exec(text)?.[1]);
  const rejectedShown = Number(/Rejected<\/th><td class="n">(\d+)</.exec(text)?.[1]);
  const ok = text.includes("Import done.") && imported === ROWS - rejected && rejectedShown === rejected;
  say(
    `import done in ${doneS.toFixed(1)} s after the upload (${polls} page loads): ${imported} imported, ${rejectedShown} rejected, ${Math.round(imported / doneS)} rows/s${ok ? "" : "  ← WRONG COUNTS"}`,
  );

  // Every page's size, with the list in.
  const pages = {
    overview: "/admin",
    issues: "/admin/issues",
    issue: "/admin/issues/2026-W40",
    subscribers: "/admin/readers",
    subscriber: "/admin/readers?email=reader-0%40example.org",
    import: at,
    settings: "/admin/settings",
    signIn: "/admin/sign-in",
  };
  const sizes = {};
  for (const [name, path] of Object.entries(pages)) {
    const res = await get(path);
    sizes[name] = (await res.arrayBuffer()).byteLength;
    if (res.status !== 200) throw new Error(`${path} answered ${res.status}`);
  }
  const largest = Math.max(...Object.values(sizes));
  say("page sizes (bytes):");
  for (const [name, n] of Object.entries(sizes)) say(`  ${name.padEnd(12)} ${String(n).padStart(7)}`);
  const pagesOk = largest <= GOALS.pageBytesMax;
  say(`largest page ${largest} bytes (goal ≤ ${GOALS.pageBytesMax}) ${pagesOk ? "ok" : "OVER"}`);
  console.log(
    JSON.stringify({
      rows: ROWS,
      uploadS: +uploadS.toFixed(2),
      importS: +doneS.toFixed(1),
      rowsPerS: Math.round(imported / doneS),
      imported,
      rejected: rejectedShown,
      sizes,
      largest,
      ok: ok && pagesOk,
    }),
  );
  return ok && pagesOk;
}

runBenchmark(main, () => dev, { verbose: VERBOSE });
