// Digest send benchmark: a whole weekly issue through a private `wrangler dev` (local mode) and the Resend
// emulator (real HTTP on loopback), measured from the admin "send" trigger to the run record's finished state.
//
//   npm run bench:digest -- --subscribers 20000                 # unlimited run, then the rate-limited run
//   npm run bench:digest -- --rate 2 --limited-subscribers 3000  # the limited run's settings (these are the defaults)
//   npm run bench:digest -- --only-limited --rate 4 --start-rps 2   # the budget learns Resend's stated limit (4) from 2
//   flags: --subscribers N (20000)  --rate R (2)  --start-rps S (RESEND_MAX_RPS of the limited run; default R)
//          --limited-subscribers M (3000)  --no-limited  --only-limited
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
//  5. POST /admin/digests/2026-W47/send, then polls GET /admin/digests/2026-W47 until sent / failed / skipped.
//  6. waits a little for stray (duplicate) sends, then checks in the emulator that every subscriber got the
//     issue exactly once and nothing else was accepted, and reads the run record's counters.
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import os from "node:os";
import { resolve } from "node:path";
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
if (flag("help")) {
  console.log(
    "usage: tsx bench/digest.ts [--subscribers 20000] [--rate 2] [--limited-subscribers 3000] [--no-limited] [--only-limited] [--timeout 1500] [--json] [--verbose] [--root DIR]",
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

interface Scenario {
  label: "unlimited" | "limited";
  n: number;
  rate: number; // 0 = no limit (emulator unlimited, RESEND_MAX_RPS 0)
}

async function runScenario(sc: Scenario, ctx: { resendUrl: string }) {
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

  say(
    `\n[${sc.label}] N=${sc.n}${sc.rate ? `, emulator limit ${sc.rate} req/s, RESEND_MAX_RPS=${START_RPS}` : ", no rate limit, RESEND_MAX_RPS=0"}: wrangler dev on ${base} (inspector ${inspector})…`,
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
    },
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
    `[${sc.label}] ready after ${startupS.toFixed(1)} s; imported ${imported} subscribers in ${importS.toFixed(1)} s; sending ${WEEK}…`,
  );

  // Trigger and poll.
  const runTimeoutMs = (sc.rate > 0 ? (sc.n / (100 * sc.rate)) * 4 + 120 : 300 + sc.n / 100) * 1000;
  const cpu0 = groupCpuMs(dev.pid);
  const tTrigger = Date.now();
  const trig = await http(base, "POST", `/admin/digests/${WEEK}/send`, { headers: auth });
  if (trig.status !== 202) throw new Error(`send trigger failed: ${trig.status} ${trig.text.slice(0, 500)}`);
  let rec: RunRecord = trig.json;
  let tObserved = NaN;
  let lastLine = 0;
  for (;;) {
    const r = await http(base, "GET", `/admin/digests/${WEEK}`, { headers: auth });
    if (r.status === 200) rec = r.json;
    if (["sent", "failed", "skipped"].includes(rec.status)) {
      tObserved = Date.now();
      break;
    }
    if (Date.now() - tTrigger > runTimeoutMs) break;
    if (!JSON_ONLY && Date.now() - lastLine > 5000) {
      lastLine = Date.now();
      note(
        `  … ${((Date.now() - tTrigger) / 1000).toFixed(0)} s: ${rec.status}, ${rec.sent}/${sc.n} sent, ${rec.batches_sent}/${rec.batches} batches, ${rec.api_calls} calls, ${rec.retries} retries`,
      );
    }
    await sleep(200);
  }
  const cpuMs = groupCpuMs(dev.pid) - cpu0;
  const timedOut = Number.isNaN(tObserved);

  // Stray sends (a duplicate message after the finish) would show up now.
  await sleep(3000);
  const after = await http(base, "GET", `/admin/digests/${WEEK}`, { headers: auth });
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
  dev.cleanup();

  // Every subscriber exactly once, nothing else.
  const seen = new Map<string, number>();
  for (const e of list) for (const to of e.to) seen.set(to, (seen.get(to) ?? 0) + 1);
  let missing = 0;
  for (const e of emails) if (!seen.has(e)) missing++;
  const expected = new Set(emails);
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
    n: sc.n,
    rate_limit: sc.rate || null,
    startup_s: r3(startupS),
    import_s: r3(importS),
    timed_out: timedOut,
    status: rec.status,
    wall_s: r3(wallS), // trigger → run record finished_at
    observed_s: r3(observedS), // trigger → first poll that saw the finished state (200 ms polling)
    emails_per_s: r3(sc.n / wallS),
    first_accepted_s: r3(firstAcceptedS), // trigger → first email accepted by the emulator
    last_accepted_s: r3(lastAcceptedS), // trigger → last email accepted by the emulator
    steady_emails_per_s: r3(
      acceptedTimes.length > 1 ? acceptedTimes.length / ((acceptedTimes.at(-1)! - acceptedTimes[0]!) / 1000) : NaN,
    ),
    server_cpu_s: r3(cpuMs / 1000),
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

function judge(r: RunResult) {
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
      goal: "accepted emails == N, each subscriber exactly once",
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
        value: r.run_record.rows_read,
        pass: r.run_record.rows_read <= readGoal,
      },
      rows_written: {
        goal: `<= N/20 + 50 = ${r3(writeGoal)}`,
        value: r.run_record.rows_written,
        pass: r.run_record.rows_written <= writeGoal,
      },
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
  };
}

