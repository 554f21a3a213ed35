// Digest send benchmark: a whole weekly issue through a private `wrangler dev` (local mode) and the Resend
// emulator (real HTTP on loopback), measured from the admin "send" trigger to the run record's finished state.
//
//   npm run bench:digest -- --subscribers 20000                 # unlimited run, then the rate-limited run
//   npm run bench:digest -- --rate 2 --limited-subscribers 3000  # the limited run's settings (these are the defaults)
//   npm run bench:digest -- --only-limited --rate 4 --start-rps 2   # the budget learns Resend's stated limit (4) from 2
//   npm run bench:digest -- --for-you --subscribers 20000        # issue 10: every reader has topics and a taste
//   npm run bench:digest -- --cadence daily --subscribers 20000  # issue 11: the daily edition of 2026-11-17 to the
//                                                                 # 5,000 daily readers among 20,000 (--daily-readers)
//   flags: --subscribers N (20000)  --rate R (2)  --start-rps S (RESEND_MAX_RPS of the limited run; default R)
//          --limited-subscribers M (3000)  --no-limited  --only-limited
//          --readers-with-preferences F (0..1, default 0 = nobody: today's global email for all)
//          --for-you (= --readers-with-preferences 1)  --seed S (the preferences' PRNG seed, 10)
//          --variants V (distinct (topics, taste) variants handed out, 64)
//          --invocations (LOG_INVOCATIONS=1 even without preferences; on whenever F > 0)
//          --cadence weekly|daily (weekly)  --daily-readers D (daily readers among N, default N/4; M/4 in the limited run)
//          --timeout S (global watchdog, 1500)  --json (one JSON line only)  --verbose (wrangler's output on stderr)
//          --root DIR (benchmark another checkout's worker, for A/B runs; default: this repo)
//
// What it does, per run (each with its own wrangler dev, fresh D1 state and its own emulator API key = team):
//  1. bundles the worker (`wrangler deploy --dry-run`, via bench/lib.mjs) into a temp snapshot, so edits to src/ during the run
//     cannot make wrangler dev rebuild mid-measurement; applies the migrations into a fresh --persist-to dir.
//  2. starts `wrangler dev` on free loopback ports (own process group, killed on exit, error, SIGINT/SIGTERM and by
//     the watchdog) with RESEND_BASE_URL = the emulator, RESEND_MAX_RPS = 0 (unlimited run) or R (limited run).
//  3. configures the emulator for the run's key (keepBodies false; limited run: rateLimit R requests / 1 s window).
//  4. imports N active subscribers through POST /admin/subscribers/import (text/csv, ≤ 10,000 rows per request).
//     With preferences (F > 0): gives a fraction F of them (all, with --for-you) topics and a taste, before the send:
//     V (64) distinct (topics, taste) variants made from a seeded PRNG with src/digest/taste.ts's own functions (1–3
//     random topics; 2–5 ratings of invented papers whose keywords come from the sample week and a few others),
//     applied with one `UPDATE subscribers … CASE id % V …` through `wrangler d1 execute --file` (reader id → variant;
//     for F < 1 a multiplicative hash of the id chooses who has preferences). LOG_INVOCATIONS=1 is on then.
//  5. POST /admin/digests/2026-W47/send, then polls GET /admin/digests/2026-W47 until sent / failed / skipped.
//  6. waits a little for stray (duplicate) sends, then checks in the emulator that every subscriber got the
//     issue exactly once and nothing else was accepted, and reads the run record's counters. With preferences: counts
//     the readers whose frozen batch entry (issue_batches.recipients) carries "For you" picks (`f`), i.e. who got the
//     personal edition, and the distinct selections; from the `invocation {…}` lines, the wall time per digest
//     invocation. CPU per batch = the wrangler dev group's CPU during the send / batches (an upper bound: workerd with
//     local D1 and the queue broker, wrangler's node, the fan-out included).
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import os from "node:os";
import { resolve } from "node:path";
import { emptyTaste, rate, serializeTaste, type Taste, type TastePaper } from "../src/digest/taste";
import { parseWeek } from "../src/lib/week";
import { parsePaper } from "../src/papers/paper";
import { sampleItems } from "../src/papers/sample";
import { TOPICS } from "../src/papers/topics";
import type { runRecord } from "../src/routes/digests";
import type { EmulatorStats } from "../test/emulators/resend";
import { startEmulators } from "../test/emulators/serve";
import {
  childEnv,
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
const DAY = "2026-11-17"; // the Tuesday of WEEK: the sample week's papers of that day make the daily edition
const GOALS = {
  secondsPer20k: 30,
  rowsReadPerSubscriber: 1.05,
  rowsWrittenPerSubscriber: 1 / 20,
  rowsWrittenSlack: 50,
  limitedRatio: 0.9,
};

// ---------- arguments ----------
const args = process.argv.slice(2);
const flag = (name: string) => args.includes(`--${name}`);
function opt(name: string): string | undefined {
  const i = args.findIndex((a) => a === `--${name}` || a.startsWith(`--${name}=`));
  if (i < 0) return undefined;
  return args[i]!.includes("=") ? args[i]!.split("=")[1] : args[i + 1];
}
function num(name: string, dflt: number): number {
  const raw = opt(name);
  if (raw === undefined) return dflt;
  const v = Number(raw);
  if (!Number.isFinite(v) || v <= 0) throw new Error(`--${name} needs a positive number, got ${raw}`);
  return v;
}
function fraction(name: string): number | undefined {
  const raw = opt(name);
  if (raw === undefined) return undefined;
  const v = Number(raw);
  if (!Number.isFinite(v) || v < 0 || v > 1) throw new Error(`--${name} needs a fraction from 0 to 1, got ${raw}`);
  return v;
}
if (flag("help")) {
  console.log(
    "usage: tsx bench/digest.ts [--subscribers 20000] [--rate 2] [--limited-subscribers 3000] [--no-limited] [--only-limited] [--for-you | --readers-with-preferences 0..1] [--seed 10] [--variants 64] [--cadence weekly|daily] [--daily-readers D] [--invocations] [--timeout 1500] [--json] [--verbose] [--root DIR]",
  );
  process.exit(0);
}
const N = Math.floor(num("subscribers", 20_000));
const RATE = num("rate", 2);
const START_RPS = num("start-rps", RATE);
const LIMITED_N = Math.floor(num("limited-subscribers", 3000));
const RUN_MAIN = !flag("only-limited");
const RUN_LIMITED = !flag("no-limited");
const TIMEOUT_S = num("timeout", 1500);
const JSON_ONLY = flag("json");
const VERBOSE = flag("verbose");
const ROOT = opt("root") ? resolve(opt("root")!) : REPO;
const IMPORT_CHUNK = 10_000;
// Issue 10: the fraction of readers with topics and a taste (0: nobody, today's global email for everyone).
const PREFS = fraction("readers-with-preferences") ?? (flag("for-you") ? 1 : 0);
const SEED = Math.floor(num("seed", 10));
const VARIANTS = Math.floor(num("variants", 64));
const LOG_INVOCATIONS = PREFS > 0 || flag("invocations");
// Issue 11: which edition is sent. Daily: D readers of N (spread over the ids) read daily; the edition must reach
// exactly them, reading about one row per daily reader.
const CADENCE = opt("cadence") ?? "weekly";
if (CADENCE !== "weekly" && CADENCE !== "daily") throw new Error(`--cadence is weekly or daily, got ${CADENCE}`);
const KEY = CADENCE === "daily" ? DAY : WEEK;
const dailyReaders = (n: number) => (CADENCE === "daily" ? Math.min(n, Math.floor(num("daily-readers", n / 4))) : 0);

const say = (...a: unknown[]) => {
  if (!JSON_ONLY) console.log(...a);
};
const note = (...a: unknown[]) => {
  if (!JSON_ONLY) console.error(...a);
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const r3 = (x: number) => Math.round(x * 1000) / 1000;

// ---------- process management (bench/lib.mjs) ----------
type DevServer = ReturnType<typeof createDevServer>;
let dev: DevServer | null = null; // the running scenario's wrangler dev

startWatchdog(TIMEOUT_S, () => dev);
const http = fetchJson;

type RunRecord = ReturnType<typeof runRecord>;

// ---------- readers' preferences (issue 10) ----------
/** mulberry32: a small seeded PRNG, so the same --seed gives every run the same readers. */
function prng(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Keywords of papers the sample week does not have: ratings teach weights that match nothing this week, too. */
const OTHER_KEYWORDS = [
  "graph neural networks",
  "federated learning",
  "protein structure",
  "sparse autoencoders",
  "speculative decoding",
  "neural radiance fields",
  "contrastive learning",
  "mixture of experts",
  "model merging",
  "weather forecasting",
  "symbolic regression",
  "knowledge distillation",
  "time series",
  "causal inference",
  "quantization",
  "red teaming",
];

interface Preferences {
  topics: string; // JSON text of topic ids, as subscribers.topics stores it
  taste: string; // serializeTaste(), as subscribers.taste stores it
}

/**
 * `count` distinct readers' preferences: 1–3 random topics, and the taste left by 2–5 ratings (70 % "more like this")
 * of invented papers with 1–2 random topics and 2–4 keywords, drawn from the sample week's and OTHER_KEYWORDS.
 */
function preferenceVariants(count: number, seed: number): Preferences[] {
  const rnd = prng(seed);
  const int = (lo: number, hi: number) => lo + Math.floor(rnd() * (hi - lo + 1));
  const some = <T>(xs: readonly T[], k: number): T[] => {
    const c = [...xs];
    for (let i = 0; i < Math.min(k, c.length); i++) {
      const j = i + Math.floor(rnd() * (c.length - i));
      [c[i], c[j]] = [c[j]!, c[i]!];
    }
    return c.slice(0, k);
  };
  const topicIds = TOPICS.map((t) => t.id);
  const weekKeywords = sampleItems(parseWeek(WEEK)!).flatMap((item) => parsePaper(item)?.keywords ?? []);
  const keywords = [...new Set([...weekKeywords, ...OTHER_KEYWORDS])];
  const out: Preferences[] = [];
  const seen = new Set<string>();
  for (let attempt = 0; out.length < count && attempt < count * 50; attempt++) {
    const topics = some(topicIds, int(1, 3));
    let taste: Taste = emptyTaste();
    const ratings = int(2, 5);
    for (let r = 0; r < ratings; r++) {
      const paper: TastePaper = {
        id: `bench-${out.length}-${r}`,
        topics: some(topicIds, int(1, 2)),
        keywords: some(keywords, int(2, 4)),
        upvotes: int(0, 200),
      };
      taste = rate(taste, paper, rnd() < 0.7 ? 1 : -1);
    }
    const v = { topics: JSON.stringify(topics), taste: serializeTaste(taste) };
    const key = `${v.topics} ${v.taste}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(v);
  }
  if (out.length < count) throw new Error(`only ${out.length} distinct preference variants from seed ${seed}`);
  return out;
}

/**
 * One UPDATE: reader id → variant id % variants.length. With a fraction below 1, a multiplicative hash of the id
 * (Knuth's, mod 2^32) chooses who has preferences, independently of which variant they would get.
 */
function preferencesSql(variants: Preferences[], fraction: number): string {
  const q = (s: string) => `'${s.replaceAll("'", "''")}'`;
  const cases = (field: keyof Preferences) =>
    `CASE id % ${variants.length}\n${variants.map((v, i) => `    WHEN ${i} THEN ${q(v[field])}`).join("\n")}\n  END`;
  const chosen = fraction >= 1 ? "" : ` AND (id * 2654435761) % 4294967296 < ${Math.round(fraction * 2 ** 32)}`;
  return `UPDATE subscribers SET\n  topics = ${cases("topics")},\n  taste = ${cases("taste")}\nWHERE status = 'active'${chosen};\n`;
}

// ---------- invocation lines (LOG_INVOCATIONS=1, src/index.ts) ----------
interface InvocationLine {
  consumer: string;
  messages: number;
  started: number;
  ended: number;
  subrequests: number;
  d1: number;
  queue: number;
  budget: number;
  resend: number;
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

/** Nearest-rank percentiles. */
function pcts(values: number[]) {
  const v = values.filter(Number.isFinite).sort((a, b) => a - b);
  const p = (q: number) => (v.length ? v[Math.max(0, Math.ceil((q / 100) * v.length) - 1)]! : NaN);
  return { n: v.length, p50: p(50), p90: p(90), max: v.length ? v[v.length - 1]! : NaN };
}

/**
 * The digest consumer's invocations of this send. The lines carry no message kinds: an invocation that called the
 * send budget or Resend and queued nothing sent batches; the others are fan-outs (which queue the batch messages).
 */
function invocationSummary(lines: InvocationLine[], malformed: number, since: number) {
  const digest = lines.filter((l) => l.consumer.startsWith("papers-digest") && l.ended >= since);
  const isBatch = (l: InvocationLine) => (l.budget > 0 || l.resend > 0) && l.queue === 0;
  const batch = digest.filter(isBatch);
  const fanout = digest.filter((l) => !isBatch(l));
  const sum = (xs: InvocationLine[], f: (l: InvocationLine) => number) => xs.reduce((a, l) => a + f(l), 0);
  // When the first of each kind ran, in seconds after the trigger: where the time before the first email goes.
  const first = (xs: InvocationLine[]) => {
    const l = xs.reduce<InvocationLine | null>((a, b) => (a && a.started <= b.started ? a : b), null);
    return l ? { started_s: r3((l.started - since) / 1000), ended_s: r3((l.ended - since) / 1000) } : null;
  };
  return {
    lines: digest.length,
    malformed,
    batch_invocations: batch.length,
    batch_messages: sum(batch, (l) => l.messages),
    batch_resend_calls: sum(batch, (l) => l.resend),
    batch_wall_ms: pcts(batch.map((l) => l.ended - l.started)),
    batch_wall_ms_per_message: pcts(batch.map((l) => (l.ended - l.started) / Math.max(1, l.messages))),
    first_fanout: first(fanout),
    first_batch_invocation: first(batch),
    fanout_invocations: fanout.length,
    fanout_wall_ms: { ...pcts(fanout.map((l) => l.ended - l.started)), sum: sum(fanout, (l) => l.ended - l.started) },
  };
}

interface Scenario {
  label: "unlimited" | "limited";
  n: number;
  rate: number; // 0 = no limit (emulator unlimited, RESEND_MAX_RPS 0)
}

async function runScenario(sc: Scenario, ctx: { resendUrl: string; variants: Preferences[] }) {
  // Each scenario gets its own snapshot of the Worker and a fresh local D1.
  dev = createDevServer({ root: ROOT, prefix: `bench-digest-${sc.label}-`, verbose: VERBOSE, note }) as DevServer;
  dev.snapshot();
  const { port, inspector } = await freePorts();
  const base = `http://127.0.0.1:${port}`;
  const adminToken = randomBytes(24).toString("hex");
  const apiKey = `re_bench_${randomBytes(12).toString("hex")}`;
  const runId = randomBytes(3).toString("hex");
  const auth = { Authorization: `Bearer ${adminToken}` };

  // The emulator team for this key: no bodies kept (only recipients and counts matter), the run's rate limit.
  const cfg = await http(ctx.resendUrl, "POST", "/_emulator/config", {
    headers: { Authorization: `Bearer ${apiKey}`, "Content-Type": "application/json" },
    body: JSON.stringify({ keepBodies: false, rateLimit: sc.rate > 0 ? { requests: sc.rate, windowSec: 1 } : null }),
  });
  if (cfg.status !== 200) throw new Error(`emulator config failed: ${cfg.status} ${cfg.text}`);

  // Invocation lines (LOG_INVOCATIONS=1), from wrangler's output.
  const lines: InvocationLine[] = [];
  let malformed = 0;
  if (LOG_INVOCATIONS)
    dev.onOutput(
      lineReader((l) => {
        const i = l.indexOf("invocation {");
        if (i < 0) return;
        try {
          lines.push(JSON.parse(l.slice(i + "invocation ".length)) as InvocationLine);
        } catch {
          malformed++;
        }
      }),
    );

  say(
    `\n[${sc.label}] N=${sc.n}${sc.rate ? `, emulator limit ${sc.rate} req/s, RESEND_MAX_RPS=${START_RPS}` : ", no rate limit, RESEND_MAX_RPS=0"}${PREFS > 0 ? `, ${PREFS * 100} % of readers with preferences` : ""}: wrangler dev on ${base} (inspector ${inspector})…`,
  );
  const startupS = await dev.start({
    port,
    inspector,
    tokenSecret: randomBytes(32).toString("hex"),
    probe: async () => (await http(base, "GET", "/health", { timeoutMs: 2000 })).status === 200,
    vars: {
      ADMIN_TOKEN: adminToken,
      RESEND_API_KEY: apiKey,
      RESEND_BASE_URL: ctx.resendUrl,
      RESEND_MAX_RPS: String(sc.rate ? START_RPS : 0),
      PAPERS_SOURCE: "sample",
      ...(LOG_INVOCATIONS ? { LOG_INVOCATIONS: "1" } : {}),
    },
    // The worker's console.log (the invocation lines) reaches wrangler's output at level "log".
    ...(LOG_INVOCATIONS ? { logLevel: "log" } : {}),
  });

  // Import N subscribers, ≤ 10,000 rows per request.
  const emails = Array.from({ length: sc.n }, (_, i) => `bench-${runId}-${i}@example.com`);
  const ti = performance.now();
  let imported = 0;
  for (let i = 0; i < sc.n; i += IMPORT_CHUNK) {
    const csv = `email\n${emails.slice(i, i + IMPORT_CHUNK).join("\n")}\n`;
    const r = await http(base, "POST", "/admin/subscribers/import", {
      headers: { ...auth, "Content-Type": "text/csv" },
      body: csv,
      timeoutMs: 120_000,
    });
    if (r.status !== 200) throw new Error(`import failed: ${r.status} ${r.text.slice(0, 500)}`);
    imported += r.json.imported;
  }
  const importS = (performance.now() - ti) / 1000;
  const stats = await http(base, "GET", "/admin/stats", { headers: auth });
  const active = stats.json?.subscribers?.active;
  if (imported !== sc.n || active !== sc.n)
    throw new Error(`import: ${imported} imported, ${active} active, expected ${sc.n}`);
  say(
    `[${sc.label}] ready after ${startupS.toFixed(1)} s; imported ${imported} subscribers in ${importS.toFixed(1)} s`,
  );

  // Issue 10: readers' topics and tastes, written straight into the local D1 before the send (not measured).
  let preferences: {
    fraction: number;
    seed: number;
    variants: number;
    apply_s: number;
    readers: number;
    distinct: number;
  } | null = null;
  if (PREFS > 0) {
    const applyS = dev.execute(preferencesSql(ctx.variants, PREFS));
    const [row] = dev.query(
      "SELECT COUNT(*) AS readers, COUNT(DISTINCT topics || ' ' || taste) AS distinct_ FROM subscribers WHERE status = 'active' AND topics IS NOT NULL AND taste IS NOT NULL",
    ) as { readers: number; distinct_: number }[];
    preferences = {
      fraction: PREFS,
      seed: SEED,
      variants: ctx.variants.length,
      apply_s: r3(applyS),
      readers: row?.readers ?? 0,
      distinct: row?.distinct_ ?? 0,
    };
    if (PREFS >= 1 && preferences.readers !== sc.n)
      throw new Error(`preferences: ${preferences.readers} readers have them, expected all ${sc.n}`);
    say(
      `[${sc.label}] ${preferences.readers} readers given topics and a taste (${preferences.distinct} distinct variants, seed ${SEED}) in ${applyS.toFixed(1)} s`,
    );
  }
  // Issue 11: D readers switched to daily (chosen by a multiplicative hash of the id, so spread over the index).
  let recipients = emails;
  const daily = dailyReaders(sc.n);
  if (CADENCE === "daily") {
    dev.execute(
      `UPDATE subscribers SET cadence = 'daily' WHERE id IN (SELECT id FROM subscribers WHERE status = 'active' ORDER BY (id * 2654435761) % 4294967296 LIMIT ${daily});\n`,
    );
    recipients = (dev.query("SELECT email FROM subscribers WHERE cadence = 'daily'") as { email: string }[]).map(
      (r) => r.email,
    );
    if (recipients.length !== daily) throw new Error(`daily readers: ${recipients.length}, expected ${daily}`);
    say(`[${sc.label}] ${daily} of ${sc.n} readers read daily`);
  }
  const n = recipients.length; // who must get the edition
  say(`[${sc.label}] sending ${KEY}…`);

  // Trigger and poll.
  const runTimeoutMs = (sc.rate > 0 ? (n / (100 * sc.rate)) * 4 + 120 : 300 + n / 100) * 1000;
  const cpu0 = groupCpuMs(dev.pid);
  const tTrigger = Date.now();
  const trig = await http(base, "POST", `/admin/digests/${KEY}/send`, { headers: auth });
  if (trig.status !== 202) throw new Error(`send trigger failed: ${trig.status} ${trig.text.slice(0, 500)}`);
  let rec: RunRecord = trig.json;
  let tObserved = NaN;
  let lastLine = 0;
  for (;;) {
    const r = await http(base, "GET", `/admin/digests/${KEY}`, { headers: auth });
    if (r.status === 200) rec = r.json;
    if (["sent", "failed", "skipped"].includes(rec.status)) {
      tObserved = Date.now();
      break;
    }
    if (Date.now() - tTrigger > runTimeoutMs) break;
    if (!JSON_ONLY && Date.now() - lastLine > 5000) {
      lastLine = Date.now();
      note(
        `  … ${((Date.now() - tTrigger) / 1000).toFixed(0)} s: ${rec.status}, ${rec.sent}/${n} sent, ${rec.batches_sent}/${rec.batches} batches, ${rec.api_calls} calls, ${rec.retries} retries`,
      );
    }
    await sleep(200);
  }
  const cpuMs = groupCpuMs(dev.pid) - cpu0;
  const timedOut = Number.isNaN(tObserved);

  // Stray sends (a duplicate message after the finish) would show up now.
  await sleep(3000);
  const after = await http(base, "GET", `/admin/digests/${KEY}`, { headers: auth });
  if (after.status === 200) rec = after.json;
  const sending = (await http(base, "GET", "/admin/stats", { headers: auth })).json?.sending ?? null;

  const keyQ = `?key=${encodeURIComponent(apiKey)}`;
  const emu: EmulatorStats = (await http(ctx.resendUrl, "GET", `/_emulator/stats${keyQ}`)).json;
  const list = (await http(ctx.resendUrl, "GET", `/_emulator/emails${keyQ}`, { timeoutMs: 120_000 })).json?.data as {
    to: string[];
    createdAt: string;
    idempotencyKey: string | null;
    html?: string;
  }[];
  const log = (await http(ctx.resendUrl, "GET", `/_emulator/requests${keyQ}`)).json?.data as {
    status: number;
    arrived: number;
    at: number;
  }[];
  const inEmulator = log.map((l) => l.at - l.arrived).sort((a, b) => a - b);
  await dev.stop();

  // Who got the personal edition: the frozen lists (each reader's "For you" picks are frozen as `f` in their batch).
  let editions: {
    listed: number;
    personal: number;
    selections: number;
    picks_per_personal: number;
    max_batch_json_bytes: number;
  } | null = null;
  if (PREFS > 0) {
    const w = `'${KEY}'`;
    const [e] = dev.query(
      `SELECT COUNT(*) AS listed, COALESCE(SUM(json_type(r.value, '$.f') IS NOT NULL), 0) AS personal,
         COUNT(DISTINCT json_extract(r.value, '$.f')) AS selections,
         COALESCE(SUM(json_array_length(r.value, '$.f')), 0) AS picks,
         (SELECT MAX(length(recipients)) FROM issue_batches WHERE week = ${w}) AS max_bytes
       FROM issue_batches b, json_each(b.recipients) r WHERE b.week = ${w}`,
    ) as { listed: number; personal: number; selections: number; picks: number; max_bytes: number }[];
    editions = {
      listed: e?.listed ?? 0,
      personal: e?.personal ?? 0,
      selections: e?.selections ?? 0,
      picks_per_personal: r3((e?.picks ?? 0) / Math.max(1, e?.personal ?? 0)),
      max_batch_json_bytes: e?.max_bytes ?? 0,
    };
  }
  dev.cleanup();

  // Every subscriber exactly once, nothing else.
  const seen = new Map<string, number>();
  for (const e of list) for (const to of e.to) seen.set(to, (seen.get(to) ?? 0) + 1);
  let missing = 0;
  for (const e of recipients) if (!seen.has(e)) missing++;
  const expected = new Set(recipients);
  let duplicates = 0;
  let strangers = 0;
  for (const [to, c] of seen) {
    if (!expected.has(to)) strangers += c;
    else if (c > 1) duplicates += c - 1;
  }
  const keys = Object.entries(emu.byIdempotencyKey);
  const acceptedTimes = list.map((e) => Date.parse(e.createdAt)).sort((a, b) => a - b);
  const firstAcceptedS = acceptedTimes.length ? (acceptedTimes[0]! - tTrigger) / 1000 : NaN;
  const lastAcceptedS = acceptedTimes.length ? (acceptedTimes.at(-1)! - tTrigger) / 1000 : NaN;

  const finishedMs = rec.finished_at ? Date.parse(rec.finished_at) : NaN;
  const wallS = timedOut ? NaN : (finishedMs - tTrigger) / 1000;
  const observedS = (tObserved - tTrigger) / 1000;
  return {
    label: sc.label,
    cadence: CADENCE,
    edition: KEY,
    readers: sc.n, // imported
    n, // who must get the edition: every reader, or the daily ones

    rate_limit: sc.rate || null,
    startup_s: r3(startupS),
    import_s: r3(importS),
    timed_out: timedOut,
    status: rec.status,
    wall_s: r3(wallS), // trigger → run record finished_at
    observed_s: r3(observedS), // trigger → first poll that saw the finished state (200 ms polling)
    emails_per_s: r3(n / wallS),
    first_accepted_s: r3(firstAcceptedS), // trigger → first email accepted by the emulator
    last_accepted_s: r3(lastAcceptedS), // trigger → last email accepted by the emulator
    steady_emails_per_s: r3(
      acceptedTimes.length > 1 ? acceptedTimes.length / ((acceptedTimes.at(-1)! - acceptedTimes[0]!) / 1000) : NaN,
    ),
    server_cpu_s: r3(cpuMs / 1000),
    // Upper bound: everything the wrangler dev group did during the send (fan-out, D1, queues, wrangler's node) per batch.
    cpu_ms_per_batch: r3(cpuMs / Math.max(1, rec.batches)),
    preferences,
    editions,
    invocations: LOG_INVOCATIONS ? invocationSummary(lines, malformed, tTrigger) : null,
    budget: sending, // the send budget's state at the end: rate learned, mean call time
    emulator_ms_per_call_p50: inEmulator[Math.floor(inEmulator.length / 2)] ?? null, // arrival → answer, inside the emulator

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
      idempotency_keys: keys.length,
      keys_sent_twice: keys.filter(([, v]) => v.accepted > 100).length,
      keys_requested_more_than_once: keys.filter(([, v]) => v.requests > 1).length,
      logged_requests: log?.length ?? null,
      bodies_kept: list.some((e) => e.html !== undefined),
    },
    delivery: { listed_emails: list.length, distinct_recipients: seen.size, missing, duplicates, strangers },
  };
}

type RunResult = Awaited<ReturnType<typeof runScenario>>;

/** A goal: pass null is a figure reported without a goal (printed "info"). */
interface Goal {
  goal: string;
  value: string | number;
  pass: boolean | null;
}

/** Issue 10's additions to every run with preferences: who got "For you", and what a batch cost. */
function forYouGoals(r: RunResult): Record<string, Goal> {
  if (!r.preferences || !r.editions) return {};
  const e = r.editions;
  const inv = r.invocations;
  const wall = inv?.batch_wall_ms;
  return {
    personal_edition: {
      goal: `some readers with preferences (${r.preferences.readers}) get For you; nobody else`,
      value: `${e.personal} of ${e.listed} listed readers (${e.selections} distinct selections, ${e.picks_per_personal} picks each)`,
      pass: e.listed === r.n && e.personal > 0 && e.personal <= r.preferences.readers,
    },
    cpu_per_batch: {
      goal: "reported (upper bound: the whole wrangler dev group during the send / batches)",
      value: `${r.cpu_ms_per_batch} ms (${r.server_cpu_s} s / ${r.run_record.batches} batches)`,
      pass: null,
    },
    ...(inv
      ? {
          batch_invocation: {
            goal: "reported (wall time of a digest invocation that sent batches)",
            value: `p50 ${wall?.p50} ms, p90 ${wall?.p90} ms, max ${wall?.max} ms; ${inv.batch_invocations} invocations, ${inv.batch_messages} messages`,
            pass: null,
          },
        }
      : {}),
  };
}

function judge(r: RunResult): Record<string, Goal> {
  const exactlyOnce =
    r.delivery.missing === 0 &&
    r.delivery.duplicates === 0 &&
    r.delivery.strangers === 0 &&
    r.emulator.accepted_emails === r.n &&
    r.delivery.listed_emails === r.n;
  const calls = Math.ceil(r.n / 100);
  const common = {
    finished: { goal: "status sent", value: r.status, pass: r.status === "sent" && !r.timed_out },
    exactly_once: {
      goal: "accepted emails == N, each recipient exactly once",
      value: `${r.emulator.accepted_emails} accepted, ${r.delivery.missing} missing, ${r.delivery.duplicates} duplicates, ${r.delivery.strangers} others`,
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
  };
  if (r.label === "unlimited") {
    const wallGoal = (GOALS.secondsPer20k * r.n) / 20_000;
    const readGoal = GOALS.rowsReadPerSubscriber * r.n;
    const writeGoal = r.n * GOALS.rowsWrittenPerSubscriber + GOALS.rowsWrittenSlack;
    return {
      ...common,
      wall_time: {
        goal: `<= ${r3(wallGoal)} s (${GOALS.secondsPer20k} s per 20,000)`,
        value: r.wall_s,
        pass: r.wall_s <= wallGoal,
      },
      resend_calls: {
        goal: `== ceil(N/100) = ${calls}`,
        value: `emulator ${r.emulator.requests}, run record ${r.run_record.api_calls}`,
        pass: r.emulator.requests === calls && r.run_record.api_calls === calls,
      },
      rows_read: {
        goal: `<= 1.05·N = ${r3(readGoal)}`,
        value: `${r.run_record.rows_read} (${r3(r.run_record.rows_read / r.n)} per subscriber)`,
        pass: r.run_record.rows_read <= readGoal,
      },
      rows_written: {
        goal: `<= N/20 + 50 = ${r3(writeGoal)}`,
        value: r.run_record.rows_written,
        pass: r.run_record.rows_written <= writeGoal,
      },
      ...forYouGoals(r),
    };
  }
  const target = 100 * (r.rate_limit ?? 0);
  return {
    ...common,
    throughput: {
      goal: `>= ${GOALS.limitedRatio * 100}% of 100·R = ${r3(GOALS.limitedRatio * target)} emails/s`,
      value: `${r.emails_per_s} emails/s (${r3((100 * r.emails_per_s) / target)}%)`,
      pass: r.emails_per_s >= GOALS.limitedRatio * target,
    },
    ...forYouGoals(r),
  };
}

// ---------- main ----------
async function main() {
  const loadavgStart = os.loadavg().map(r3);
  const emulators = await startEmulators();
  const wranglerVersion = runWrangler(["--version"]).trim();
  const nodeVersion = spawnSync("node", ["--version"], { env: childEnv, encoding: "utf8" }).stdout.trim();
  say(
    `bench:digest  edition ${KEY} (${CADENCE})  subscribers ${N}  limited run: ${RUN_LIMITED ? `${LIMITED_N} subscribers at ${RATE} req/s` : "off"}  readers with preferences: ${PREFS}${PREFS > 0 ? ` (seed ${SEED}, ${VARIANTS} variants)` : ""}${ROOT !== REPO ? `  root=${ROOT}` : ""}`,
  );
  say(
    `machine: ${os.cpus().length} cores (${os.cpus()[0]?.model ?? "?"}), ${Math.round(os.totalmem() / 2 ** 30)} GiB, bench node ${process.version}, wrangler ${wranglerVersion} on node ${nodeVersion}, load avg ${os
      .loadavg()
      .map((x) => x.toFixed(2))
      .join(" ")}`,
  );
  say(`Resend emulator on ${emulators.resendUrl}`);

  const runs: RunResult[] = [];
  const ctx = { resendUrl: emulators.resendUrl, variants: PREFS > 0 ? preferenceVariants(VARIANTS, SEED) : [] };
  if (RUN_MAIN) runs.push(await runScenario({ label: "unlimited", n: N, rate: 0 }, ctx));
  if (RUN_LIMITED) runs.push(await runScenario({ label: "limited", n: LIMITED_N, rate: RATE }, ctx));
  await emulators.close().catch(() => undefined);

  const judged = runs.map((r) => ({ ...r, goals: judge(r) }));
  const ok = judged.every((r) => Object.values(r.goals).every((g) => g.pass !== false));
  const result = {
    bench: "digest",
    ok,
    week: KEY,
    cadence: CADENCE,
    readers_with_preferences: PREFS,
    machine: {
      cores: os.cpus().length,
      cpu: os.cpus()[0]?.model ?? null,
      mem_gib: Math.round(os.totalmem() / 2 ** 30),
      bench_node: process.version,
      server_node: nodeVersion,
      wrangler: wranglerVersion,
      loadavg_start: loadavgStart,
      loadavg_end: os.loadavg().map(r3),
    },
    runs: judged,
  };

  if (JSON_ONLY) {
    console.log(JSON.stringify(result));
    return ok;
  }
  const pf = (b: boolean | null) => (b === null ? "info" : b ? "PASS" : "FAIL");
  for (const r of judged) {
    const rr = r.run_record;
    say(
      `\n== ${r.label} run: ${r.edition} (${r.cadence}) to N=${r.n} of ${r.readers} readers${r.rate_limit ? `, Resend limited to ${r.rate_limit} req/s (RESEND_MAX_RPS=${START_RPS})` : ", no rate limit"} ==`,
    );
    say(
      `  status ${r.status}${r.timed_out ? " (TIMED OUT)" : ""}; wall time trigger → finished_at ${r.wall_s} s (poll saw it at ${r.observed_s} s) → ${r.emails_per_s} emails/s`,
    );
    say(
      `  emulator: first email accepted at ${r.first_accepted_s} s, last at ${r.last_accepted_s} s after the trigger; ${r.steady_emails_per_s} emails/s between them`,
    );
    say(
      `  Resend calls: emulator ${r.emulator.requests} requests (${r.emulator.accepted_requests} accepted, ${r.emulator.rate_limited_429} × 429, ${r.emulator.server_errors} × 5xx, ${r.emulator.replays} replays; by status ${JSON.stringify(r.emulator.by_status)}); run record api_calls ${rr.api_calls}, retries ${rr.retries}; ceil(N/100) = ${Math.ceil(r.n / 100)}`,
    );
    say(
      `  D1: rows_read ${rr.rows_read} (${r3(rr.rows_read / r.n)} per subscriber), rows_written ${rr.rows_written} (${r3(rr.rows_written / Math.ceil(r.n / 100))} per batch)`,
    );
    say(
      `  delivery: ${r.emulator.accepted_emails} emails accepted, ${r.delivery.distinct_recipients} distinct recipients; missing ${r.delivery.missing}, duplicates ${r.delivery.duplicates}, unknown ${r.delivery.strangers}; idempotency keys ${r.emulator.idempotency_keys} (${r.emulator.keys_requested_more_than_once} requested more than once); bodies kept: ${r.emulator.bodies_kept}`,
    );
    say(
      `  server CPU (workerd + wrangler) during the send: ${r.server_cpu_s} s = ${r.cpu_ms_per_batch} ms per batch of 100 (upper bound); startup ${r.startup_s} s, import ${r.import_s} s`,
    );
    if (r.preferences && r.editions)
      say(
        `  For you: ${r.preferences.readers} readers with preferences (${r.preferences.distinct} distinct, seed ${r.preferences.seed}, applied in ${r.preferences.apply_s} s); ${r.editions.personal} of ${r.editions.listed} frozen recipients got the personal edition, ${r.editions.selections} distinct selections, ${r.editions.picks_per_personal} picks each; largest frozen batch ${r.editions.max_batch_json_bytes} bytes of JSON`,
      );
    if (r.invocations) {
      const i = r.invocations;
      say(
        `  invocations: ${i.lines} digest lines (${i.malformed} malformed); ${i.batch_invocations} sent batches (${i.batch_messages} messages, ${i.batch_resend_calls} Resend calls): wall p50 ${i.batch_wall_ms.p50} ms, p90 ${i.batch_wall_ms.p90} ms, max ${i.batch_wall_ms.max} ms; per message p50 ${r3(i.batch_wall_ms_per_message.p50)} ms, p90 ${r3(i.batch_wall_ms_per_message.p90)} ms; ${i.fanout_invocations} fan-outs: wall ${i.fanout_wall_ms.sum} ms in all, max ${i.fanout_wall_ms.max} ms; first fan-out ${i.first_fanout?.started_s}–${i.first_fanout?.ended_s} s, first batch invocation ${i.first_batch_invocation?.started_s}–${i.first_batch_invocation?.ended_s} s after the trigger`,
      );
    }
    if (r.budget)
      say(
        `  send budget: rate ${r.budget.rate} (from ${r.budget.rateSource}), mean call time grant → answer ${r.budget.callMs} ms (of which inside the emulator, p50: ${r.emulator_ms_per_call_p50} ms), ${r.budget.rateLimited} × 429 seen`,
      );
    say(
      `  run record: ${JSON.stringify({ recipients: rr.recipients, batches: rr.batches, batches_sent: rr.batches_sent, sent: rr.sent, failures: rr.failures, last_error: rr.last_error })}`,
    );
    say(`  goals:`);
    for (const [k, g] of Object.entries(r.goals))
      say(`    ${k.padEnd(18)} ${String(g.value).padEnd(60)} goal ${g.goal}  ${pf(g.pass)}`);
  }
  say(`\nload avg at the end ${result.machine.loadavg_end.join(" ")} (at the start ${loadavgStart.join(" ")})`);
  say(`run ${ok ? "OK: every goal met" : "FAILED: some goal missed (see above)"}`);
  say(JSON.stringify(result));
  return ok;
}

runBenchmark(main, () => dev, { verbose: VERBOSE });
