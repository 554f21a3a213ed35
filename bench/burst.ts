// Delivery at Resend's rate limit: a signup burst, a rate-limited digest, and both at once, through a private
// `wrangler dev` (local mode) and the Resend emulator (real HTTP on loopback), limited to R requests per second.
//
//   npm run bench:burst                                        # the three scenarios with the defaults below
//   npm run bench:burst -- --only burst                        # one scenario: burst | digest | digest-burst
//   npm run bench:burst -- --subscribers 3000 --rate 2         # a smaller digest
//   flags: --rate R (2)  --seconds S (burst length, 10)  --concurrency C (burst, 32)  --subscribers N (digest, 20000)
//          --only burst|digest|digest-burst  --drain-timeout S (wait for confirmations after the burst, 180)
//          --timeout S (global watchdog, 1500)  --json (one JSON line only)  --verbose (wrangler's output on stderr)
//          --trace (the send budget's state, from GET /admin/stats, every second on stderr)
//
// Every scenario gets its own wrangler dev (a frozen bundle of the worker, a fresh local D1: bench/lib.mjs) with
// RESEND_MAX_RPS = R, and its own emulator API key (= Resend team) limited to R requests per 1 s window, bodies not
// kept. Every Resend call, transactional or digest, draws from the worker's one SendBudget Durable Object.
//
//  burst         POST /api/subscribe for S seconds, C in flight (keep-alive sockets), each with a unique address and
//                CF-Connecting-IP; then polls the emulator until every address that got a 202 has its confirmation
//                (kind=confirm) or the drain timeout passes. Goals: every 202 confirmed exactly once, nothing else
//                sent; the last confirmation accepted by Resend ≤ 60 s after the burst's last answer.
//  digest        N active subscribers imported (text/csv, ≤ 10,000 rows per request), POST /admin/digests/2026-W47/send,
//                run record polled until sent. Goals: N / (finished_at − started_at) ≥ 90 % of 100·R emails/s; every
//                subscriber exactly one digest email and nothing else; no 429 after the first second of sending.
//  digest-burst  as digest, and once the digest has been sending for 20 % of its expected time N/(100·R), the S-second
//                burst of `burst` against the same server. Goals: the digest's own rate and the combined rate
//                ((N + confirmations) / digest start → whichever finished last) ≥ 90 % of 100·R; the last confirmation
//                ≤ 60 s after the burst; both exactly once; no 429 after the first second. Also reported: how the
//                calls were shared (digest vs confirmation) while both were sending.
//
// Also printed per scenario: Resend calls by lane (idempotency key mail/… or digest/…) and status, the most calls
// answered in any 1 s, accepted calls/s, one budget slot's cycle (answer → answer ⌊R⌋ calls later; 1000·⌊R⌋/R ms at
// exactly R/s), the SendBudget's own counters (GET /admin/stats), and a per-second timeline of the calls by lane.
//
// Times are compared on this machine's one clock: the emulator (in this process) stamps each accepted email
// (`createdAt`) and each answer (`at`); the bench stamps each signup's answer; the worker stamps the run record.
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import http from "node:http";
import os from "node:os";
import type { runRecord } from "../src/routes/digests";
import type { EmulatorStats, StoredEmail } from "../test/emulators/resend";
import { startEmulators } from "../test/emulators/serve";
import {
  childEnv,
  cliArgs,
  createDevServer,
  fetchJson,
  freePorts,
  groupCpuMs,
  runBenchmark,
  runWrangler,
  startWatchdog,
  // @ts-expect-error plain ESM shared by the benchmarks, without type declarations
} from "./lib.mjs";

const WEEK = "2026-W47";
const GOALS = { confirmWithinS: 60, rateRatio: 0.9, steadyAfterS: 1 };
const SCENARIOS = ["burst", "digest", "digest-burst"] as const;
type ScenarioName = (typeof SCENARIOS)[number];

// ---------- arguments ----------
const { args, flag, num } = cliArgs() as {
  args: string[];
  flag: (n: string) => boolean;
  num: (n: string, d: number) => number;
};
function opt(name: string): string | undefined {
  const i = args.findIndex((a) => a === `--${name}` || a.startsWith(`--${name}=`));
  if (i < 0) return undefined;
  return args[i]!.includes("=") ? args[i]!.split("=")[1] : args[i + 1];
}
if (flag("help")) {
  console.log(
    "usage: tsx bench/burst.ts [--rate 2] [--seconds 10] [--concurrency 32] [--subscribers 20000] [--only burst|digest|digest-burst] [--drain-timeout 180] [--timeout 1500] [--json] [--verbose] [--trace]",
  );
  process.exit(0);
}
const RATE = num("rate", 2);
const BURST_S = num("seconds", 10);
const CONCURRENCY = Math.floor(num("concurrency", 32));
const N = Math.floor(num("subscribers", 20_000));
const DRAIN_TIMEOUT_S = num("drain-timeout", 180);
const TIMEOUT_S = num("timeout", 1500);
const JSON_ONLY = flag("json");
const VERBOSE = flag("verbose");
const TRACE = flag("trace");
const ONLY = opt("only");
if (ONLY !== undefined && !SCENARIOS.includes(ONLY as ScenarioName)) {
  console.error(`--only takes one of ${SCENARIOS.join(", ")}, got ${ONLY}`);
  process.exit(2);
}
const RUN: ScenarioName[] = ONLY ? [ONLY as ScenarioName] : [...SCENARIOS];
const IMPORT_CHUNK = 10_000;
const TARGET = 100 * RATE; // emails/s at R calls/s of 100 emails

const say = (...a: unknown[]) => {
  if (!JSON_ONLY) console.log(...a);
};
const note = (...a: unknown[]) => {
  if (!JSON_ONLY) console.error(...a);
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const r3 = (x: number) => (Number.isFinite(x) ? Math.round(x * 1000) / 1000 : null);
const pct = (sorted: number[], p: number) =>
  sorted.length ? sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]! : NaN;

