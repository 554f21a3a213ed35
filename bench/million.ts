// Million-subscriber digest benchmark: one weekly issue fanned out to N (default 1,000,000) subscribers through a
// private `wrangler dev` (local D1, local queues) and an unthrottled Resend emulator (real HTTP on loopback), with
// every queue invocation of the Worker measured: subrequests, wall time and an upper bound of its CPU time.
//
//   npm run bench:million                                   # N = 1,000,000 (about 12 min on 2 cores, ~1,600 emails/s)
//   npm run bench:million -- --subscribers 20000            # a quick run
//   flags: --subscribers N (1000000)  --digest-size K (DIGEST_SIZE var: papers per email; default: the Worker's, 10)
//          --timeout S (global watchdog, 5400)  --json (one JSON line only)  --verbose (wrangler's output on stderr)
//
// What it does (like bench/digest.ts, see there):
//  1. bundles the worker into a temp snapshot (bench/lib.mjs), fresh local D1 with the migrations applied;
//  2. starts its own Resend emulator (test/emulators/resend.ts) on a free loopback port, in countOnly mode for a
//     fresh key `re_bench_…` (a million emails are only counted per recipient), behind a thin front that validates
//     each call, hands the emulator a slim copy (the emulator keeps each body with its idempotency key: ~20 GB at a
//     million; see startResend) and checks each accepted call's recipients against the imported list;
//  3. starts `wrangler dev` with RESEND_MAX_RPS=0, PAPERS_SOURCE=sample, LOG_INVOCATIONS=1 and --log-level log, so
//     every queue invocation prints one `invocation {…}` line (src/index.ts, src/lib/meter.ts), read from its output;
//  4. imports N active subscribers (POST /admin/subscribers/import, 50,000 rows per request) and checks
//     GET /admin/stats;
//  5. samples the server's process-group CPU (/proc, every 50 ms, in a worker thread so a busy event loop here does
//     not delay the samples) and attributes to each invocation the CPU the whole group used between its `started`
//     and `ended` — an UPPER BOUND: workerd has no CPU clock, and the group also runs local D1 (SQLite), the queue
//     broker, the Durable Object, wrangler's proxy and every other invocation running at the same time (Miniflare's
//     queue broker delivers one batch at a time whatever max_concurrency says, so in practice there are none);
//  6. POST /admin/digests/2026-W47/send, polls GET /admin/digests/2026-W47 until sent / failed / skipped, waits
//     until the queues are quiet, then checks exactly-once delivery in the emulator and reports.

import { spawnSync } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import type { AddressInfo } from "node:net";
import os from "node:os";
import { join } from "node:path";
import { Worker } from "node:worker_threads";
import { serve } from "@hono/node-server";
import type { runRecord } from "../src/routes/digests";
import { createResendEmulator, type EmulatorStats, validateEmail } from "../test/emulators/resend";
import {
  childEnv,
  cliArgs,
  createDevServer,
  fetchJson,
  freePorts,
  groupCpuMs,
  REPO,
  runBenchmark,
  runWrangler,
  startWatchdog,
  // @ts-expect-error plain ESM shared by the benchmarks, without type declarations
} from "./lib.mjs";

const WEEK = "2026-W47";
const GOALS = { maxSubrequests: 1000, maxCpuMs: 30_000 };
const IMPORT_CHUNK = 50_000; // the import endpoint's row limit (5 MiB limit: ~35 bytes per row here)
const SAMPLE_MS = 50;

// ---------- arguments ----------
const { flag, num } = cliArgs() as { flag: (n: string) => boolean; num: (n: string, d: number) => number };
if (flag("help")) {
  console.log(
    "usage: tsx bench/million.ts [--subscribers 1000000] [--digest-size K] [--timeout 5400] [--json] [--verbose]",
  );
  process.exit(0);
}
const N = Math.floor(num("subscribers", 1_000_000));
const DIGEST_SIZE =
  flag("digest-size") || process.argv.some((a) => a.startsWith("--digest-size="))
    ? Math.floor(num("digest-size", 10))
    : null;
