#!/usr/bin/env node
// Load test: N subscribes (default 10,000) at concurrency C (default 32) against a fresh, frozen local `wrangler dev`
// (see bench/lib.mjs), then checks that no request was lost: every 202 has its pending row AND its confirmation
// email in the local outbox, written by the queue consumer after the answer.
//
//   npm run bench:load                                        # 10,000 subscribes at concurrency 32
//   npm run bench:load -- --requests 2000 --concurrency 16    # other load
//   npm run bench:load -- --json                              # only one JSON line on stdout
//   flags: --requests N  --concurrency C  --drain-timeout S (default 600)  --json  --verbose (wrangler's output)
//
// Every subscribe uses a unique address and a unique CF-Connecting-IP, so the per-IP limit (10/min) never applies:
// any answer other than 202 is counted and fails the run. The queue is drained by polling the local D1 (the same
// SQLite files wrangler dev writes) with `wrangler d1 execute --json` until every 202 has its confirmation email
// or the timeout passes; then wrangler is stopped and the rows are compared address by address.
import { randomBytes } from "node:crypto";
import http from "node:http";
import os from "node:os";
import { cliArgs, createDevServer, freePort, runWrangler } from "./lib.mjs";

const { flag, num } = cliArgs();
if (flag("help")) {
  console.log(
    "usage: node bench/load.mjs [--requests 10000] [--concurrency 32] [--drain-timeout 600] [--json] [--verbose]",
  );
  process.exit(0);
}
const REQUESTS = Math.floor(num("requests", 10_000));
const CONCURRENCY = Math.floor(num("concurrency", 32));
const DRAIN_TIMEOUT_S = num("drain-timeout", 600);
const JSON_ONLY = flag("json");
const VERBOSE = flag("verbose");
const say = (...a) => {
  if (!JSON_ONLY) console.log(...a);
};
const note = (...a) => {
  if (!JSON_ONLY) console.error(...a);
};
if (REQUESTS >= 1 << 24) throw new Error("at most 16,777,215 requests (one client IP each)");

const dev = createDevServer({ prefix: "bench-load-", verbose: VERBOSE, note });

// ---------- HTTP client ----------
let PORT = 0;
const agent = new http.Agent({
  keepAlive: true,
  maxSockets: CONCURRENCY,
  maxFreeSockets: CONCURRENCY,
  scheduling: "fifo",
});
function request(method, path, { headers = {}, body = null, timeoutMs = 60_000 } = {}) {
  return new Promise((resolve) => {
    const req = http.request({ host: "127.0.0.1", port: PORT, method, path, agent, headers }, (res) => {
      const chunks = [];
      res.on("data", (c) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode, body: Buffer.concat(chunks).toString("utf8") }));
      res.on("error", (err) => resolve({ status: 0, error: String(err) }));
    });
    req.setTimeout(timeoutMs, () => req.destroy(new Error("timeout")));
    req.on("error", (err) => resolve({ status: 0, error: String(err) }));
    req.end(body);
  });
}