// ---------- process management (bench/lib.mjs) ----------
type DevServer = ReturnType<typeof createDevServer>;
let dev: DevServer | null = null; // the running scenario's wrangler dev

startWatchdog(TIMEOUT_S, () => dev);
const ctl = fetchJson;

// ---------- HTTP: the signup burst (node:http, keep-alive, like bench/load.mjs) ----------
function post(
  agent: http.Agent,
  port: number,
  path: string,
  headers: Record<string, string | number>,
  body: string,
  timeoutMs = 60_000,
) {
  return new Promise<{ status: number; body: string }>((resolve) => {
    const req = http.request({ host: "127.0.0.1", port, method: "POST", path, agent, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8") }));
      res.on("error", (err) => resolve({ status: 0, body: String(err) }));
    });
    req.setTimeout(timeoutMs, () => req.destroy(new Error("timeout")));
    req.on("error", (err) => resolve({ status: 0, body: String(err) }));
    req.end(body);
  });
}

type RunRecord = ReturnType<typeof runRecord>;
type LogEntry = {
  path: string;
  status: number;
  name?: string;
  idempotencyKey: string | null;
  retryAfter?: number;
  at: number;
};

interface Server {
  base: string;
  port: number;
  auth: Record<string, string>;
  apiKey: string;
  runId: string;
  startupS: number;
  resendUrl: string;
  /** Worker log lines that report a send problem (retries, failures), counted from the server's output. */
  problems: { count: number; samples: string[] };
}

async function startServer(label: ScenarioName, resendUrl: string): Promise<Server> {
  dev = createDevServer({ prefix: `bench-burst-${label}-`, verbose: VERBOSE, note }) as DevServer;
  dev.snapshot();
  const { port, inspector } = await freePorts();
  const base = `http://127.0.0.1:${port}`;
  const adminToken = randomBytes(24).toString("hex");
  const apiKey = `re_bench_${randomBytes(12).toString("hex")}`;
  const runId = randomBytes(3).toString("hex");

  // The emulator team for this key: Resend's rate limit of R requests per 1 s window; no bodies kept.
  const cfg = await ctl(resendUrl, "POST", "/_emulator/config", {
    headers: { Authorization: `Bearer ${apiKey}`, "Content-Type": "application/json" },
    body: JSON.stringify({ keepBodies: false, countOnly: false, rateLimit: { requests: RATE, windowSec: 1 } }),
  });
  if (cfg.status !== 200) throw new Error(`emulator config failed: ${cfg.status} ${cfg.text}`);

  const problems = { count: 0, samples: [] as string[] };
  dev.onOutput((chunk: string) => {
    for (const line of chunk.split("\n")) {
      if (!/(mail|digest): .*(fail|retry|given up|could not|unknown)/i.test(line)) continue;
      problems.count++;
      if (problems.samples.length < 5) problems.samples.push(line.trim().slice(0, 300));
    }
  });

  say(
    `\n[${label}] emulator limit ${RATE} req/s, RESEND_MAX_RPS=${RATE}: wrangler dev on ${base} (inspector ${inspector})…`,
  );
  const startupS = await dev.start({
    port,
    inspector,
    tokenSecret: randomBytes(32).toString("hex"),
    probe: async () => (await ctl(base, "GET", "/health", { timeoutMs: 2000 })).status === 200,
    vars: {
      ADMIN_TOKEN: adminToken,
      RESEND_API_KEY: apiKey,
      RESEND_BASE_URL: resendUrl,
      RESEND_MAX_RPS: String(RATE),
      PAPERS_SOURCE: "sample",
    },
  });
  return { base, port, auth: { Authorization: `Bearer ${adminToken}` }, apiKey, runId, startupS, resendUrl, problems };
}

async function stopServer() {
  await dev?.stop();
  dev?.cleanup();
  dev = null;
}

async function importSubscribers(s: Server, n: number) {
  const emails = Array.from({ length: n }, (_, i) => `digest-${s.runId}-${i}@example.com`);
  const t0 = performance.now();
  let imported = 0;
  for (let i = 0; i < n; i += IMPORT_CHUNK) {
    const csv = `email\n${emails.slice(i, i + IMPORT_CHUNK).join("\n")}\n`;
    const r = await ctl(s.base, "POST", "/admin/subscribers/import", {
      headers: { ...s.auth, "Content-Type": "text/csv" },
      body: csv,
      timeoutMs: 120_000,
    });
    if (r.status !== 200) throw new Error(`import failed: ${r.status} ${r.text.slice(0, 500)}`);
    imported += r.json.imported;
  }
  const stats = await ctl(s.base, "GET", "/admin/stats", { headers: s.auth });
  const active = stats.json?.subscribers?.active;
  if (imported !== n || active !== n) throw new Error(`import: ${imported} imported, ${active} active, expected ${n}`);
  return { emails, importS: (performance.now() - t0) / 1000 };
}

// ---------- the signup burst ----------
interface Burst {
  sent: number;
  accepted: Map<string, number>; // address → when its 202 arrived (ms, this clock)
  statuses: Record<string, number>;
  samples: { n: number; status: number; body: string }[];
  startAt: number;
  endAt: number; // the burst's last answer
  rps: number;
  p50Ms: number;
  p99Ms: number;
  cpuMs: number;
}