const TIMEOUT_S = num("timeout", 5400);
const JSON_ONLY = flag("json");
const VERBOSE = flag("verbose");
const COMMAND = `npm run bench:million${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(" ")}` : ""}`;

const say = (...a: unknown[]) => {
  if (!JSON_ONLY) console.log(...a);
};
const note = (...a: unknown[]) => {
  if (!JSON_ONLY) console.error(...a);
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const r1 = (x: number) => Math.round(x * 10) / 10;
const r3 = (x: number) => Math.round(x * 1000) / 1000;
const fmt = (x: number) => (Number.isFinite(x) ? x.toLocaleString("en-US", { maximumFractionDigits: 1 }) : String(x));

// ---------- process management (bench/lib.mjs) ----------
type DevServer = ReturnType<typeof createDevServer>;
let dev: DevServer | null = null;
let sampler: Worker | null = null;

startWatchdog(TIMEOUT_S, () => dev);
const http = fetchJson;

// ---------- the Resend emulator, with a recipient check in front ----------
/**
 * The emulator of test/emulators/resend.ts, served here behind a thin front that keeps a million emails cheap:
 *
 * - The emulator keeps every request body with its idempotency key (for replays and conflicts, 24 h), countOnly mode
 *   or not: about 2 MB per call with the default digest, ~20 GB for a million subscribers. So the front validates
 *   each email itself (the emulator's own `validateEmail`) and hands the emulator a slim copy of the call: the same
 *   key, auth, path and recipients, with the content replaced by its SHA-1 (in the first email's subject), so the
 *   same body still replays and a different body under the same key is still a conflict. A call that is not valid
 *   JSON or has an invalid email goes through unchanged, for the emulator to answer.
 * - It checks the recipients of every call answered 200 against the imported list: `seen[i]` counts the calls that
 *   carried subscriber i (a replay would count again: none are expected unthrottled), `strangers` the addresses not
 *   on the list. The emulator's own per-recipient counts (countOnly) are read at the end as well.
 */
async function startResend(runId: string, n: number) {
  const emulator = createResendEmulator();
  const prefix = `bench-${runId}-`;
  const suffix = "@example.com";
  const seen = new Uint8Array(n);
  const check = {
    calls200: 0,
    callsOther: 0,
    passedThrough: 0,
    bytes: 0,
    maxBytes: 0,
    slimBytes: 0,
    emails: 0,
    strangers: 0,
    strangerSamples: [] as string[],
    unchecked: 0,
  };
  const handler = async (req: Request, env: unknown) => {
    const path = new URL(req.url).pathname;
    const batch = path === "/emails/batch";
    if (req.method !== "POST" || (!batch && path !== "/emails")) return emulator.fetch(req, env as never);
    const raw = await req.text();
    check.bytes += raw.length;
    check.maxBytes = Math.max(check.maxBytes, raw.length);
    let slim: string | null = null;
    let recipients: unknown[] = [];
    try {
      const body: unknown = JSON.parse(raw);
      const items = batch ? body : [body];
      if (
        Array.isArray(items) &&
        items.length >= 1 &&
        items.length <= 100 &&
        items.every((e) => validateEmail(e, batch) === null)
      ) {
        const sha1 = createHash("sha1").update(raw).digest("hex");
        const copies = (items as { from: string; to: unknown }[]).map((e, i) => ({
          from: e.from,
          to: e.to,
          subject: i === 0 ? `sha1:${sha1}` : "-",
          text: "",
        }));
        slim = JSON.stringify(batch ? copies : copies[0]);
        recipients = (items as { to: unknown }[]).flatMap((e) => (Array.isArray(e.to) ? e.to : [e.to]));
      }
    } catch {
      /* not JSON: the emulator answers it */
    }
    if (slim === null) check.passedThrough++;
    else check.slimBytes += slim.length;
    const headers = new Headers(req.headers);
    headers.delete("content-length");
    const res = await emulator.fetch(
      new Request(req.url, { method: "POST", headers, body: slim ?? raw }),
      env as never,
    );
    if (res.status !== 200) {
      check.callsOther++;
      return res;
    }
    check.calls200++;
    if (slim === null) {
      check.unchecked++;
      return res;
    }
    for (const to of recipients) {
      check.emails++;
      const mid =
        typeof to === "string" && to.startsWith(prefix) && to.endsWith(suffix)
          ? to.slice(prefix.length, -suffix.length)
          : "";
      const i = /^(0|[1-9][0-9]*)$/.test(mid) ? Number(mid) : -1;
      if (i >= 0 && i < n) {
        if (seen[i]! < 255) seen[i]!++;
      } else {
        check.strangers++;
        if (check.strangerSamples.length < 5) check.strangerSamples.push(String(to).slice(0, 100));
      }
    }
    return res;
  };
  const server = await new Promise<{ url: string; close: () => Promise<void> }>((resolve) => {
    const s = serve({ fetch: handler, port: 0, hostname: "127.0.0.1" }, (info: AddressInfo) =>
      resolve({
        url: `http://127.0.0.1:${info.port}`,
        close: () => new Promise<void>((done) => s.close(() => done())),
      }),
    );
    (s as { unref?: () => void }).unref?.();
  });
  return { ...server, seen, check };
}

// ---------- CPU / memory sampler ----------
// Each sample: wall clock (ms), CPU of the server's process group (ms), CPU of its workerd processes only (ms),
// RSS of the group (MiB), RSS of this benchmark process (MiB). Written into shared memory by a worker thread.
const FIELDS = 5;
const SAMPLER_CODE = `
const { workerData } = require("node:worker_threads");
const { readdirSync, readFileSync } = require("node:fs");
const { sab, pgid, tck, pageSize, intervalMs, selfPid, capacity, fields } = workerData;
const count = new Int32Array(sab, 0, 2); // [samples written, stop flag]
const data = new Float64Array(sab, 8);
function sample() {
  let cpu = 0, workerd = 0, rss = 0, self = 0;
  for (const pid of readdirSync("/proc")) {
    if (pid.charCodeAt(0) > 57) continue;
    let stat;
    try { stat = readFileSync("/proc/" + pid + "/stat", "latin1"); } catch { continue; }
    const close = stat.lastIndexOf(")");
    const f = stat.slice(close + 2).split(" ");
    if (Number(pid) === selfPid) self = (Number(f[21]) * pageSize) / 1048576;
    if (Number(f[2]) !== pgid) continue;
    const ms = ((Number(f[11]) + Number(f[12])) * 1000) / tck;
    cpu += ms;
    if (stat.slice(stat.indexOf("(") + 1, close).startsWith("workerd")) workerd += ms;
    rss += (Number(f[21]) * pageSize) / 1048576;
  }
  const i = Atomics.load(count, 0);
  if (i >= capacity) return;
  data.set([Date.now(), cpu, workerd, rss, self], i * fields);
  Atomics.store(count, 0, i + 1);
}
(function loop() {
  if (Atomics.load(count, 1) === 1) return;
  sample();
  setTimeout(loop, intervalMs);
})();
`;