// ---------- main ----------
async function main() {
  const emulators = await startEmulators();
  const wranglerVersion = runWrangler(["--version"]).trim();
  const nodeVersion = spawnSync("node", ["--version"], { env: childEnv, encoding: "utf8" }).stdout.trim();
  say(
    `bench:digest  week ${WEEK}  subscribers ${N}  limited run: ${RUN_LIMITED ? `${LIMITED_N} subscribers at ${RATE} req/s` : "off"}${ROOT !== REPO ? `  root=${ROOT}` : ""}`,
  );
  say(
    `machine: ${os.cpus().length} cores (${os.cpus()[0]?.model ?? "?"}), ${Math.round(os.totalmem() / 2 ** 30)} GiB, bench node ${process.version}, wrangler ${wranglerVersion} on node ${nodeVersion}, load avg ${os
      .loadavg()
      .map((x) => x.toFixed(2))
      .join(" ")}`,
  );
  say(`Resend emulator on ${emulators.resendUrl}`);

  const runs: RunResult[] = [];
  const ctx = { resendUrl: emulators.resendUrl };
  if (RUN_MAIN) runs.push(await runScenario({ label: "unlimited", n: N, rate: 0 }, ctx));
  if (RUN_LIMITED) runs.push(await runScenario({ label: "limited", n: LIMITED_N, rate: RATE }, ctx));
  await emulators.close().catch(() => undefined);

  const judged = runs.map((r) => ({ ...r, goals: judge(r) }));
  const ok = judged.every((r) => Object.values(r.goals).every((g) => g.pass));
  const result = {
    bench: "digest",
    ok,
    week: WEEK,
    machine: {
      cores: os.cpus().length,
      cpu: os.cpus()[0]?.model ?? null,
      mem_gib: Math.round(os.totalmem() / 2 ** 30),
      bench_node: process.version,
      server_node: nodeVersion,
      wrangler: wranglerVersion,
      loadavg_end: os.loadavg().map(r3),
    },
    runs: judged,
  };

  if (JSON_ONLY) {
    console.log(JSON.stringify(result));
    return ok;
  }
  const pf = (b: boolean) => (b ? "PASS" : "FAIL");
  for (const r of judged) {
    const rr = r.run_record;
    say(
      `\n== ${r.label} run: N=${r.n}${r.rate_limit ? `, Resend limited to ${r.rate_limit} req/s (RESEND_MAX_RPS=${START_RPS})` : ", no rate limit"} ==`,
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
      `  server CPU (workerd + wrangler) during the send: ${r.server_cpu_s} s; startup ${r.startup_s} s, import ${r.import_s} s`,
    );
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
  say(`\nrun ${ok ? "OK: every goal met" : "FAILED: some goal missed (see above)"}`);
  say(JSON.stringify(result));
  return ok;
}

runBenchmark(main, () => dev, { verbose: VERBOSE });