async function runBurst(s: Server, tag: string): Promise<Burst> {
  const agent = new http.Agent({
    keepAlive: true,
    maxSockets: CONCURRENCY,
    maxFreeSockets: CONCURRENCY,
    scheduling: "fifo",
  });
  const addressFor = (n: number) => `${tag}-${s.runId}-${n}@example.com`;
  const ipFor = (n: number) => `10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`;
  const accepted = new Map<string, number>();
  const statuses: Record<string, number> = {};
  const samples: Burst["samples"] = [];
  const lat: number[] = [];
  let next = 0;
  const cpu0 = groupCpuMs(dev!.pid);
  const startAt = Date.now();
  const t0 = performance.now();
  const stopAt = t0 + BURST_S * 1000;
  async function worker() {
    while (performance.now() < stopAt) {
      const n = ++next;
      if (n >= 1 << 24) return;
      const body = JSON.stringify({ email: addressFor(n) });
      const t = performance.now();
      const res = await post(
        agent,
        s.port,
        "/api/subscribe",
        {
          "Content-Type": "application/json",
          Accept: "application/json",
          "Content-Length": Buffer.byteLength(body),
          "CF-Connecting-IP": ipFor(n),
        },
        body,
      );
      lat.push(performance.now() - t);
      const key = res.status === 0 ? "network_error" : String(res.status);
      statuses[key] = (statuses[key] ?? 0) + 1;
      if (res.status === 202) accepted.set(addressFor(n), Date.now());
      else if (samples.length < 5) samples.push({ n, status: res.status, body: res.body.slice(0, 300) });
    }
  }
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  const endAt = Date.now();
  const cpuMs = groupCpuMs(dev!.pid) - cpu0;
  agent.destroy();
  lat.sort((a, b) => a - b);
  return {
    sent: lat.length,
    accepted,
    statuses,
    samples,
    startAt,
    endAt,
    rps: lat.length / ((endAt - startAt) / 1000),
    p50Ms: pct(lat, 50),
    p99Ms: pct(lat, 99),
    cpuMs,
  };
}

// ---------- the emulator's record of the run ----------
async function emulatorRecord(s: Server) {
  const keyQ = `?key=${encodeURIComponent(s.apiKey)}`;
  const stats: EmulatorStats = (await ctl(s.resendUrl, "GET", `/_emulator/stats${keyQ}`)).json;
  const emails = ((await ctl(s.resendUrl, "GET", `/_emulator/emails${keyQ}`, { timeoutMs: 120_000 })).json?.data ??
    []) as StoredEmail[];
  const log = ((await ctl(s.resendUrl, "GET", `/_emulator/requests${keyQ}`)).json?.data ?? []) as LogEntry[];
  return { stats, emails, log };
}
const tag = (e: StoredEmail, name: string) => e.tags.find((t) => t.name === name)?.value;
const isConfirm = (e: StoredEmail) => tag(e, "kind") === "confirm";
const isDigest = (e: StoredEmail) => tag(e, "kind") === "digest" && tag(e, "issue") === WEEK;
const laneOf = (key: string | null) =>
  key?.startsWith("mail/") ? "mail" : key?.startsWith("digest/") ? "digest" : "other";

/** Every 202 exactly one confirmation; latency from its signup's answer to Resend accepting it. */
function confirmations(burst: Burst, emails: StoredEmail[]) {
  const times = new Map<string, number[]>();
  let strangers = 0; // confirmations to an address that got no 202
  for (const e of emails) {
    if (!isConfirm(e)) continue;
    for (const to of e.to) {
      if (!burst.accepted.has(to)) strangers++;
      else times.set(to, [...(times.get(to) ?? []), Date.parse(e.createdAt)]);
    }
  }
  let missing = 0;
  let duplicates = 0;
  let delivered = 0;
  let last = NaN;
  const latency: number[] = [];
  for (const [addr, answeredAt] of burst.accepted) {
    const t = times.get(addr);
    if (!t) {
      missing++;
      continue;
    }
    delivered++;
    if (t.length > 1) duplicates++;
    const first = Math.min(...t);
    latency.push((first - answeredAt) / 1000);
    last = Number.isNaN(last) ? Math.max(...t) : Math.max(last, ...t);
  }
  latency.sort((a, b) => a - b);
  const emailsCount = emails.filter(isConfirm).length;
  return {
    accepted: burst.accepted.size,
    delivered,
    confirmation_emails: emailsCount,
    missing,
    duplicates,
    strangers,
    first_at: emails.filter(isConfirm).reduce((m, e) => Math.min(m, Date.parse(e.createdAt)), Infinity),
    last_at: last,
    last_after_burst_s: r3((last - burst.endAt) / 1000),
    latency_p50_s: r3(pct(latency, 50)),
    latency_p99_s: r3(pct(latency, 99)),
    latency_max_s: r3(latency.at(-1) ?? NaN),
  };
}

/** Every subscriber exactly one digest email of the week. */
function digestDelivery(subscribers: string[], emails: StoredEmail[]) {
  const seen = new Map<string, number>();
  let digestEmails = 0;
  for (const e of emails) {
    if (!isDigest(e)) continue;
    digestEmails++;
    for (const to of e.to) seen.set(to, (seen.get(to) ?? 0) + 1);
  }
  const expected = new Set(subscribers);
  let missing = 0;
  for (const a of subscribers) if (!seen.has(a)) missing++;
  let duplicates = 0;
  let strangers = 0;
  for (const [to, c] of seen) {
    if (!expected.has(to)) strangers += c;
    else if (c > 1) duplicates += c - 1;
  }
  let first = Infinity;
  let last = -Infinity;
  for (const e of emails)
    if (isDigest(e)) {
      const t = Date.parse(e.createdAt);
      first = Math.min(first, t);
      last = Math.max(last, t);
    }
  return {
    digest_emails: digestEmails,
    distinct: seen.size,
    missing,
    duplicates,
    strangers,
    first_at: first,
    last_at: last,
  };
}