function startSampler(pgid: number) {
  const capacity = Math.ceil((TIMEOUT_S * 1000) / SAMPLE_MS) + 1000;
  const sab = new SharedArrayBuffer(8 + capacity * FIELDS * 8);
  const conf = (name: string, dflt: number) =>
    Number(spawnSync("getconf", [name], { encoding: "utf8" }).stdout?.trim()) || dflt;
  sampler = new Worker(SAMPLER_CODE, {
    eval: true,
    workerData: {
      sab,
      pgid,
      tck: conf("CLK_TCK", 100),
      pageSize: conf("PAGESIZE", 4096),
      intervalMs: SAMPLE_MS,
      selfPid: process.pid,
      capacity,
      fields: FIELDS,
    },
  });
  sampler.unref();
  const count = new Int32Array(sab, 0, 2);
  const data = new Float64Array(sab, 8);
  return {
    /** The samples so far, as columns. */
    read() {
      const n = Atomics.load(count, 0);
      const col = (k: number) => Float64Array.from({ length: n }, (_, i) => data[i * FIELDS + k]!);
      return { t: col(0), cpu: col(1), workerd: col(2), rss: col(3), self: col(4) };
    },
    last() {
      const n = Atomics.load(count, 0);
      return n ? Array.from(data.subarray((n - 1) * FIELDS, n * FIELDS)) : null;
    },
    stop() {
      Atomics.store(count, 1, 1);
      void sampler?.terminate();
      sampler = null;
    },
  };
}
type Samples = ReturnType<ReturnType<typeof startSampler>["read"]>;

