#!/usr/bin/env node
// Load benchmark for POST /api/subscribe against GET /health, on a private `wrangler dev` (local mode).
//
//   npm run bench:subscribe                                  # defaults: concurrency 16, 10 s per target, 2 rounds
//   npm run bench:subscribe -- --concurrency 8 --seconds 5   # other load
//   npm run bench:subscribe -- --json                        # only one JSON line on stdout
//   flags: --concurrency N  --seconds S  --rounds R  --warmup S  --json  --verbose (wrangler's output on stderr)
//          --root DIR (benchmark another checkout's worker, for A/B comparisons; default: this repo)
//          --no-consumer (request path only: the local queue consumer does not run, see below)
//
// What it does:
//  1. fresh temp --persist-to dir; `wrangler d1 migrations apply DB --local`; `wrangler dev` on free loopback ports
//     (own process group, killed on exit, error, SIGINT/SIGTERM, and by a watchdog).
//  2. waits for GET /health, warms both endpoints up, then runs /health and subscribe alternately for R rounds,
//     each for S seconds with a closed-loop load generator (N connections, keep-alive, one request in flight each).
//     Every subscribe uses a unique address and a unique CF-Connecting-IP, so the per-IP limit (10/min) never applies:
//     any answer other than 202 is counted as an error and fails the run.
//  3. reads D1's own row counts from the local-only `Server-Timing: d1;desc="rows_read=N rows_written=M"` header, and
//     the platform calls each request made from `Server-Timing: platform;desc="d1=… queue=… limiter=…"` (the server
//     runs with LOG_INVOCATIONS=1, which counts every binding call; the counting itself costs a little CPU).
//  4. stops wrangler, then checks with `wrangler d1 execute` that pending rows == number of 202s.
//  5. prints a table (per round, best and median of rounds, goals) and a JSON line.
// Also records the CPU time used by the client (this process) and by the server's process group (workerd + wrangler's
// node) per phase, from /proc, because client and server share the same cores.
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import http from "node:http";
import os from "node:os";
import { resolve } from "node:path";
import { childEnv, cliArgs, createDevServer, freePort, REPO, runWrangler as runWranglerIn } from "./lib.mjs";

// The signup path's cost: D1 rows and binding calls per subscribe. Locally every binding call is a call into
// workerd's simulation of the service, so a throughput ratio against /health measures the simulation; the server
// CPU per request is reported next to /health's instead (and the ratios for reference).
// Rows: 4 until issue 8 made ids never reused (AUTOINCREMENT): a new row now also reads and writes its sequence in
// sqlite_sequence. Measured with issue 10: 7 for a new mailbox (4 read + 3 written), 6 for a repeat (5 + 1).
const GOALS = { rowsPerSubscribeMax: 7, bindingCallsMax: 3 };

// ---------- arguments ----------
const { args, flag, num } = cliArgs();
if (flag("help")) {
  console.log(
    "usage: node bench/subscribe.mjs [--concurrency 16] [--seconds 10] [--rounds 2] [--warmup 2] [--json] [--verbose] [--root DIR] [--no-consumer]",
  );
  process.exit(0);
}
const CONCURRENCY = Math.floor(num("concurrency", 16));
const SECONDS = num("seconds", 10);
const ROUNDS = Math.floor(num("rounds", 2));
const WARMUP = num("warmup", 2);
const JSON_ONLY = flag("json");
// --root DIR: benchmark the worker of another checkout (its wrangler.toml, migrations and src), e.g. for A/B runs.
const rootIdx = args.indexOf("--root");
const ROOT = rootIdx >= 0 ? resolve(args[rootIdx + 1]) : REPO;
const VERBOSE = flag("verbose");
// --no-consumer: drop [[queues.consumers]] from the snapshot's wrangler.toml. Locally the mail consumer runs in the
// same workerd as the request path and competes for the same cores; in production it runs in its own invocations.
// This mode measures the request path alone (the queue send is still made; messages just wait in the local queue).
const NO_CONSUMER = flag("no-consumer");
const say = (...a) => {
  if (!JSON_ONLY) console.log(...a);
};
const note = (...a) => {
  if (!JSON_ONLY) console.error(...a);
};