/** Resend calls by lane and status; 429s after the first second of sending. */
function calls(log: LogEntry[]) {
  const first = log.length ? Math.min(...log.map((l) => l.at)) : NaN;
  const byLane: Record<string, { calls: number; ok: number; r429: number; other: number }> = {};
  for (const l of log) {
    byLane[laneOf(l.idempotencyKey)] ??= { calls: 0, ok: 0, r429: 0, other: 0 };
    const b = byLane[laneOf(l.idempotencyKey)]!;
    b.calls++;
    if (l.status === 200) b.ok++;
    else if (l.status === 429) b.r429++;
    else b.other++;
  }
  const r429 = log.filter((l) => l.status === 429);
  return {
    total: log.length,
    by_lane: byLane,
    rate_limited_429: r429.length,
    rate_limited_429_after_first_s: r429.filter((l) => l.at - first > GOALS.steadyAfterS * 1000).length,
    first_at: first,
    // The most calls the emulator answered in any 1 s window (sliding): ≤ R if the budget holds.
    max_calls_in_1s: maxInWindow(
      log.filter((l) => l.status !== 429).map((l) => l.at),
      1000,
    ),
    ...pacing(log.filter((l) => l.status === 200).map((l) => l.at)),
  };
}
/**
 * How close the answers came to Resend's limit. `calls_per_s`: accepted calls over first → last answer. `slot_cycle_ms`:
 * the time from one answer to the answer ⌊R⌋ calls later (p50, p90) — one budget slot's cycle; at exactly R calls/s it
 * would be 1000·⌊R⌋/R ms, and anything above is the time a call holds its slot from the grant to the answer (the
 * budget counts a call from its grant until a window after its answer), plus any idle time with nobody waiting.
 */
function pacing(answers: number[]) {
  const t = [...answers].sort((a, b) => a - b);
  const k = Math.max(1, Math.floor(RATE));
  const cycles = t
    .slice(k)
    .map((x, i) => x - t[i]!)
    .sort((a, b) => a - b);
  return {
    calls_per_s: r3(t.length > 1 ? (t.length - 1) / ((t.at(-1)! - t[0]!) / 1000) : NaN),
    slot_cycle_ms: { p50: r3(pct(cycles, 50)), p90: r3(pct(cycles, 90)), ideal: r3((1000 * k) / RATE) },
  };
}
/**
 * One string per second since `from`: a letter per call answered in that second, `d` digest, `m` transactional
 * mail, upper case for a 429, `.` for a second without a call. Shows how the budget shared the calls.
 */
function timeline(log: LogEntry[], from: number) {
  const secs: string[] = [];
  for (const l of [...log].sort((a, b) => a.at - b.at)) {
    const i = Math.max(0, Math.floor((l.at - from) / 1000));
    while (secs.length <= i) secs.push("");
    const ch = laneOf(l.idempotencyKey) === "digest" ? "d" : laneOf(l.idempotencyKey) === "mail" ? "m" : "o";
    secs[i] += l.status === 429 ? ch.toUpperCase() : ch;
  }
  return secs.map((x) => x || ".").join(" ");
}
function maxInWindow(times: number[], ms: number) {
  const t = [...times].sort((a, b) => a - b);
  let best = 0;
  for (let i = 0, j = 0; i < t.length; i++) {
    while (t[i]! - t[j]! >= ms) j++;
    best = Math.max(best, i - j + 1);
  }
  return best;
}

async function budgetState(s: Server) {
  return (await ctl(s.base, "GET", "/admin/stats", { headers: s.auth })).json?.sending ?? null;
}

/** --trace: the budget's state every second (on stderr) until stopped; `from` is the time shown as 0. */
function traceBudget(s: Server, from: number) {
  let on = TRACE;
  const done = (async () => {
    while (on) {
      const t = Date.now();
      const b = await budgetState(s);
      const emu = (await ctl(s.resendUrl, "GET", `/_emulator/stats?key=${encodeURIComponent(s.apiKey)}`))
        .json as EmulatorStats | null;
      if (b)
        console.error(
          `  trace ${((t - from) / 1000).toFixed(1).padStart(6)} s: inFlight ${b.inFlight}, waiting ${JSON.stringify(b.waiting)}, granted ${JSON.stringify(b.granted)}, answers ${b.answers}, blocked ${b.blockedUntil ?? "-"} | emulator requests ${emu?.requests}, in flight ${emu?.inFlight} (${Date.now() - t} ms)`,
        );
      await sleep(Math.max(0, 1000 - (Date.now() - t)));
    }
  })();
  return async () => {
    on = false;
    await done;
  };
}

// ---------- scenario 1: burst ----------
async function scenarioBurst(resendUrl: string) {
  const s = await startServer("burst", resendUrl);
  say(`[burst] ready after ${s.startupS.toFixed(1)} s; ${BURST_S} s of signups at concurrency ${CONCURRENCY}…`);
  const cpu0 = groupCpuMs(dev!.pid);
  const stopTrace = traceBudget(s, Date.now());
  const burst = await runBurst(s, "burst");
  say(
    `[burst] ${burst.sent} signups in ${((burst.endAt - burst.startAt) / 1000).toFixed(1)} s (${burst.rps.toFixed(0)}/s), ${burst.accepted.size} × 202; waiting for the confirmations…`,
  );
  const drain = await drainConfirmations(s, burst, 0, () => true, DRAIN_TIMEOUT_S * 1000);
  await stopTrace();
  const cpuMs = groupCpuMs(dev!.pid) - cpu0;
  await sleep(3000); // a stray duplicate would show up now
  const budget = await budgetState(s);
  const emu = await emulatorRecord(s);
  await stopServer();

  const conf = confirmations(burst, emu.emails);
  const c = calls(emu.log);
  const others = emu.emails.filter((e) => !isConfirm(e)).length;
  const minCalls = Math.ceil(burst.accepted.size / 100);
  const result = {
    scenario: "burst" as const,
    rate: RATE,
    startup_s: r3(s.startupS),
    burst: burstSummary(burst),
    drained: drain.drained,
    drain_wait_s: r3(drain.waitS),
    confirmations: { ...strip(conf), other_emails: others },
    resend: {
      ...emuSummary(emu.stats, c),
      calls_min: minCalls,
      idempotency_keys: Object.keys(emu.stats.byIdempotencyKey).length,
      keys_requested_more_than_once: Object.values(emu.stats.byIdempotencyKey).filter((v) => v.requests > 1).length,
    },
    budget,
    server_cpu_s: r3(cpuMs / 1000),
    server_problems: s.problems,
    timeline: timeline(emu.log, burst.startAt), // from the burst's start
  };
  const goals = {
    exactly_once: {
      goal: "every 202 exactly one confirmation, nothing else",
      value: `${conf.delivered}/${conf.accepted} confirmed, ${conf.missing} missing, ${conf.duplicates} duplicated, ${conf.strangers + others} others`,
      pass:
        conf.accepted > 0 &&
        conf.missing === 0 &&
        conf.duplicates === 0 &&
        conf.strangers === 0 &&
        others === 0 &&
        conf.confirmation_emails === conf.accepted,
    },
    confirm_latency: {
      goal: `last confirmation <= ${GOALS.confirmWithinS} s after the burst`,
      value: `${conf.last_after_burst_s} s`,
      pass: drain.drained && conf.last_after_burst_s !== null && conf.last_after_burst_s <= GOALS.confirmWithinS,
    },
  };
  return { ...result, goals };
}