/** Index of the last sample at or before t (-1 if none). */
function floorIndex(t: Float64Array, x: number) {
  let lo = 0;
  let hi = t.length - 1;
  let ans = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (t[mid]! <= x) {
      ans = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return ans;
}
/** A counter's value at time x, linearly interpolated between samples (clamped at the ends). */
function valueAt(t: Float64Array, v: Float64Array, x: number) {
  const i = floorIndex(t, x);
  if (i < 0) return v[0]!;
  if (i >= t.length - 1) return v[t.length - 1]!;
  const f = (x - t[i]!) / (t[i + 1]! - t[i]!);
  return v[i]! + f * (v[i + 1]! - v[i]!);
}

// ---------- invocation lines ----------
interface InvocationLine {
  consumer: string;
  messages: number;
  started: number;
  ended: number;
  subrequests: number;
  d1: number;
  queue: number;
  limiter?: number; // newer lines (src/lib/meter.ts)
  budget: number;
  resend: number;
}
interface Invocation extends InvocationLine {
  kind: "fanout" | "batch" | "mail";
  /** Contains a fan-out message and also sent batches (a mixed delivery). */
  mixed: boolean;
  wallMs: number;
  cpuMs: number; // group CPU between started and ended, interpolated (the upper bound reported)
  cpuOuterMs: number; // group CPU between the samples enclosing [started, ended] (looser still)
  workerdMs: number; // workerd processes only, interpolated
  shareMs: number; // estimate: group CPU split between the invocations running at the same time
  overlap: number; // how many other invocations overlapped it
}

/**
 * The line carries no message kinds, so they are told apart by what the invocation asked for: batch messages call
 * the send budget (and Resend) and never queue anything; a fan-out queues its batches (all but the last fan-out) and
 * calls no budget. An invocation that queued and also called the budget carried both kinds (mixed).
 */
function classify(l: InvocationLine): Pick<Invocation, "kind" | "mixed"> {
  if (!l.consumer.startsWith("papers-digest")) return { kind: "mail", mixed: false };
  const sends = l.budget > 0 || l.resend > 0;
  if (l.queue > 0 || !sends) return { kind: "fanout", mixed: sends };
  return { kind: "batch", mixed: false };
}

function lineReader(onLine: (l: string) => void) {
  let buf = "";
  return (chunk: string) => {
    buf += chunk;
    for (let nl = buf.indexOf("\n"); nl >= 0; nl = buf.indexOf("\n")) {
      onLine(buf.slice(0, nl));
      buf = buf.slice(nl + 1);
    }
    if (buf.length > 1 << 20) buf = buf.slice(-(1 << 16)); // no newline in a megabyte: not a log line
  };
}

function attribute(lines: InvocationLine[], s: Samples): Invocation[] {
  const { t, cpu, workerd } = s;
  const invs: Invocation[] = lines.map((l) => {
    const lo = floorIndex(t, l.started);
    let hi = floorIndex(t, l.ended);
    if (hi < 0 || t[hi]! < l.ended) hi = Math.min(hi + 1, t.length - 1);
    return {
      ...l,
      ...classify(l),
      wallMs: l.ended - l.started,
      cpuMs: Math.max(0, valueAt(t, cpu, l.ended) - valueAt(t, cpu, l.started)),
      cpuOuterMs: t.length ? Math.max(0, cpu[Math.max(hi, 0)]! - cpu[Math.max(lo, 0)]!) : NaN,
      workerdMs: Math.max(0, valueAt(t, workerd, l.ended) - valueAt(t, workerd, l.started)),
      shareMs: 0,
      overlap: 0,
    };
  });
  // Fair-share estimate: each sample interval's group CPU is split between the invocations running in it, in
  // proportion to how much of the interval each covered (never more than the interval's CPU in total).
  const load = new Float64Array(Math.max(t.length - 1, 0));
  const cover = (inv: Invocation, fn: (k: number, frac: number) => void) => {
    if (inv.ended <= inv.started || t.length < 2) return;
    for (let k = Math.max(floorIndex(t, inv.started), 0); k < t.length - 1 && t[k]! < inv.ended; k++) {
      const ov = Math.min(inv.ended, t[k + 1]!) - Math.max(inv.started, t[k]!);
      if (ov > 0) fn(k, ov / (t[k + 1]! - t[k]!));
    }
  };
  for (const inv of invs) cover(inv, (k, f) => (load[k]! += f));
  for (const inv of invs)
    cover(inv, (k, f) => (inv.shareMs += (Math.max(0, cpu[k + 1]! - cpu[k]!) * f) / Math.max(load[k]!, 1)));
  // Overlaps (sweep over start/end events).
  const byStart = invs.map((inv, i) => ({ i, s: inv.started, e: inv.ended })).sort((a, b) => a.s - b.s);
  for (let a = 0; a < byStart.length; a++)
    for (let b = a + 1; b < byStart.length && byStart[b]!.s < byStart[a]!.e; b++) {
      invs[byStart[a]!.i]!.overlap++;
      invs[byStart[b]!.i]!.overlap++;
    }
  return invs;
}

function maxConcurrency(invs: Invocation[]) {
  const ev = invs
    .flatMap((i) => [
      [i.started, 1],
      [i.ended, -1],
    ])
    .sort((a, b) => a[0]! - b[0]! || a[1]! - b[1]!);
  let cur = 0;
  let max = 0;
  for (const [, d] of ev) {
    cur += d!;
    max = Math.max(max, cur);
  }
  return max;
}

/** Nearest-rank percentiles. */
function dist(values: number[]) {
  const v = values.filter(Number.isFinite).sort((a, b) => a - b);
  const p = (q: number) => (v.length ? v[Math.max(0, Math.ceil((q / 100) * v.length) - 1)]! : NaN);
  return {
    n: v.length,
    p50: r1(p(50)),
    p99: r1(p(99)),
    max: r1(v.length ? v[v.length - 1]! : NaN),
    sum: r1(v.reduce((a, b) => a + b, 0)),
  };
}
type Dist = ReturnType<typeof dist>;

/** Medians of the first and the last tenth of the invocations (in start order): does an invocation cost more late in the run? */
function trend(invs: Invocation[]) {
  const sorted = [...invs].sort((a, b) => a.started - b.started);
  const k = Math.max(1, Math.floor(sorted.length / 10));
  const med = (xs: Invocation[], f: (i: Invocation) => number) => dist(xs.map(f)).p50;
  const part = (xs: Invocation[]) => ({
    subrequests: med(xs, (i) => i.subrequests),
    d1: med(xs, (i) => i.d1),
    wall_ms: med(xs, (i) => i.wallMs),
    cpu_ms_upper: med(xs, (i) => i.cpuMs),
  });
  return { first_tenth: part(sorted.slice(0, k)), last_tenth: part(sorted.slice(-k)) };
}

function summarize(invs: Invocation[]) {
  const of = (k: (i: Invocation) => number) => dist(invs.map(k));
  return {
    trend: trend(invs),
    invocations: invs.length,
    mixed: invs.filter((i) => i.mixed).length,
    messages: of((i) => i.messages),
    subrequests: of((i) => i.subrequests),
    d1: of((i) => i.d1),
    queue: of((i) => i.queue),
    budget: of((i) => i.budget),
    resend: of((i) => i.resend),
    wall_ms: of((i) => i.wallMs),
    cpu_ms_upper: of((i) => i.cpuMs),
    cpu_ms_upper_outer: of((i) => i.cpuOuterMs),
    cpu_ms_workerd: of((i) => i.workerdMs),
    cpu_ms_share: of((i) => i.shareMs),
    overlapping: of((i) => i.overlap),
  };
}

type RunRecord = ReturnType<typeof runRecord>;

/** Which code the snapshot was taken from: the commit, and the files under test that differed from it then. */
function codeUnderTest() {
  const git = (...a: string[]) => spawnSync("git", a, { cwd: REPO, encoding: "utf8" }).stdout?.trim() ?? "";
  const dirty = git("status", "--porcelain", "--", "src", "templates", "migrations", "wrangler.toml", "package.json")
    .split("\n")
    .filter(Boolean);
  return { commit: git("rev-parse", "--short", "HEAD") || null, uncommitted: dirty.map((l) => l.slice(3)) };
}

/** The papers-digest consumer's settings in the snapshot's wrangler.toml (max_concurrency decides how much invocations overlap). */
function digestConsumerConfig(toml: string) {
  const block =
    toml.split(/^\[\[/m).find((b) => b.startsWith("queues.consumers]]") && /^queue\s*=\s*"papers-digest"/m.test(b)) ??
    "";
  const val = (k: string) => {
    const m = block.match(new RegExp(`^${k}\\s*=\\s*([0-9.]+)`, "m"));
    return m ? Number(m[1]) : null;
  };
  return {
    max_batch_size: val("max_batch_size"),
    max_batch_timeout: val("max_batch_timeout"),
    max_concurrency: val("max_concurrency"),
    max_retries: val("max_retries"),
  };
}

// ---------- the run ----------
async function run() {
  const runId = randomBytes(3).toString("hex");
  const apiKey = `re_bench_${randomBytes(12).toString("hex")}`;
  const adminToken = randomBytes(24).toString("hex");
  const auth = { Authorization: `Bearer ${adminToken}` };
  const email = (i: number) => `bench-${runId}-${i}@example.com`;

  const resend = await startResend(runId, N);
  const cfg = await http(resend.url, "POST", "/_emulator/config", {
    headers: { Authorization: `Bearer ${apiKey}`, "Content-Type": "application/json" },
    body: JSON.stringify({ countOnly: true, keepBodies: false, rateLimit: null }),
  });
  if (cfg.status !== 200 || cfg.json?.countOnly !== true)
    throw new Error(`emulator config failed: ${cfg.status} ${cfg.text}`);

  dev = createDevServer({ prefix: "bench-million-", verbose: VERBOSE, note }) as DevServer;
  const code = codeUnderTest();
  dev.snapshot();
  const consumerConfig = digestConsumerConfig(readFileSync(join(dev.dirs().appDir, "wrangler.toml"), "utf8"));
  const { port, inspector } = await freePorts();
  const base = `http://127.0.0.1:${port}`;

  // Invocation lines and worker errors, from wrangler's output.
  const lines: InvocationLine[] = [];
  let malformed = 0;
  const malformedSamples: string[] = [];
  const errors: string[] = [];
  let errorLines = 0;
  const LINE = /invocation (\{"consumer".*?"resend":\d+\})/;
  dev.onOutput(
    lineReader((l) => {
      const i = l.indexOf("invocation {");
      if (i >= 0) {
        const m = l.match(LINE);
        try {
          lines.push(JSON.parse(m ? m[1]! : l.slice(i + 11)) as InvocationLine);
        } catch {
          malformed++;
          if (malformedSamples.length < 3) malformedSamples.push(l.slice(0, 300));
        }
      } else if (
        /digest: |mail: |✘|\bERROR\b|Uncaught|exceeded/i.test(l) &&
        !/workers\.cloudflare\.com|Request\.cf/.test(l)
      ) {
        errorLines++;
        if (errors.length < 12) {
          errors.push(l.slice(0, 400));
          note(`  worker: ${l.slice(0, 400)}`);
        }
      }
    }),
  );

  say(
    `\nN=${fmt(N)}, DIGEST_SIZE=${DIGEST_SIZE ?? "default"}, RESEND_MAX_RPS=0, emulator ${resend.url} (countOnly, unthrottled): wrangler dev on ${base} (inspector ${inspector})…`,
  );
  const startupS = await dev.start({
    port,
    inspector,
    tokenSecret: randomBytes(32).toString("hex"),
    probe: async () => (await http(base, "GET", "/health", { timeoutMs: 2000 })).status === 200,
    vars: {
      ADMIN_TOKEN: adminToken,
      RESEND_API_KEY: apiKey,
      RESEND_BASE_URL: resend.url,
      RESEND_MAX_RPS: "0",
      PAPERS_SOURCE: "sample",
      LOG_INVOCATIONS: "1",
      ...(DIGEST_SIZE ? { DIGEST_SIZE: String(DIGEST_SIZE) } : {}),
    },
    // The worker's console.log reaches wrangler's output at level "log" (wrangler's handleStructuredLogs).
    logLevel: "log",
  });
  const samples = startSampler(dev.pid);

  // Import N subscribers, 50,000 rows per request.
  const ti = performance.now();
  let imported = 0;
  let lastImportLine = Date.now();
  for (let i = 0; i < N; i += IMPORT_CHUNK) {
    const rows: string[] = [];
    for (let j = i; j < Math.min(N, i + IMPORT_CHUNK); j++) rows.push(email(j));
    const csv = `email\n${rows.join("\n")}\n`;
    const r = await http(base, "POST", "/admin/subscribers/import", {
      headers: { ...auth, "Content-Type": "text/csv" },
      body: csv,
      timeoutMs: 600_000,
    });
    if (r.status !== 200)
      throw new Error(`import of rows ${i}…${i + rows.length - 1} failed: ${r.status} ${r.text.slice(0, 500)}`);
    if (r.json.imported !== rows.length)
      throw new Error(`import of rows ${i}…${i + rows.length - 1}: ${JSON.stringify(r.json).slice(0, 500)}`);
    imported += r.json.imported;
    if (Date.now() - lastImportLine > 10_000) {
      lastImportLine = Date.now();
      note(`  … import: ${fmt(imported)}/${fmt(N)} after ${((performance.now() - ti) / 1000).toFixed(0)} s`);
    }
  }
  const importS = (performance.now() - ti) / 1000;
  const ts = performance.now();
  const stats = await http(base, "GET", "/admin/stats", { headers: auth, timeoutMs: 600_000 });
  const statsS = (performance.now() - ts) / 1000;
  const active = stats.json?.subscribers?.active;
  if (imported !== N || active !== N)
    throw new Error(
      `import: ${imported} imported, /admin/stats: ${stats.status} active ${active} (${stats.text.slice(0, 300)}), expected ${N}`,
    );
  say(
    `ready after ${startupS.toFixed(1)} s; imported ${fmt(imported)} subscribers in ${importS.toFixed(1)} s; /admin/stats shows ${fmt(active)} active (${statsS.toFixed(1)} s); sending ${WEEK}…`,
  );

  // Trigger and poll.
  const linesBefore = lines.length;
  const cpu0 = groupCpuMs(dev.pid);
  const tTrigger = Date.now();
  const trig = await http(base, "POST", `/admin/digests/${WEEK}/send`, { headers: auth });
  if (trig.status !== 202) throw new Error(`send trigger failed: ${trig.status} ${trig.text.slice(0, 500)}`);
  let rec: RunRecord = trig.json;
  let tObserved = NaN;
  let lastLine = Date.now();
  const runTimeoutMs = TIMEOUT_S * 1000;
  for (;;) {
    const r = await http(base, "GET", `/admin/digests/${WEEK}`, { headers: auth });
    if (r.status === 200) rec = r.json;
    if (["sent", "failed", "skipped"].includes(rec.status)) {
      tObserved = Date.now();
      break;
    }
    if (Date.now() - tTrigger > runTimeoutMs) break;
    if (!JSON_ONLY && Date.now() - lastLine >= 10_000) {
      lastLine = Date.now();
      const got = lines.slice(linesBefore);
      const last = samples.last();
      note(
        `  … ${((Date.now() - tTrigger) / 1000).toFixed(0)} s: ${rec.status}, ${fmt(rec.sent)}/${fmt(N)} sent, ${fmt(rec.batches_sent)}/${fmt(rec.batches)} batches, ${fmt(rec.api_calls)} calls, ${rec.retries} retries; ` +
          `${got.length} invocations, max ${Math.max(0, ...got.map((l) => l.subrequests))} subrequests; server RSS ${last ? Math.round(last[3]!) : "?"} MiB, bench RSS ${Math.round(process.memoryUsage().rss / 2 ** 20)} MiB`,
      );
    }
    await sleep(1000);
  }
  const timedOut = Number.isNaN(tObserved);

  // Stray work (a duplicate or late message) would show up now: wait until no invocation line for 5 s (≤ 60 s).
  const tQuiet = Date.now();
  let seenCount = lines.length;
  let lastChange = Date.now();
  while (Date.now() - lastChange < 5000 && Date.now() - tQuiet < 60_000) {
    await sleep(250);
    if (lines.length !== seenCount) {
      seenCount = lines.length;
      lastChange = Date.now();
    }
  }
  const cpuMs = groupCpuMs(dev.pid) - cpu0;
  const after = await http(base, "GET", `/admin/digests/${WEEK}`, { headers: auth });
  if (after.status === 200) rec = after.json;

  const keyQ = `?key=${encodeURIComponent(apiKey)}`;
  const emu: EmulatorStats = (await http(resend.url, "GET", `/_emulator/stats${keyQ}`)).json;
  const delivery: { recipients: number; emails: number; duplicated: number } = (
    await http(resend.url, "GET", `/_emulator/delivery${keyQ}`, { timeoutMs: 120_000 })
  ).json;
  samples.stop();
  const s = samples.read();
  await dev.stop();
  dev.cleanup();
  await resend.close().catch(() => undefined);

  let missing = 0;
  let seenTwice = 0;
  for (let i = 0; i < N; i++) {
    if (resend.seen[i] === 0) missing++;
    else if (resend.seen[i]! > 1) seenTwice++;
  }

  // Per-invocation figures (only the lines of this send: none are expected before the trigger).
  const invs = attribute(lines.slice(linesBefore), s);
  const groups = {
    fanout: summarize(invs.filter((i) => i.kind === "fanout")),
    batch: summarize(invs.filter((i) => i.kind === "batch")),
    mail: summarize(invs.filter((i) => i.kind === "mail")),
    all: summarize(invs),
  };
  const worst = (k: keyof Invocation) => {
    const top = invs.reduce<Invocation | null>(
      (a, b) => (a === null || (b[k] as number) > (a[k] as number) ? b : a),
      null,
    );
    return top
      ? {
          kind: top.kind,
          mixed: top.mixed,
          messages: top.messages,
          subrequests: top.subrequests,
          d1: top.d1,
          queue: top.queue,
          budget: top.budget,
          resend: top.resend,
          wall_ms: top.wallMs,
          cpu_ms_upper: r1(top.cpuMs),
          cpu_ms_share: r1(top.shareMs),
          overlapping: top.overlap,
          started_s: r3((top.started - tTrigger) / 1000),
        }
      : null;
  };
  const inSend = (x: number) => x >= tTrigger && x <= (timedOut ? Date.now() : tObserved);
  const sendIdx = Array.from(s.t.keys()).filter((i) => inSend(s.t[i]!));
  const peak = (col: Float64Array, idx: number[]) => r1(Math.max(0, ...idx.map((i) => col[i]!)));

  const finishedMs = rec.finished_at ? Date.parse(rec.finished_at) : NaN;
  const wallS = timedOut ? NaN : (finishedMs - tTrigger) / 1000;
  const papers = Array.isArray(rec.papers) ? rec.papers.length : null;
  return {
    n: N,
    code,
    digest_consumer: consumerConfig,
    digest_size: {
      requested: DIGEST_SIZE,
      var: DIGEST_SIZE === null ? "unset (Worker default 10)" : String(DIGEST_SIZE),
      papers_in_issue: papers,
    },
    startup_s: r3(startupS),
    import_s: r3(importS),
    stats_s: r3(statsS),
    timed_out: timedOut,
    status: rec.status,
    wall_s: r3(wallS), // trigger → run record finished_at
    observed_s: r3((tObserved - tTrigger) / 1000), // trigger → first poll (1 s) that saw the finished state
    emails_per_s: r3(N / wallS),
    server_cpu_s: r3(cpuMs / 1000), // workerd + wrangler, trigger → queues quiet
    run_record: (({ papers: _p, subject: _s, ...rest }: RunRecord & { papers?: unknown; subject?: unknown }) => rest)(
      rec,
    ),
    emulator: {
      requests: emu.requests,
      accepted_requests: emu.acceptedRequests,
      accepted_emails: emu.acceptedEmails,
      rate_limited_429: emu.rateLimited,
      server_errors: emu.serverErrors,
      replays: emu.replays,
      by_status: emu.byStatus,
      idempotency_keys: Object.keys(emu.byIdempotencyKey).length,
      keys_requested_more_than_once: Object.values(emu.byIdempotencyKey).filter((v) => v.requests > 1).length,
      delivery, // per-recipient counts kept by the emulator (countOnly mode)
      bytes_received_mib: r1(resend.check.bytes / 2 ** 20),
      largest_call_kib: r1(resend.check.maxBytes / 1024),
      slim_copies_mib: r1(resend.check.slimBytes / 2 ** 20), // what the emulator kept instead (see startResend)
    },
    recipient_check: {
      calls_200: resend.check.calls200,
      calls_other: resend.check.callsOther,
      passed_through: resend.check.passedThrough,
      emails: resend.check.emails,
      missing,
      seen_twice: seenTwice,
      strangers: resend.check.strangers,
      stranger_samples: resend.check.strangerSamples,
      unchecked: resend.check.unchecked,
    },
    invocation_lines: {
      total: lines.length,
      before_trigger: linesBefore,
      malformed,
      malformed_samples: malformedSamples,
      resend_sum: invs.reduce((a, i) => a + i.resend, 0),
      max_concurrent: maxConcurrency(invs),
    },
    worker_error_lines: { count: errorLines, samples: errors },
    per_invocation: groups,
    worst: { subrequests: worst("subrequests"), cpu_ms_upper: worst("cpuMs"), wall_ms: worst("wallMs") },
    samples: {
      count: s.t.length,
      interval_ms: SAMPLE_MS,
      mean_interval_ms: r1(s.t.length > 1 ? (s.t[s.t.length - 1]! - s.t[0]!) / (s.t.length - 1) : NaN),
      during_send: sendIdx.length,
    },
    memory_mib: {
      server_peak_rss: peak(s.rss, Array.from(s.t.keys())),
      server_peak_rss_during_send: peak(s.rss, sendIdx),
      bench_peak_rss: peak(s.self, Array.from(s.t.keys())),
    },
  };
}

type RunResult = Awaited<ReturnType<typeof run>>;

function judge(r: RunResult) {
  const calls = Math.ceil(r.n / 100);
  const d = r.emulator.delivery;
  const rc = r.recipient_check;
  const exactlyOnce =
    r.emulator.accepted_emails === r.n &&
    d.recipients === r.n &&
    d.emails === r.n &&
    d.duplicated === 0 &&
    rc.missing === 0 &&
    rc.strangers === 0 &&
    rc.unchecked === 0 &&
    rc.emails === r.n;
  const all = r.per_invocation.all;
  const lines = r.invocation_lines;
  return {
    finished: { goal: "status sent", value: r.status, pass: r.status === "sent" && !r.timed_out },
    resend_calls: {
      goal: `== ceil(N/100) = ${calls}`,
      value: `emulator ${r.emulator.requests}, run record ${r.run_record.api_calls}, invocation lines ${lines.resend_sum}`,
      pass: r.emulator.requests === calls && r.run_record.api_calls === calls && lines.resend_sum === calls,
    },
    exactly_once: {
      goal: "every subscriber exactly one email, nothing else",
      value: `${r.emulator.accepted_emails} accepted; emulator: ${d.recipients} recipients, ${d.duplicated} duplicated; check: ${rc.missing} missing, ${rc.strangers} others`,
      pass: exactlyOnce,
    },
    run_record_counts: {
      goal: `sent == N, batches == ${calls}, no failures`,
      value: `sent ${r.run_record.sent}, batches ${r.run_record.batches_sent}/${r.run_record.batches}, failures ${r.run_record.failures}`,
      pass:
        r.run_record.sent === r.n &&
        r.run_record.batches === calls &&
        r.run_record.batches_sent === calls &&
        r.run_record.failures === 0,
    },
    invocation_lines: {
      goal: "every invocation measured (no malformed lines)",
      value: `${all.invocations} lines, ${lines.malformed} malformed`,
      pass: all.invocations > 0 && lines.malformed === 0,
    },
    max_subrequests: {
      goal: `<= ${GOALS.maxSubrequests} per invocation`,
      value: all.subrequests.max,
      pass: all.subrequests.max <= GOALS.maxSubrequests,
    },
    max_cpu_ms: {
      goal: `<= ${GOALS.maxCpuMs} ms per invocation (measured: upper bound)`,
      value: all.cpu_ms_upper.max,
      pass: all.cpu_ms_upper.max <= GOALS.maxCpuMs,
    },
  };
}

// ---------- main ----------
async function main() {
  const wranglerVersion = runWrangler(["--version"]).trim();
  const nodeVersion = spawnSync("node", ["--version"], { env: childEnv, encoding: "utf8" }).stdout.trim();
  say(`bench:million  week ${WEEK}  subscribers ${fmt(N)}  DIGEST_SIZE ${DIGEST_SIZE ?? "unset (default 10)"}`);
  say(`command: ${COMMAND}`);
  say(
    `machine: ${os.cpus().length} cores (${os.cpus()[0]?.model ?? "?"}), ${Math.round(os.totalmem() / 2 ** 30)} GiB, bench node ${process.version}, wrangler ${wranglerVersion} on node ${nodeVersion}, load avg ${os
      .loadavg()
      .map((x) => x.toFixed(2))
      .join(" ")}`,
  );
  const t0 = Date.now();
  const r = await run();
  const goals = judge(r);
  const ok = Object.values(goals).every((g) => g.pass);
  const result = {
    bench: "million",
    ok,
    week: WEEK,
    command: COMMAND,
    total_s: r3((Date.now() - t0) / 1000),
    machine: {
      cores: os.cpus().length,
      cpu: os.cpus()[0]?.model ?? null,
      mem_gib: Math.round(os.totalmem() / 2 ** 30),
      bench_node: process.version,
      server_node: nodeVersion,
      wrangler: wranglerVersion,
      loadavg_end: os.loadavg().map(r3),
    },
    cpu_note:
      "cpu_ms_upper is an upper bound: the CPU of the whole wrangler dev process group (workerd with local D1/SQLite, queues, the Durable Object, wrangler's node proxy) between an invocation's started and ended, including every other invocation running at the same time; production bills none of that but the invocation's own JavaScript",
    run: r,
    goals,
  };

  if (JSON_ONLY) {
    console.log(JSON.stringify(result));
    return ok;
  }
  const pf = (b: boolean) => (b ? "PASS" : "FAIL");
  const rr = r.run_record;
  const e = r.emulator;
  say(
    `\ncode under test: commit ${r.code.commit}${r.code.uncommitted.length ? ` plus uncommitted changes to ${r.code.uncommitted.join(", ")}` : ""} (snapshot taken at the start)`,
  );
  say(
    `\n== digest fan-out: N=${fmt(r.n)}, DIGEST_SIZE ${r.digest_size.var} (${r.digest_size.papers_in_issue} papers in the issue), no rate limit ==`,
  );
  say(
    `  status ${r.status}${r.timed_out ? " (TIMED OUT)" : ""}; wall time trigger → finished_at ${fmt(r.wall_s)} s (${fmt(r.wall_s / 60)} min; poll saw it at ${fmt(r.observed_s)} s) → ${fmt(r.emails_per_s)} emails/s`,
  );
  say(
    `  before: start-up ${fmt(r.startup_s)} s, import ${fmt(r.import_s)} s (${fmt(r.n / r.import_s)} rows/s), /admin/stats ${fmt(r.stats_s)} s`,
  );
  say(
    `  Resend calls: emulator ${fmt(e.requests)} (${fmt(e.accepted_requests)} accepted, ${e.rate_limited_429} × 429, ${e.server_errors} × 5xx, ${e.replays} replays; by status ${JSON.stringify(e.by_status)}); run record api_calls ${fmt(rr.api_calls)}, retries ${rr.retries}; invocation lines ${fmt(r.invocation_lines.resend_sum)}; ceil(N/100) = ${fmt(Math.ceil(r.n / 100))}`,
  );
  say(
    `  delivery: ${fmt(e.accepted_emails)} emails accepted; emulator per recipient: ${fmt(e.delivery.recipients)} recipients, ${fmt(e.delivery.emails)} emails, ${e.delivery.duplicated} with more than one; recipient check: ${fmt(r.recipient_check.emails)} addressed in ${fmt(r.recipient_check.calls_200)} calls answered 200, ${r.recipient_check.missing} missing, ${r.recipient_check.seen_twice} twice, ${r.recipient_check.strangers} not on the list; ${fmt(e.idempotency_keys)} idempotency keys (${e.keys_requested_more_than_once} used more than once)`,
  );
  say(
    `  payload: ${fmt(e.bytes_received_mib)} MiB posted to Resend (largest call ${fmt(e.largest_call_kib)} KiB); the emulator was handed slim copies (${fmt(e.slim_copies_mib)} MiB; ${r.recipient_check.passed_through} calls passed through unchanged)`,
  );
  say(
    `  D1: rows_read ${fmt(rr.rows_read)} (${r3(rr.rows_read / r.n)} per subscriber), rows_written ${fmt(rr.rows_written)} (${r3(rr.rows_written / Math.ceil(r.n / 100))} per batch)`,
  );
  say(
    `  server: CPU (whole group) trigger → quiet ${fmt(r.server_cpu_s)} s; peak RSS ${fmt(r.memory_mib.server_peak_rss)} MiB (during the send ${fmt(r.memory_mib.server_peak_rss_during_send)} MiB); bench process peak RSS ${fmt(r.memory_mib.bench_peak_rss)} MiB`,
  );
  say(
    `  run record: ${JSON.stringify({ recipients: rr.recipients, batches: rr.batches, batches_sent: rr.batches_sent, sent: rr.sent, dropped: rr.dropped, rejected: rr.rejected, failures: rr.failures, last_error: rr.last_error })}`,
  );
  say(
    `\n  Per queue invocation (${fmt(r.invocation_lines.total)} "invocation" lines, ${r.invocation_lines.malformed} malformed; at most ${r.invocation_lines.max_concurrent} running at the same time; papers-digest consumer ${JSON.stringify(r.digest_consumer)}):`,
  );
  say(
    `  CPU: no CPU clock in workerd; "cpu upper" = CPU of the whole wrangler dev process group (workerd incl. local D1/SQLite, queue broker, Durable Object; wrangler's node) between started and ended, interpolated between /proc samples (every ${SAMPLE_MS} ms, ${r.samples.mean_interval_ms} ms on average) — an UPPER BOUND that also counts every invocation running at the same time. "cpu share" = the group's CPU split between concurrent invocations (an estimate, still including D1/SQLite). "cpu workerd" = workerd processes only.`,
  );
  const row = (label: string, dd: Dist) =>
    `    ${label.padEnd(22)} ${fmt(dd.p50).padStart(10)} ${fmt(dd.p99).padStart(10)} ${fmt(dd.max).padStart(10)}`;
  for (const [name, g] of Object.entries(r.per_invocation) as [string, RunResult["per_invocation"]["all"]][]) {
    if (g.invocations === 0 && name === "mail") continue;
    const label = {
      fanout: "papers-digest fan-out (invocations carrying a fan-out message)",
      batch: "papers-digest batch deliveries",
      mail: "papers-mail",
      all: "all invocations",
    }[name];
    say(
      `\n  ${label}: ${fmt(g.invocations)} invocations${name === "fanout" ? `, ${g.mixed} of them also sent batches` : ""}, ${fmt(g.messages.sum)} messages`,
    );
    say(`    ${"".padEnd(22)} ${"p50".padStart(10)} ${"p99".padStart(10)} ${"max".padStart(10)}`);
    say(row("messages", g.messages));
    say(row("subrequests", g.subrequests));
    say(`${row("  of which D1", g.d1)}   (max queue ${g.queue.max}, budget ${g.budget.max}, resend ${g.resend.max})`);
    say(row("wall ms", g.wall_ms));
    say(row("cpu ms (upper bound)", g.cpu_ms_upper));
    say(row("cpu ms (share est.)", g.cpu_ms_share));
    say(row("cpu ms (workerd only)", g.cpu_ms_workerd));
    say(
      `    medians, first → last tenth of the run: subrequests ${g.trend.first_tenth.subrequests} → ${g.trend.last_tenth.subrequests}, wall ${fmt(g.trend.first_tenth.wall_ms)} → ${fmt(g.trend.last_tenth.wall_ms)} ms, cpu (upper) ${fmt(g.trend.first_tenth.cpu_ms_upper)} → ${fmt(g.trend.last_tenth.cpu_ms_upper)} ms`,
    );
  }
  say(`\n  worst invocation by subrequests: ${JSON.stringify(r.worst.subrequests)}`);
  say(`  worst invocation by CPU (upper bound): ${JSON.stringify(r.worst.cpu_ms_upper)}`);
  say(`  longest invocation: ${JSON.stringify(r.worst.wall_ms)}`);
  if (r.worker_error_lines.count)
    say(
      `  worker error lines: ${r.worker_error_lines.count}, e.g.\n    ${r.worker_error_lines.samples.join("\n    ")}`,
    );
  say(`\n  goals:`);
  for (const [k, g] of Object.entries(goals))
    say(`    ${k.padEnd(18)} ${String(g.value).padEnd(72)} goal ${g.goal}  ${pf(g.pass)}`);
  say(`\nrun ${ok ? "OK: every goal met" : "FAILED: some goal missed (see above)"} (${fmt(result.total_s)} s in all)`);
  say(JSON.stringify(result));
  return ok;
}

runBenchmark(main, () => dev, { verbose: VERBOSE });