// ---------- process management (bench/lib.mjs) ----------
const dev = createDevServer({ root: ROOT, prefix: "bench-subscribe-", verbose: VERBOSE, note });
const wranglerLog = dev.log;
const runWrangler = (argv, opts = {}) => runWranglerIn(argv, { cwd: ROOT, ...opts });
const stopServer = () => dev.stop();
const removePersistDir = () => dev.cleanup();

// ---------- CPU accounting from /proc (Linux) ----------
const CLK_TCK = Number(spawnSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).stdout.trim()) || 100;
/** CPU ms used so far by every live process in the server's process group, by pid (with its command name). */
function groupCpu() {
  const out = {};
  const serverPid = dev.pid;
  if (!serverPid || process.platform !== "linux") return out;
  for (const pid of readdirSync("/proc")) {
    if (!/^\d+$/.test(pid)) continue;
    let stat;
    try {
      stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    } catch {
      continue;
    }
    const close = stat.lastIndexOf(")");
    const comm = stat.slice(stat.indexOf("(") + 1, close);
    const f = stat.slice(close + 2).split(" "); // f[0] = state (field 3)
    if (Number(f[2]) !== serverPid) continue; // pgrp (field 5)
    const ms = ((Number(f[11]) + Number(f[12])) * 1000) / CLK_TCK; // utime + stime (fields 14, 15)
    out[pid] = { name: comm.startsWith("workerd") ? "workerd" : comm, ms };
  }
  return out;
}
/** CPU ms per command name between two snapshots (a process born in between counts from 0; one that died is lost). */
function diffCpu(a, b) {
  const out = {};
  for (const [pid, { name, ms }] of Object.entries(b)) out[name] = (out[name] ?? 0) + ms - (a[pid]?.ms ?? 0);
  return out;
}
/** Busy CPU ms of the whole machine (all cores), from /proc/stat: to tell how much other work ran meanwhile. */
function machineBusyMs() {
  try {
    const f = readFileSync("/proc/stat", "utf8").split("\n")[0].trim().split(/\s+/).slice(1).map(Number);
    const idle = f[3] + (f[4] ?? 0);
    const total = f.slice(0, 8).reduce((s, v) => s + v, 0);
    return ((total - idle) * 1000) / CLK_TCK;
  } catch {
    return NaN;
  }
}

// ---------- HTTP client ----------
let BASE_PORT = 0;
const agent = new http.Agent({
  keepAlive: true,
  maxSockets: CONCURRENCY,
  maxFreeSockets: CONCURRENCY,
  scheduling: "fifo",
});

function request(method, path, { headers = {}, body = null, timeoutMs = 30_000 } = {}) {
  return new Promise((resolve) => {
    const req = http.request({ host: "127.0.0.1", port: BASE_PORT, method, path, agent, headers }, (res) => {
      const chunks = [];
      res.on("data", (c) => chunks.push(c));
      res.on("end", () =>
        resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks).toString("utf8") }),
      );
      res.on("error", (err) => resolve({ status: 0, error: String(err) }));
    });
    req.setTimeout(timeoutMs, () => req.destroy(new Error("timeout")));
    req.on("error", (err) => resolve({ status: 0, error: String(err) }));
    req.end(body);
  });
}

// Unique subscriber per request: address and client IP both derived from one counter.
const RUN = randomBytes(3).toString("hex");
let seq = 0;
const ipFor = (n) => `10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`;
const accepted = { count: 0 }; // every 202, warm-up included: must equal the pending rows at the end