/** Polls the emulator's per-recipient summary until `others + accepted` recipients and `extraDone()`, or the timeout. */
async function drainConfirmations(
  s: Server,
  burst: Burst,
  others: number,
  extraDone: () => boolean,
  timeoutMs: number,
) {
  const keyQ = `?key=${encodeURIComponent(s.apiKey)}`;
  const t0 = performance.now();
  let lastLine = 0;
  for (;;) {
    const d = (await ctl(s.resendUrl, "GET", `/_emulator/delivery${keyQ}`)).json as {
      recipients: number;
      emails: number;
      duplicated: number;
    } | null;
    const got = (d?.recipients ?? 0) - others;
    if (got >= burst.accepted.size && extraDone()) return { drained: true, waitS: (performance.now() - t0) / 1000 };
    if (performance.now() - t0 > timeoutMs) return { drained: false, waitS: (performance.now() - t0) / 1000 };
    if (!JSON_ONLY && performance.now() - lastLine > 5000) {
      lastLine = performance.now();
      note(
        `  … ${((Date.now() - burst.endAt) / 1000).toFixed(0)} s after the burst: ${d?.recipients ?? "?"} recipients (${burst.accepted.size} confirmations${others ? ` + ${others} digest` : ""} expected)`,
      );
    }
    await sleep(250);
  }
}

function burstSummary(b: Burst) {
  const non202 = b.sent - b.accepted.size;
  return {
    seconds: r3((b.endAt - b.startAt) / 1000),
    sent: b.sent,
    accepted_202: b.accepted.size,
    non_202: non202,
    statuses: b.statuses,
    non_202_samples: b.samples,
    signups_per_s: r3(b.rps),
    answer_p50_ms: r3(b.p50Ms),
    answer_p99_ms: r3(b.p99Ms),
    server_cpu_s: r3(b.cpuMs / 1000),
  };
}
function strip<T extends { first_at: number; last_at: number }>(x: T) {
  const { first_at: _f, last_at: _l, ...rest } = x;
  return rest;
}
function emuSummary(st: EmulatorStats, c: ReturnType<typeof calls>) {
  return {
    requests: st.requests,
    accepted_requests: st.acceptedRequests,
    accepted_emails: st.acceptedEmails,
    rate_limited_429: st.rateLimited,
    rate_limited_429_after_first_s: c.rate_limited_429_after_first_s,
    server_errors: st.serverErrors,
    replays: st.replays,
    by_status: st.byStatus,
    by_lane: c.by_lane,
    max_calls_in_1s: c.max_calls_in_1s,
    calls_per_s: c.calls_per_s,
    slot_cycle_ms: c.slot_cycle_ms,
  };
}