const RUN = randomBytes(3).toString("hex");
const addressFor = (n) => `load+${RUN}-${n}@example.com`;
const ipFor = (n) => `10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const r3 = (x) => Math.round(x * 1000) / 1000;

// ---------- main ----------
const watchdogMs = DRAIN_TIMEOUT_S * 1000 + 20 * 60_000;
const watchdog = setTimeout(() => {
  console.error(`watchdog: the load test ran over ${Math.round(watchdogMs / 1000)} s; giving up`);
  if (dev.log.length) console.error(dev.log.slice(-40).join(""));
  process.exit(2);
}, watchdogMs);
watchdog.unref();

async function main() {
  const { workDir } = dev.dirs();
  PORT = await freePort();
  let inspector = await freePort();
  while (inspector === PORT) inspector = await freePort();
  const wranglerVersion = runWrangler(["--version"]).trim();
  say(`bench:load  requests=${REQUESTS} concurrency=${CONCURRENCY} drain-timeout=${DRAIN_TIMEOUT_S}s`);
  say(
    `machine: ${os.cpus().length} cores (${os.cpus()[0]?.model ?? "?"}), node ${process.version}, wrangler ${wranglerVersion}, load avg ${os
      .loadavg()
      .map((x) => x.toFixed(2))
      .join(" ")}`,
  );
  say(`snapshot in ${workDir}: bundling the worker, applying migrations…`);
  dev.snapshot();
  say(`starting wrangler dev on http://127.0.0.1:${PORT}…`);
  const startupS = await dev.start({
    port: PORT,
    inspector,
    tokenSecret: randomBytes(32).toString("hex"),
    probe: async () => (await request("GET", "/health", { timeoutMs: 2000 })).status === 200,
  });
  say(`ready after ${startupS.toFixed(1)} s; sending ${REQUESTS} subscribes…`);

  // ---------- load: a closed loop of CONCURRENCY workers over REQUESTS unique subscribes ----------
  const status = new Array(REQUESTS + 1); // by request number (1-based)
  const lat = [];
  const statuses = {};
  const samples = [];
  let next = 0;
  let lastProgress = 0;
  const loadStart = Date.now();
  const t0 = performance.now();
  async function worker() {
    for (;;) {
      const n = ++next;
      if (n > REQUESTS) return;
      const body = JSON.stringify({ email: addressFor(n) });
      const s = performance.now();
      const res = await request("POST", "/api/subscribe", {
        headers: {
          "Content-Type": "application/json",
          Accept: "application/json",
          "Content-Length": Buffer.byteLength(body),
          "CF-Connecting-IP": ipFor(n),
        },
        body,
      });
      lat.push(performance.now() - s);
      status[n] = res.status;
      const key = res.status === 0 ? "network_error" : String(res.status);
      statuses[key] = (statuses[key] ?? 0) + 1;
      if (res.status !== 202 && samples.length < 5)
        samples.push({ n, status: res.status, body: (res.body ?? res.error ?? "").slice(0, 300) });
      if (!JSON_ONLY && lat.length - lastProgress >= 1000) {
        lastProgress = lat.length;
        process.stdout.write(
          `  ${lat.length} answered, ${((lat.length * 1000) / (performance.now() - t0)).toFixed(0)} req/s\r`,
        );
      }
    }
  }
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  const loadS = (performance.now() - t0) / 1000;
  const loadEnd = Date.now();
  if (!JSON_ONLY && lastProgress) process.stdout.write("\n");
  agent.destroy();
  lat.sort((a, b) => a - b);
  const pct = (p) => lat[Math.min(lat.length - 1, Math.max(0, Math.ceil((p / 100) * lat.length) - 1))];
  const accepted = [];
  for (let n = 1; n <= REQUESTS; n++) if (status[n] === 202) accepted.push(n);
  const non202 = REQUESTS - accepted.length;
  say(
    `load done in ${loadS.toFixed(1)} s: ${(REQUESTS / loadS).toFixed(1)} req/s, p50 ${pct(50).toFixed(1)} ms, p99 ${pct(99).toFixed(1)} ms; statuses ${JSON.stringify(statuses)}`,
  );

  // ---------- drain: wait until the queue consumer wrote a confirmation email for every 202 ----------
  const like = `load+${RUN}-%`;
  const progress = () =>
    dev.query(
      `select (select count(*) from subscribers where email like '${like}' and status = 'pending') as pending, (select count(*) from outbox where to_address like '${like}') as emails, (select max(created_at) from outbox where to_address like '${like}') as last_email_at`,
    )[0];
  let drained = null;
  let polls = 0;
  const drainStart = performance.now();
  for (;;) {
    const p = progress();
    polls++;
    if (!JSON_ONLY)
      process.stdout.write(
        `  draining: ${p.emails}/${accepted.length} confirmation emails, ${p.pending} pending rows (${((performance.now() - drainStart) / 1000).toFixed(0)} s)   \r`,
      );
    if (p.emails >= accepted.length) {
      drained = p;
      break;
    }
    if ((performance.now() - drainStart) / 1000 > DRAIN_TIMEOUT_S) break;
    await sleep(1000);
  }
  const drainWaitS = (performance.now() - drainStart) / 1000;
  say(`\n${drained ? "drained" : "NOT drained"} after ${drainWaitS.toFixed(1)} s more (${polls} polls)`);

  // Let any retry in flight settle, stop the server, then compare address by address.
  await sleep(2000);
  await dev.stop();
  const rows = dev.query(`select email, status from subscribers where email like '${like}'`);
  const emails = dev.query(
    `select to_address as "to", count(*) as n, min(created_at) as first_at, max(created_at) as last_at, sum(case when tags like '%"confirm"%' and text like '%/confirm/%' then 1 else 0 end) as confirm_n from outbox where to_address like '${like}' group by to_address`,
  );
  const rowBy = new Map(rows.map((r) => [r.email, r.status]));
  const mailBy = new Map(emails.map((e) => [e.to, e]));
  const missingRow = [];
  const notPending = [];
  const missingEmail = [];
  const notConfirmEmail = [];
  const duplicateEmail = [];
  for (const n of accepted) {
    const a = addressFor(n);
    const st = rowBy.get(a);
    if (st === undefined) missingRow.push(a);
    else if (st !== "pending") notPending.push(a);
    const m = mailBy.get(a);
    if (!m) missingEmail.push(a);
    else {
      if (m.confirm_n !== m.n) notConfirmEmail.push(a);
      if (m.n > 1) duplicateEmail.push(a);
    }
  }
  const acceptedSet = new Set(accepted.map(addressFor));
  const unexpectedRows = rows.filter((r) => !acceptedSet.has(r.email)).length;
  const lastEmailAt = emails.reduce((m, e) => Math.max(m, e.last_at), 0);
  const lastEmailS = lastEmailAt ? (lastEmailAt - loadStart) / 1000 : null;

  const checks = {
    no_non_202: non202 === 0,
    every_202_has_pending_row: missingRow.length === 0 && notPending.length === 0,
    every_202_has_confirmation_email: missingEmail.length === 0 && notConfirmEmail.length === 0,
    no_duplicate_email: duplicateEmail.length === 0,
    no_row_without_202: unexpectedRows === 0,
    drained_before_timeout: drained !== null,
  };
  const ok = Object.values(checks).every(Boolean);
  const result = {
    bench: "load",
    ok,
    config: { requests: REQUESTS, concurrency: CONCURRENCY, drain_timeout_s: DRAIN_TIMEOUT_S },
    machine: {
      cores: os.cpus().length,
      cpu: os.cpus()[0]?.model ?? null,
      node: process.version,
      wrangler: wranglerVersion,
      loadavg_end: os.loadavg().map(r3),
    },
    startup_s: r3(startupS),
    load: {
      seconds: r3(loadS),
      rps: Math.round((REQUESTS / loadS) * 10) / 10,
      p50_ms: r3(pct(50)),
      p90_ms: r3(pct(90)),
      p99_ms: r3(pct(99)),
      max_ms: r3(lat[lat.length - 1]),
      mean_ms: r3(lat.reduce((s, v) => s + v, 0) / lat.length),
      statuses,
      non_202: non202,
      non_202_samples: samples,
    },
    mail: {
      last_confirmation_after_load_start_s: lastEmailS === null ? null : r3(lastEmailS),
      last_confirmation_after_load_end_s: lastEmailAt ? r3((lastEmailAt - loadEnd) / 1000) : null,
      drain_wait_s: r3(drainWaitS),
    },
    total_wall_s: r3((Math.max(lastEmailAt, loadEnd) - loadStart) / 1000),
    verify: {
      accepted_202: accepted.length,
      pending_rows: rows.filter((r) => r.status === "pending").length,
      rows_total: rows.length,
      confirmation_emails: emails.reduce((s, e) => s + e.n, 0),
      missing_row: missingRow.length,
      not_pending: notPending.length,
      missing_email: missingEmail.length,
      not_a_confirmation: notConfirmEmail.length,
      duplicate_email: duplicateEmail.length,
      rows_without_202: unexpectedRows,
      examples: {
        missingRow: missingRow.slice(0, 3),
        missingEmail: missingEmail.slice(0, 3),
        duplicateEmail: duplicateEmail.slice(0, 3),
      },
    },
    checks,
  };

  if (JSON_ONLY) console.log(JSON.stringify(result));
  else {
    const pf = (b) => (b ? "PASS" : "FAIL");
    say(`\n  ${REQUESTS} subscribes at concurrency ${CONCURRENCY}`);
    say(`    load wall time          ${result.load.seconds.toFixed(1)} s   (${result.load.rps} req/s)`);
    say(
      `    latency                 p50 ${result.load.p50_ms.toFixed(1)} ms  p90 ${result.load.p90_ms.toFixed(1)} ms  p99 ${result.load.p99_ms.toFixed(1)} ms  max ${result.load.max_ms.toFixed(1)} ms`,
    );
    say(`    statuses                ${JSON.stringify(statuses)}  (non-202: ${non202})`);
    for (const s of samples) say(`      non-202 sample: #${s.n} ${s.status} ${s.body}`);
    say(
      `    last confirmation email ${lastEmailS === null ? "none" : `${lastEmailS.toFixed(1)} s after the first request (${result.mail.last_confirmation_after_load_end_s.toFixed(1)} s after the last answer)`}`,
    );
    say(`    total wall time         ${result.total_wall_s.toFixed(1)} s (first request → last confirmation email)`);
    say(
      `    rows: ${result.verify.pending_rows} pending of ${accepted.length} 202s; ${result.verify.confirmation_emails} confirmation emails; missing row ${missingRow.length}, missing email ${missingEmail.length}, duplicates ${duplicateEmail.length}, rows without a 202 ${unexpectedRows}`,
    );
    say(
      `  checks: ${Object.entries(checks)
        .map(([k, v]) => `${k} ${pf(v)}`)
        .join(", ")}  → run ${ok ? "OK" : "FAILED"}`,
    );
    say(`\n${JSON.stringify(result)}`);
  }
  return ok;
}

main()
  .then(async (ok) => {
    await dev.stop();
    dev.cleanup();
    process.exit(ok ? 0 : 1);
  })
  .catch(async (err) => {
    console.error(String(err?.stack ?? err));
    if (!VERBOSE && dev.log.length) console.error(`--- wrangler output (tail) ---\n${dev.log.slice(-40).join("")}`);
    await dev.stop().catch(() => {});
    dev.cleanup();
    process.exit(1);
  });