const TARGETS = {
  health: {
    label: "GET /health",
    expect: 200,
    send: () => request("GET", "/health"),
  },
  subscribe: {
    label: "POST /api/subscribe",
    expect: 202,
    send: () => {
      const n = ++seq;
      if (n >= 1 << 24) throw new Error("ran out of unique client IPs");
      // One mailbox per request (a +tag would name the same mailbox: one row, updated); every other one picks topics.
      const email = `bench-${RUN}-${n}@example.com`;
      const body = JSON.stringify(n % 2 ? { email, topics: ["vision", "code"] } : { email });
      return request("POST", "/api/subscribe", {
        headers: {
          "Content-Type": "application/json",
          Accept: "application/json",
          "Content-Length": Buffer.byteLength(body),
          "CF-Connecting-IP": ipFor(n),
        },
        body,
      });
    },
  },
};

const D1_RE = /rows_read=(\d+)\s+rows_written=(\d+)/;
const PLATFORM_RE = /platform;desc="([^"]*)"/;

/** Closed loop: CONCURRENCY workers, each sending its next request as soon as the previous answer is in. */
async function phase(name, seconds, { measure = true } = {}) {
  const t = TARGETS[name];
  const lat = [];
  const statuses = {};
  const errorSamples = [];
  const d1 = { n: 0, readSum: 0, writeSum: 0, readMax: 0, writeMax: 0, totalMax: 0, missing: 0 };
  const calls = { n: 0, sum: 0, max: 0, byKind: {} };
  const cpu0 = groupCpu();
  const busy0 = machineBusyMs();
  const client0 = process.cpuUsage();
  const start = performance.now();
  const deadline = start + seconds * 1000;
  async function worker() {
    while (performance.now() < deadline) {
      const t0 = performance.now();
      const res = await t.send();
      const ms = performance.now() - t0;
      lat.push(ms);
      const key = res.status === 0 ? "network_error" : String(res.status);
      statuses[key] = (statuses[key] ?? 0) + 1;
      if (res.status === 202 && name === "subscribe") accepted.count++;
      if (res.status !== t.expect) {
        if (errorSamples.length < 5)
          errorSamples.push({ status: res.status, body: (res.body ?? res.error ?? "").slice(0, 300) });
        continue;
      }
      if (name === "subscribe") {
        const p = PLATFORM_RE.exec(res.headers["server-timing"] ?? "");
        if (p) {
          const counts = Object.fromEntries(
            p[1]
              .split(" ")
              .map((kv) => kv.split("="))
              .map(([k, v]) => [k, Number(v)]),
          );
          calls.n++;
          calls.sum += counts.subrequests;
          calls.max = Math.max(calls.max, counts.subrequests);
          for (const [k, v] of Object.entries(counts))
            if (k !== "subrequests") calls.byKind[k] = Math.max(calls.byKind[k] ?? 0, v);
        }
        const m = D1_RE.exec(res.headers["server-timing"] ?? "");
        if (!m) {
          d1.missing++;
          continue;
        }
        const r = Number(m[1]);
        const w = Number(m[2]);
        d1.n++;
        d1.readSum += r;
        d1.writeSum += w;
        d1.readMax = Math.max(d1.readMax, r);
        d1.writeMax = Math.max(d1.writeMax, w);
        d1.totalMax = Math.max(d1.totalMax, r + w);
      }
    }
  }
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  const elapsed = (performance.now() - start) / 1000;
  const client = process.cpuUsage(client0);
  const serverCpu = diffCpu(cpu0, groupCpu());
  const machineMs = machineBusyMs() - busy0;
  if (!measure) return { statuses };

  lat.sort((a, b) => a - b);
  const pct = (p) =>
    lat.length ? lat[Math.min(lat.length - 1, Math.max(0, Math.ceil((p / 100) * lat.length) - 1))] : NaN;
  const requests = lat.length;
  const errors = requests - (statuses[String(t.expect)] ?? 0);
  const serverMs = Object.values(serverCpu).reduce((s, v) => s + v, 0);
  const r3 = (x) => Math.round(x * 1000) / 1000;
  return {
    target: name,
    requests,
    seconds: r3(elapsed),
    rps: Math.round((requests / elapsed) * 10) / 10,
    p50: r3(pct(50)),
    p90: r3(pct(90)),
    p99: r3(pct(99)),
    max: r3(lat[lat.length - 1] ?? NaN),
    mean: r3(lat.reduce((s, v) => s + v, 0) / (requests || 1)),
    errors,
    statuses,
    error_samples: errorSamples,
    cpu: {
      // CPU ms per request and utilisation (1.0 = one core busy) over the phase
      client_ms_per_req: r3((client.user + client.system) / 1000 / (requests || 1)),
      server_ms_per_req: r3(serverMs / (requests || 1)),
      server_ms_per_req_by_process: Object.fromEntries(
        Object.entries(serverCpu).map(([k, v]) => [k, r3(v / (requests || 1))]),
      ),
      client_cores: r3((client.user + client.system) / 1e6 / elapsed),
      server_cores: r3(serverMs / 1000 / elapsed),
      // everything else that ran on the machine meanwhile (other people's tests…): the noise indicator
      other_cores: r3((machineMs - serverMs - (client.user + client.system) / 1000) / 1000 / elapsed),
    },
    ...(name === "subscribe"
      ? {
          d1: {
            samples: d1.n,
            missing_header: d1.missing,
            rows_read_mean: r3(d1.readSum / (d1.n || 1)),
            rows_read_max: d1.readMax,
            rows_written_mean: r3(d1.writeSum / (d1.n || 1)),
            rows_written_max: d1.writeMax,
            rows_total_mean: r3((d1.readSum + d1.writeSum) / (d1.n || 1)),
            rows_total_max: d1.totalMax,
          },
          binding_calls: {
            samples: calls.n,
            mean: r3(calls.sum / (calls.n || 1)),
            max: calls.max,
            max_by_kind: calls.byKind,
          },
        }
      : {}),
  };
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
function aggregate(rounds) {
  const r3 = (x) => Math.round(x * 1000) / 1000;
  const best = rounds.reduce((b, r) => (r.rps > b.rps ? r : b));
  const med = {};
  for (const k of ["rps", "p50", "p90", "p99", "requests", "errors"]) med[k] = r3(median(rounds.map((r) => r[k])));
  return {
    best: { rps: best.rps, p50: best.p50, p90: best.p90, p99: best.p99, requests: best.requests, errors: best.errors },
    median: med,
  };
}

// ---------- main ----------
const watchdogMs = (2 * ROUNDS * SECONDS + 2 * WARMUP) * 1000 + 240_000;
const watchdog = setTimeout(() => {
  console.error(`watchdog: the benchmark ran over ${Math.round(watchdogMs / 1000)} s; giving up`);
  if (wranglerLog.length) console.error(wranglerLog.slice(-40).join(""));
  process.exit(2);
}, watchdogMs);
watchdog.unref();

async function main() {
  const { workDir } = dev.dirs();
  const port = await freePort();
  let inspector = await freePort();
  while (inspector === port) inspector = await freePort();
  BASE_PORT = port;
  const tokenSecret = randomBytes(32).toString("hex");
  const wranglerVersion = runWrangler(["--version"]).trim();
  const nodeVersion = spawnSync("node", ["--version"], { env: childEnv, encoding: "utf8" }).stdout.trim();

  say(
    `bench:subscribe  concurrency=${CONCURRENCY} seconds=${SECONDS} rounds=${ROUNDS} warmup=${WARMUP}s${NO_CONSUMER ? "  (--no-consumer: request path only)" : ""}${ROOT !== REPO ? `  root=${ROOT}` : ""}`,
  );
  say(
    `machine: ${os.cpus().length} cores (${os.cpus()[0]?.model ?? "?"}), client node ${process.version}, wrangler ${wranglerVersion} on node ${nodeVersion}, load avg ${os
      .loadavg()
      .map((x) => x.toFixed(2))
      .join(" ")}`,
  );
  // Snapshot: the worker is bundled once (as `wrangler deploy` would) and served from a copy with its own
  // wrangler.toml and migrations, so edits to src/ during the run (wrangler dev's file watcher) cannot
  // rebuild or restart the server mid-measurement, and a local .dev.vars is not picked up.
  say(`snapshot in ${workDir}: bundling the worker, applying migrations…`);
  dev.snapshot({ noConsumer: NO_CONSUMER });

  say(`starting wrangler dev on http://127.0.0.1:${port} (inspector ${inspector})…`);
  const startupS = await dev.start({
    port,
    inspector,
    tokenSecret,
    vars: { LOG_INVOCATIONS: "1" },
    probe: async () => (await request("GET", "/health", { timeoutMs: 2000 })).status === 200,
  });
  say(`ready after ${startupS.toFixed(1)} s; warming up ${WARMUP} s per target…`);

  // Warm-up: JIT, the D1 connection, the queue consumer, the keep-alive sockets.
  const warm = {};
  for (const name of ["health", "subscribe"]) warm[name] = (await phase(name, WARMUP, { measure: false })).statuses;
  const badWarm = Object.entries(warm.subscribe).filter(([s]) => s !== "202");
  if (badWarm.length) note(`warning: non-202 answers during warm-up: ${JSON.stringify(warm.subscribe)}`);

  const rounds = { health: [], subscribe: [] };
  for (let i = 0; i < ROUNDS; i++) {
    for (const name of ["health", "subscribe"]) {
      const r = await phase(name, SECONDS);
      rounds[name].push(r);
      say(
        `  round ${i + 1} ${TARGETS[name].label.padEnd(20)} ${String(r.requests).padStart(6)} req  ${r.rps.toFixed(1).padStart(7)} req/s  p50 ${r.p50.toFixed(2)}  p90 ${r.p90.toFixed(2)}  p99 ${r.p99.toFixed(2)} ms  errors ${r.errors}`,
      );
    }
  }

  // Let the queue consumer drain a little, then stop wrangler and count the rows it left.
  await new Promise((r) => setTimeout(r, 1500));
  agent.destroy();
  await stopServer();
  const counts = dev.query(
    "select (select count(*) from subscribers where status = 'pending') as pending, (select count(*) from subscribers) as total, (select count(*) from outbox) as outbox",
  )[0];

  // ---------- summary ----------
  const agg = { health: aggregate(rounds.health), subscribe: aggregate(rounds.subscribe) };
  const r3 = (x) => Math.round(x * 1000) / 1000;
  const ratios = (h, s) => ({ throughput: r3(s.rps / h.rps), p99: r3(s.p99 / h.p99) });
  const ratioMedian = ratios(agg.health.median, agg.subscribe.median);
  const ratioBest = ratios(agg.health.best, agg.subscribe.best);
  // Paired ratios: each subscribe round against the /health round that ran just before it.
  const paired = rounds.subscribe.map((s, i) => ratios(rounds.health[i], s));

  const allSub = rounds.subscribe;
  const d1n = allSub.reduce((s, r) => s + r.d1.samples, 0);
  const wsum = (k) => allSub.reduce((s, r) => s + r.d1[k] * r.d1.samples, 0);
  const bindingCalls = {
    samples: allSub.reduce((s, r) => s + r.binding_calls.samples, 0),
    max: Math.max(...allSub.map((r) => r.binding_calls.max)),
    mean: r3(
      allSub.reduce((s, r) => s + r.binding_calls.mean * r.binding_calls.samples, 0) /
        (allSub.reduce((s, r) => s + r.binding_calls.samples, 0) || 1),
    ),
    max_by_kind: Object.assign({}, ...allSub.map((r) => r.binding_calls.max_by_kind)),
  };
  const cpuPerReq = (rs) =>
    r3(rs.map((r) => r.cpu.server_ms_per_req).sort((a, b) => a - b)[Math.floor((rs.length - 1) / 2)]);
  const serverCpu = { health_ms_per_req: cpuPerReq(rounds.health), subscribe_ms_per_req: cpuPerReq(allSub) };
  serverCpu.ratio = r3(serverCpu.subscribe_ms_per_req / serverCpu.health_ms_per_req);
  const d1 = {
    samples: d1n,
    missing_header: allSub.reduce((s, r) => s + r.d1.missing_header, 0),
    rows_read_mean: r3(wsum("rows_read_mean") / (d1n || 1)),
    rows_read_max: Math.max(...allSub.map((r) => r.d1.rows_read_max)),
    rows_written_mean: r3(wsum("rows_written_mean") / (d1n || 1)),
    rows_written_max: Math.max(...allSub.map((r) => r.d1.rows_written_max)),
    rows_total_mean: r3(wsum("rows_total_mean") / (d1n || 1)),
    rows_total_max: Math.max(...allSub.map((r) => r.d1.rows_total_max)),
  };
  const subscribeErrors = allSub.reduce((s, r) => s + r.errors, 0) + badWarm.reduce((s, [, n]) => s + n, 0);
  const healthErrors = rounds.health.reduce((s, r) => s + r.errors, 0);
  const checks = {
    no_errors: subscribeErrors === 0 && healthErrors === 0,
    d1_header_present: d1.missing_header === 0 && d1.samples > 0,
    pending_rows_match_202s: counts.pending === accepted.count,
  };
  const goals = {
    d1_rows_per_subscribe: {
      goal: `<= ${GOALS.rowsPerSubscribeMax}`,
      mean: d1.rows_total_mean,
      max: d1.rows_total_max,
      pass: d1.samples > 0 && d1.rows_total_max <= GOALS.rowsPerSubscribeMax,
    },
    binding_calls_per_subscribe: {
      goal: `<= ${GOALS.bindingCallsMax}`,
      mean: bindingCalls.mean,
      max: bindingCalls.max,
      pass: bindingCalls.samples > 0 && bindingCalls.max <= GOALS.bindingCallsMax,
    },
  };
  const ok = Object.values(checks).every(Boolean) && Object.values(goals).every((g) => g.pass);

  const result = {
    bench: "subscribe",
    ok,
    config: {
      concurrency: CONCURRENCY,
      seconds: SECONDS,
      rounds: ROUNDS,
      warmup: WARMUP,
      consumer: !NO_CONSUMER,
      root: ROOT,
    },
    machine: {
      cores: os.cpus().length,
      cpu: os.cpus()[0]?.model ?? null,
      client_node: process.version,
      server_node: nodeVersion,
      wrangler: wranglerVersion,
      loadavg_end: os.loadavg().map((x) => r3(x)),
    },
    startup_s: r3(startupS),
    health: { ...agg.health, rounds: rounds.health },
    subscribe: { ...agg.subscribe, rounds: rounds.subscribe },
    ratios: { median: ratioMedian, best: ratioBest, paired },
    server_cpu: serverCpu,
    binding_calls: bindingCalls,
    d1,
    rows: { accepted_202: accepted.count, pending: counts.pending, total: counts.total, outbox: counts.outbox },
    checks,
    goals,
  };

  if (JSON_ONLY) {
    console.log(JSON.stringify(result));
  } else {
    const pf = (b) => (b ? "PASS" : "FAIL");
    const row = (label, v) =>
      `  ${label.padEnd(22)} ${String(v.requests).padStart(7)} ${v.rps.toFixed(1).padStart(9)} ${v.p50.toFixed(2).padStart(8)} ${v.p90.toFixed(2).padStart(8)} ${v.p99.toFixed(2).padStart(8)} ${String(v.errors).padStart(7)}`;
    say(
      `\n  ${"".padEnd(22)} ${"requests".padStart(7)} ${"req/s".padStart(9)} ${"p50 ms".padStart(8)} ${"p90 ms".padStart(8)} ${"p99 ms".padStart(8)} ${"errors".padStart(7)}`,
    );
    for (const name of ["health", "subscribe"]) {
      for (const [i, r] of rounds[name].entries()) say(row(`${TARGETS[name].label} r${i + 1}`, r));
      say(row(`${TARGETS[name].label} best`, agg[name].best));
      say(row(`${TARGETS[name].label} median`, agg[name].median));
    }
    say(
      `\n  subscribe status codes: ${allSub.map((r) => JSON.stringify(r.statuses)).join("  ")}   (warm-up: ${JSON.stringify(warm.subscribe)})`,
    );
    for (const r of allSub) for (const e of r.error_samples) say(`    non-202 sample: ${e.status} ${e.body}`);
    say(
      `  CPU per request (ms):   client / server    /health ${rounds.health.map((r) => `${r.cpu.client_ms_per_req}/${r.cpu.server_ms_per_req}`).join(", ")}    subscribe ${allSub.map((r) => `${r.cpu.client_ms_per_req}/${r.cpu.server_ms_per_req}`).join(", ")}`,
    );
    say(
      `  server CPU by process (ms/req, last round): /health ${JSON.stringify(rounds.health.at(-1).cpu.server_ms_per_req_by_process)}  subscribe ${JSON.stringify(allSub.at(-1).cpu.server_ms_per_req_by_process)}`,
    );
    const cores = (r) =>
      `${r.cpu.client_cores.toFixed(2)}+${r.cpu.server_cores.toFixed(2)}+${r.cpu.other_cores.toFixed(2)}`;
    say(
      `  cores busy, client+server+other processes: /health ${rounds.health.map(cores).join(", ")}   subscribe ${allSub.map(cores).join(", ")}  (of ${os.cpus().length})`,
    );
    say(
      `\n  D1 per subscribe (${d1.samples} answers): rows_read mean ${d1.rows_read_mean} max ${d1.rows_read_max}; rows_written mean ${d1.rows_written_mean} max ${d1.rows_written_max}; read+written mean ${d1.rows_total_mean} max ${d1.rows_total_max}${d1.missing_header ? `; ${d1.missing_header} answers without the header` : ""}`,
    );
    say(
      `  rows after the run: ${counts.pending} pending (202s sent: ${accepted.count}) → ${pf(checks.pending_rows_match_202s)}; ${counts.total} subscribers, ${counts.outbox} confirmation emails in the outbox`,
    );
    say(
      `\n  Server CPU per request (median of rounds, workerd + wrangler): /health ${serverCpu.health_ms_per_req} ms, subscribe ${serverCpu.subscribe_ms_per_req} ms (× ${serverCpu.ratio})`,
    );
    say(
      `  For reference: subscribe/health throughput ${ratioMedian.throughput.toFixed(3)} (pairs ${paired.map((p) => p.throughput.toFixed(3)).join(", ")}), p99 ${ratioMedian.p99.toFixed(3)}`,
    );
    say(`\n  Goals:`);
    say(
      `    D1 rows per subscribe        mean ${d1.rows_total_mean}, max ${d1.rows_total_max}  goal ≤ ${GOALS.rowsPerSubscribeMax}  ${pf(goals.d1_rows_per_subscribe.pass)}`,
    );
    say(
      `    binding calls per subscribe  mean ${bindingCalls.mean}, max ${bindingCalls.max} ${JSON.stringify(bindingCalls.max_by_kind)}  goal ≤ ${GOALS.bindingCallsMax}  ${pf(goals.binding_calls_per_subscribe.pass)}`,
    );
    say(
      `  Run checks: errors ${pf(checks.no_errors)}, Server-Timing present ${pf(checks.d1_header_present)}, pending rows = 202s ${pf(checks.pending_rows_match_202s)}  → run ${ok ? "OK" : "FAILED"}`,
    );
    say(`\n${JSON.stringify(result)}`);
  }
  return ok;
}

main()
  .then(async (ok) => {
    await stopServer();
    removePersistDir();
    process.exit(ok ? 0 : 1);
  })
  .catch(async (err) => {
    console.error(String(err?.stack ?? err));
    if (!VERBOSE && wranglerLog.length)
      console.error(`--- wrangler output (tail) ---\n${wranglerLog.slice(-40).join("")}`);
    await stopServer().catch(() => {});
    removePersistDir();
    process.exit(1);
  });