// ---------- scenarios 2 and 3: digest, digest + burst ----------
async function scenarioDigest(resendUrl: string, withBurst: boolean) {
  const label: ScenarioName = withBurst ? "digest-burst" : "digest";
  const s = await startServer(label, resendUrl);
  const { emails: subscribers, importS } = await importSubscribers(s, N);
  const expectedS = N / TARGET;
  const burstAfterS = 0.2 * expectedS;
  say(
    `[${label}] ready after ${s.startupS.toFixed(1)} s; imported ${N} subscribers in ${importS.toFixed(1)} s; sending ${WEEK} (expected ${expectedS.toFixed(0)} s at ${TARGET} emails/s)${withBurst ? `, signup burst from ${burstAfterS.toFixed(1)} s` : ""}…`,
  );

  const runTimeoutMs = (expectedS * 4 + 120 + (withBurst ? BURST_S + DRAIN_TIMEOUT_S : 0)) * 1000;
  const cpu0 = groupCpuMs(dev!.pid);
  const tTrigger = Date.now();
  const trig = await ctl(s.base, "POST", `/admin/digests/${WEEK}/send`, { headers: s.auth });
  if (trig.status !== 202) throw new Error(`send trigger failed: ${trig.status} ${trig.text.slice(0, 500)}`);
  let rec: RunRecord = trig.json;
  const stopTrace = traceBudget(s, tTrigger);
  let burst: Burst | null = null;
  let burstRun: Promise<Burst> | null = null;
  let digestSeenAt = NaN;
  let lastLine = 0;
  for (;;) {
    if (withBurst && !burstRun && Date.now() - tTrigger >= burstAfterS * 1000) {
      note(
        `  … ${((Date.now() - tTrigger) / 1000).toFixed(1)} s: ${rec.sent}/${N} sent; signup burst starts (${BURST_S} s at concurrency ${CONCURRENCY})`,
      );
      burstRun = runBurst(s, "burst").then((b) => (burst = b));
    }
    const r = await ctl(s.base, "GET", `/admin/digests/${WEEK}`, { headers: s.auth });
    if (r.status === 200) rec = r.json;
    if (["sent", "failed", "skipped"].includes(rec.status)) {
      digestSeenAt = Date.now();
      break;
    }
    if (Date.now() - tTrigger > runTimeoutMs) break;
    if (!JSON_ONLY && Date.now() - lastLine > 5000) {
      lastLine = Date.now();
      note(
        `  … ${((Date.now() - tTrigger) / 1000).toFixed(0)} s: ${rec.status}, ${rec.sent}/${N} sent, ${rec.batches_sent}/${rec.batches} batches, ${rec.api_calls} calls, ${rec.retries} retries`,
      );
    }
    await sleep(200);
  }
  const digestTimedOut = Number.isNaN(digestSeenAt);
  // The digest may finish before the burst even starts (small N): the burst still runs, against the idle digest.
  if (withBurst && !burstRun) burstRun = runBurst(s, "burst").then((b) => (burst = b));
  let drain = { drained: true, waitS: 0 };
  if (burstRun) {
    const b = await burstRun;
    say(
      `[${label}] burst: ${b.sent} signups in ${((b.endAt - b.startAt) / 1000).toFixed(1)} s (${b.rps.toFixed(0)}/s), ${b.accepted.size} × 202; digest ${rec.status}; waiting for the confirmations…`,
    );
    drain = await drainConfirmations(s, b, N, () => true, DRAIN_TIMEOUT_S * 1000);
  }
  await stopTrace();
  const cpuMs = groupCpuMs(dev!.pid) - cpu0;
  await sleep(3000); // stray duplicates would show up now
  const after = await ctl(s.base, "GET", `/admin/digests/${WEEK}`, { headers: s.auth });
  if (after.status === 200) rec = after.json;
  const budget = await budgetState(s);
  const emu = await emulatorRecord(s);
  await stopServer();

  const startedMs = Date.parse(rec.started_at);
  const finishedMs = rec.finished_at ? Date.parse(rec.finished_at) : NaN;
  const digestWallS = (finishedMs - startedMs) / 1000;
  const dd = digestDelivery(subscribers, emu.emails);
  const c = calls(emu.log);
  const { papers: _p, subject: _s, ...runRec } = rec as RunRecord & { papers?: unknown; subject?: unknown };
  const digestCalls = Math.ceil(N / 100);
  const base = {
    scenario: label,
    rate: RATE,
    n: N,
    startup_s: r3(s.startupS),
    import_s: r3(importS),
    timed_out: digestTimedOut,
    status: rec.status,
    trigger_to_started_s: r3((startedMs - tTrigger) / 1000),
    digest_wall_s: r3(digestWallS), // started_at → finished_at
    digest_emails_per_s: r3(N / digestWallS),
    digest_first_accepted_s: r3((dd.first_at - startedMs) / 1000),
    digest_last_accepted_s: r3((dd.last_at - startedMs) / 1000),
    run_record: runRec,
    digest_delivery: strip(dd),
    resend: { ...emuSummary(emu.stats, c), digest_calls_min: digestCalls },
    budget,
    server_cpu_s: r3(cpuMs / 1000),
    server_problems: s.problems,
    timeline: timeline(emu.log, startedMs), // from the digest's started_at
  };
  const digestOnce = dd.missing === 0 && dd.duplicates === 0 && dd.strangers === 0 && dd.digest_emails === N;
  const commonGoals = {
    finished: {
      goal: "status sent",
      value: rec.status + (digestTimedOut ? " (timed out)" : ""),
      pass: rec.status === "sent" && !digestTimedOut,
    },
    digest_rate: {
      goal: `N / (finished_at − started_at) >= ${GOALS.rateRatio * 100}% of 100·R = ${GOALS.rateRatio * TARGET} emails/s`,
      value: `${r3(N / digestWallS)} emails/s (${r3((100 * N) / digestWallS / TARGET)}%)`,
      pass: N / digestWallS >= GOALS.rateRatio * TARGET,
    },
    no_429_steady: {
      goal: `no 429 after the first ${GOALS.steadyAfterS} s`,
      value: `${c.rate_limited_429_after_first_s} (of ${c.rate_limited_429} in all)`,
      pass: c.rate_limited_429_after_first_s === 0,
    },
  };

  if (!withBurst) {
    const others = emu.emails.length - dd.digest_emails;
    return {
      ...base,
      other_emails: others,
      goals: {
        ...commonGoals,
        exactly_once: {
          goal: "every subscriber exactly one digest email, nothing else",
          value: `${dd.digest_emails} digest emails, ${dd.missing} missing, ${dd.duplicates} duplicates, ${dd.strangers + others} others`,
          pass: digestOnce && others === 0,
        },
      },
    };
  }

  const b = burst as Burst | null;
  if (!b) throw new Error("the burst did not run");
  const conf = confirmations(b, emu.emails);
  const others = emu.emails.length - dd.digest_emails - conf.confirmation_emails;
  const lastMs = Math.max(finishedMs, Number.isFinite(conf.last_at) ? conf.last_at : -Infinity);
  const combinedS = (lastMs - startedMs) / 1000;
  const combinedRate = (N + conf.delivered) / combinedS;

  // How the calls were shared while both lanes were sending: from the later first call to the earlier last call.
  const laneTimes = (lane: string) => emu.log.filter((l) => laneOf(l.idempotencyKey) === lane).map((l) => l.at);
  const mailT = laneTimes("mail");
  const digT = laneTimes("digest");
  const overlapFrom = Math.max(Math.min(...mailT), Math.min(...digT));
  const overlapTo = Math.min(Math.max(...mailT), Math.max(...digT));
  const inOverlap = (t: number[]) => t.filter((x) => x >= overlapFrom && x <= overlapTo).length;
  const overlapS = (overlapTo - overlapFrom) / 1000;
  const overlap =
    mailT.length && digT.length && overlapTo >= overlapFrom
      ? {
          seconds: r3(overlapS),
          digest_calls: inOverlap(digT),
          mail_calls: inOverlap(mailT),
          calls_per_s: r3((inOverlap(digT) + inOverlap(mailT)) / Math.max(overlapS, 1e-3)),
        }
      : { seconds: 0, digest_calls: 0, mail_calls: 0, calls_per_s: null };
  return {
    ...base,
    burst_started_after_digest_s: r3((b.startAt - startedMs) / 1000),
    burst: burstSummary(b),
    drained: drain.drained,
    drain_wait_s: r3(drain.waitS),
    confirmations: strip(conf),
    combined: {
      emails: N + conf.delivered,
      seconds: r3(combinedS),
      emails_per_s: r3(combinedRate),
      finished_last: lastMs === finishedMs ? "digest" : "confirmations",
    },
    overlap,
    other_emails: others,
    goals: {
      ...commonGoals,
      combined_rate: {
        goal: `(N + confirmations) / (digest start → last finished) >= ${GOALS.rateRatio * TARGET} emails/s`,
        value: `${r3(combinedRate)} emails/s (${r3((100 * combinedRate) / TARGET)}%)`,
        pass: combinedRate >= GOALS.rateRatio * TARGET,
      },
      confirm_latency: {
        goal: `last confirmation <= ${GOALS.confirmWithinS} s after the burst`,
        value: `${conf.last_after_burst_s} s`,
        pass: drain.drained && conf.last_after_burst_s !== null && conf.last_after_burst_s <= GOALS.confirmWithinS,
      },
      digest_exactly_once: {
        goal: "every subscriber exactly one digest email",
        value: `${dd.digest_emails} digest emails, ${dd.missing} missing, ${dd.duplicates} duplicates, ${dd.strangers} to others`,
        pass: digestOnce,
      },
      confirm_exactly_once: {
        goal: "every 202 exactly one confirmation, nothing else",
        value: `${conf.delivered}/${conf.accepted} confirmed, ${conf.missing} missing, ${conf.duplicates} duplicated, ${conf.strangers + others} others`,
        pass:
          conf.accepted > 0 &&
          conf.missing === 0 &&
          conf.duplicates === 0 &&
          conf.strangers === 0 &&
          others === 0 &&
          conf.confirmation_emails === conf.accepted,
      },
    },
  };
}

// ---------- main ----------
type Goal = { goal: string; value: string; pass: boolean };

async function main() {
  const emulators = await startEmulators();
  const wranglerVersion = runWrangler(["--version"]).trim();
  const nodeVersion = spawnSync("node", ["--version"], { env: childEnv, encoding: "utf8" }).stdout.trim();
  say(
    `bench:burst  rate ${RATE} req/s (target ${GOALS.rateRatio} × 100·R = ${GOALS.rateRatio * TARGET} emails/s)  burst ${BURST_S} s at concurrency ${CONCURRENCY}  subscribers ${N}  scenarios ${RUN.join(", ")}`,
  );
  say(
    `machine: ${os.cpus().length} cores (${os.cpus()[0]?.model ?? "?"}), ${Math.round(os.totalmem() / 2 ** 30)} GiB, bench node ${process.version}, wrangler ${wranglerVersion} on node ${nodeVersion}, load avg ${os
      .loadavg()
      .map((x) => x.toFixed(2))
      .join(" ")}`,
  );
  say(`Resend emulator on ${emulators.resendUrl} (in this process)`);

  // biome-ignore lint/suspicious/noExplicitAny: each scenario returns its own report shape; the printer reads them by scenario
  type Run = any;
  const runs: Run[] = [];
  for (const sc of RUN) {
    if (sc === "burst") runs.push(await scenarioBurst(emulators.resendUrl));
    else runs.push(await scenarioDigest(emulators.resendUrl, sc === "digest-burst"));
  }
  await emulators.close().catch(() => undefined);

  const ok = runs.every((r) => Object.values(r.goals as Record<string, Goal>).every((g) => g.pass));
  const result = {
    bench: "burst",
    ok,
    config: {
      rate: RATE,
      seconds: BURST_S,
      concurrency: CONCURRENCY,
      subscribers: N,
      drain_timeout_s: DRAIN_TIMEOUT_S,
      week: WEEK,
    },
    machine: {
      cores: os.cpus().length,
      cpu: os.cpus()[0]?.model ?? null,
      mem_gib: Math.round(os.totalmem() / 2 ** 30),
      bench_node: process.version,
      server_node: nodeVersion,
      wrangler: wranglerVersion,
      loadavg_end: os.loadavg().map(r3),
    },
    runs,
  };
  if (JSON_ONLY) {
    console.log(JSON.stringify(result));
    return ok;
  }

  const pf = (b: boolean) => (b ? "PASS" : "FAIL");
  const lanes = (r: Run) =>
    Object.entries(r.resend.by_lane as Record<string, { calls: number; ok: number; r429: number; other: number }>)
      .map(([k, v]) => `${k} ${v.calls} (${v.ok} ok, ${v.r429} × 429${v.other ? `, ${v.other} other` : ""})`)
      .join(", ");
  const pace = (r: Run) =>
    `${r.resend.calls_per_s} accepted calls/s first → last answer, answer → answer ${Math.max(1, Math.floor(RATE))} calls later p50 ${r.resend.slot_cycle_ms.p50} ms, p90 ${r.resend.slot_cycle_ms.p90} ms (${r.resend.slot_cycle_ms.ideal} ms at exactly R/s)`;
  const burstLines = (b: ReturnType<typeof burstSummary>) => {
    say(
      `  signups: ${b.sent} sent in ${b.seconds} s (${b.signups_per_s}/s, answer p50 ${b.answer_p50_ms} ms, p99 ${b.answer_p99_ms} ms), ${b.accepted_202} × 202, ${b.non_202} other: ${JSON.stringify(b.statuses)}`,
    );
    for (const x of b.non_202_samples) say(`    non-202 sample: #${x.n} ${x.status} ${x.body}`);
  };
  const confLines = (c: Run, drained: boolean) =>
    say(
      `  confirmations: ${c.delivered}/${c.accepted} delivered (${c.confirmation_emails} emails), ${c.missing} missing, ${c.duplicates} duplicated, ${c.strangers} to unknown addresses; ${drained ? "drained" : "NOT drained"}; last ${c.last_after_burst_s} s after the burst's last answer; signup answer → accepted by Resend p50 ${c.latency_p50_s} s, p99 ${c.latency_p99_s} s, max ${c.latency_max_s} s`,
    );
  for (const r of runs) {
    say(
      `\n== ${r.scenario}: Resend limited to ${r.rate} req/s (RESEND_MAX_RPS=${r.rate})${r.n ? `, N=${r.n}` : ""} ==`,
    );
    if (r.scenario === "burst") {
      burstLines(r.burst);
      confLines(r.confirmations, r.drained);
      say(
        `  Resend calls: ${r.resend.requests} (${r.resend.accepted_requests} accepted) vs ceil(202s/100) = ${r.resend.calls_min}; ${r.resend.rate_limited_429} × 429; by status ${JSON.stringify(r.resend.by_status)}; most calls answered in 1 s: ${r.resend.max_calls_in_1s}; ${pace(r)}; keys ${r.resend.idempotency_keys} (${r.resend.keys_requested_more_than_once} requested more than once)`,
      );
      say(
        `  server CPU (workerd + wrangler): ${r.server_cpu_s} s from the burst's start to the last confirmation (${r.burst.server_cpu_s} s during the burst)`,
      );
    } else {
      const rr = r.run_record;
      say(
        `  digest: status ${r.status}${r.timed_out ? " (TIMED OUT)" : ""}; started_at → finished_at ${r.digest_wall_s} s → ${r.digest_emails_per_s} emails/s (${r3((100 * r.digest_emails_per_s) / TARGET)}% of 100·R); trigger → started_at ${r.trigger_to_started_s} s; emails accepted from ${r.digest_first_accepted_s} s to ${r.digest_last_accepted_s} s`,
      );
      say(
        `  run record: ${JSON.stringify({ recipients: rr.recipients, batches: rr.batches, batches_sent: rr.batches_sent, sent: rr.sent, api_calls: rr.api_calls, retries: rr.retries, failures: rr.failures, last_error: rr.last_error })}`,
      );
      say(
        `  digest delivery: ${r.digest_delivery.digest_emails} emails, ${r.digest_delivery.distinct} subscribers, ${r.digest_delivery.missing} missing, ${r.digest_delivery.duplicates} duplicates, ${r.digest_delivery.strangers} to others; other emails ${r.other_emails}`,
      );
      if (r.scenario === "digest-burst") {
        say(`  burst started ${r.burst_started_after_digest_s} s after the digest's start`);
        burstLines(r.burst);
        confLines(r.confirmations, r.drained);
        say(
          `  combined: ${r.combined.emails} emails in ${r.combined.seconds} s (digest start → ${r.combined.finished_last} finished last) → ${r.combined.emails_per_s} emails/s (${r3((100 * r.combined.emails_per_s) / TARGET)}% of 100·R)`,
        );
        say(
          `  sharing while both sent (${r.overlap.seconds} s): ${r.overlap.digest_calls} digest calls, ${r.overlap.mail_calls} confirmation calls (${r.overlap.calls_per_s} calls/s)`,
        );
      }
      say(
        `  Resend calls: ${r.resend.requests} (${r.resend.accepted_requests} accepted): ${lanes(r)}; digest minimum ceil(N/100) = ${r.resend.digest_calls_min}; ${r.resend.rate_limited_429} × 429 (${r.resend.rate_limited_429_after_first_s} after the first second); most calls answered in 1 s: ${r.resend.max_calls_in_1s}; ${pace(r)}`,
      );
      say(
        `  server CPU (workerd + wrangler) from the trigger to the end: ${r.server_cpu_s} s; startup ${r.startup_s} s, import ${r.import_s} s`,
      );
    }
    if (r.budget)
      say(
        `  send budget: rate ${r.budget.rate} (${r.budget.rateSource}), granted ${JSON.stringify(r.budget.granted)}, answers ${r.budget.answers}, rate limited ${r.budget.rateLimited}${r.budget.callMs != null ? `, grant → answer ${r.budget.callMs} ms (recent mean)` : ""}`,
      );
    say(
      `  calls per second (d digest, m confirmation, upper case = 429) from the ${r.scenario === "burst" ? "burst's" : "digest's"} start${r.burst && r.scenario !== "burst" ? ` (burst from ${r.burst_started_after_digest_s} s to ${r3(r.burst_started_after_digest_s + r.burst.seconds)} s)` : ""}:\n    ${r.timeline}`,
    );
    if (r.server_problems.count)
      say(
        `  worker reported ${r.server_problems.count} send problem line(s), e.g.: ${r.server_problems.samples.join(" | ")}`,
      );
    say(`  goals:`);
    for (const [k, g] of Object.entries(r.goals as Record<string, Goal>))
      say(`    ${k.padEnd(22)} ${String(g.value).padEnd(62)} goal ${g.goal}  ${pf(g.pass)}`);
  }
  say(`\nrun ${ok ? "OK: every goal met" : "FAILED: some goal missed (see above)"}`);
  say(JSON.stringify(result));
  return ok;
}

runBenchmark(main, () => dev, { verbose: VERBOSE });
