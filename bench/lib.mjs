// Shared machinery of the benchmarks: a private, frozen `wrangler dev` on free loopback ports.
//
//  - snapshot(): the worker is bundled once (as `wrangler deploy` would) and served from a temp copy with its own
//    wrangler.toml and migrations, so edits to src/ during a run (wrangler dev's file watcher) cannot rebuild or
//    restart the server mid-measurement, and a local .dev.vars is not picked up; D1 state lives in a fresh
//    --persist-to dir of that temp copy.
//  - start(): `wrangler dev` in its own process group (killed on exit, error, SIGINT/SIGTERM/SIGHUP), then waits
//    until the given probe answers.
//  - stop(), cleanup(), runWrangler(), freePort().
import { spawn, spawnSync } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), "..");
export const BIN = join(REPO, "node_modules", ".bin");
export const WRANGLER = join(BIN, "wrangler");

export const childEnv = {
  ...process.env,
  PATH: `${BIN}:${process.env.PATH}`, // node_modules/.bin first: the node@22 devDependency runs wrangler
  WRANGLER_SEND_METRICS: "false",
  NO_COLOR: "1",
  FORCE_COLOR: "0",
};

export function freePort() {
  return new Promise((res, rej) => {
    const s = net.createServer();
    s.unref();
    s.on("error", rej);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => res(port));
    });
  });
}

export function runWrangler(argv, { cwd = REPO, timeoutMs = 120_000 } = {}) {
  const r = spawnSync(WRANGLER, argv, {
    cwd,
    env: childEnv,
    encoding: "utf8",
    timeout: timeoutMs,
    maxBuffer: 256 * 1024 * 1024,
    stdio: ["ignore", "pipe", "pipe"],
  });
  if (r.status !== 0)
    throw new Error(`wrangler ${argv.join(" ")} failed (${r.status ?? r.signal})\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

/**
 * One private wrangler dev. `root`: the checkout whose worker is served; `prefix`: temp dir name;
 * `verbose`: wrangler's output on stderr; `note`: where to say that a signal stopped the run.
 */
export function createDevServer({
  root = REPO,
  prefix = "bench-",
  verbose = false,
  note = (...a) => console.error(...a),
} = {}) {
  let server = null; // the wrangler dev child (leader of its own process group)
  const listeners = []; // called with every chunk of wrangler's output (onOutput)
  let workDir = null; // temp: app/ (snapshot of the worker) and state/ (--persist-to)
  const log = [];

  function kill(signal = "SIGKILL") {
    if (!server || server.exitCode !== null || server.signalCode !== null) return;
    try {
      process.kill(-server.pid, signal); // the whole group: wrangler's node and workerd
    } catch {
      /* already gone */
    }
  }
  async function stop() {
    if (!server) return;
    const exited = new Promise((r) =>
      server.exitCode !== null || server.signalCode !== null ? r() : server.once("exit", r),
    );
    kill("SIGTERM");
    const t = setTimeout(() => kill("SIGKILL"), 5000);
    await exited;
    clearTimeout(t);
    // workerd may outlive its parent for a moment; make sure nothing of the group is left.
    try {
      process.kill(-server.pid, "SIGKILL");
    } catch {
      /* none left */
    }
  }
  function cleanup() {
    if (workDir) rmSync(workDir, { recursive: true, force: true });
    workDir = null;
  }
  process.on("exit", () => {
    kill("SIGKILL");
    cleanup();
  });
  for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"]) {
    process.on(sig, () => {
      note(`\n${sig}: stopping wrangler`);
      kill("SIGKILL");
      cleanup();
      process.exit(130);
    });
  }

  const dirs = () => {
    if (!workDir) {
      workDir = mkdtempSync(join(os.tmpdir(), prefix));
      mkdirSync(join(workDir, "app"));
    }
    return { workDir, appDir: join(workDir, "app"), persistDir: join(workDir, "state") };
  };

  /** Bundles the worker of `root` into the temp copy and applies the migrations to its fresh local D1. */
  function snapshot({ noConsumer = false } = {}) {
    const { appDir, persistDir } = dirs();
    let toml = readFileSync(join(root, "wrangler.toml"), "utf8");
    if (noConsumer) {
      const stripped = toml.replace(/^\[\[queues\.consumers\]\][\s\S]*?(?=^\[|(?![\s\S]))/gm, "");
      if (stripped === toml) throw new Error("--no-consumer: no [[queues.consumers]] table found in wrangler.toml");
      toml = stripped;
    }
    writeFileSync(join(appDir, "wrangler.toml"), toml);
    cpSync(join(root, "migrations"), join(appDir, "migrations"), { recursive: true });
    runWrangler(["deploy", "--dry-run", "--outdir", join(appDir, "dist")], { cwd: root });
    runWrangler(["d1", "migrations", "apply", "DB", "--local", "--persist-to", persistDir], { cwd: appDir });
  }

  /**
   * Starts wrangler dev on the snapshot and resolves once `probe()` (an async function returning true when the
   * server answers) succeeds; returns the start-up time in seconds.
   */
  async function start({ port, inspector, tokenSecret, probe, vars = {}, timeoutMs = 90_000, logLevel = "warn" }) {
    const { appDir, persistDir } = dirs();
    const devArgs = [
      "dev",
      "dist/index.js",
      "--no-bundle",
      "--ip",
      "127.0.0.1",
      "--port",
      String(port),
      "--inspector-port",
      String(inspector),
      "--persist-to",
      persistDir,
      "--var",
      `PUBLIC_URL:http://127.0.0.1:${port}`,
      "--var",
      `TOKEN_SECRET:${tokenSecret}`,
      "--var",
      "LOCAL_DEV:1",
      // Benchmark addresses all share one domain: the per-domain hourly cap on confirmations would be what they measure.
      "--var",
      "CONFIRM_DOMAIN_HOURLY_CAP:0",
      // Deterministic even if the environment sets them: mail goes to the local outbox, no Turnstile call is made.
      "--var",
      "RESEND_API_KEY:",
      "--var",
      "TURNSTILE_SITE_KEY:",
      "--var",
      "TURNSTILE_SECRET:",
      // A benchmark's own vars come last: wrangler keeps the last value given for a name.
      ...Object.entries(vars).flatMap(([k, v]) => ["--var", `${k}:${v}`]),
      "--log-level",
      logLevel,
      "--show-interactive-dev-session=false",
    ];
    const t0 = performance.now();
    server = spawn(WRANGLER, devArgs, {
      cwd: appDir,
      env: childEnv,
      detached: true,
      stdio: ["ignore", "pipe", "pipe"],
    });
    const keep = (d) => {
      for (const l of listeners) l(String(d));
      log.push(String(d));
      if (log.length > 400) log.splice(0, 100);
      if (verbose) process.stderr.write(d);
    };
    server.stdout.on("data", keep);
    server.stderr.on("data", keep);
    let exitedEarly = null;
    server.once("exit", (code, sig) => (exitedEarly = `${code ?? sig}`));
    for (;;) {
      if (exitedEarly !== null) throw new Error(`wrangler dev exited (${exitedEarly}) before serving\n${log.join("")}`);
      if (performance.now() - t0 > timeoutMs)
        throw new Error(
          `wrangler dev did not answer /health within ${Math.round(timeoutMs / 1000)} s\n${log.slice(-40).join("")}`,
        );
      if (await probe()) break;
      await new Promise((r) => setTimeout(r, 250));
    }
    return (performance.now() - t0) / 1000;
  }

  /** `wrangler d1 execute --json --command sql` against the snapshot's local D1 (works while wrangler dev runs, too). */
  function query(sql) {
    const { appDir, persistDir } = dirs();
    return JSON.parse(
      runWrangler(["d1", "execute", "DB", "--local", "--persist-to", persistDir, "--json", "--command", sql], {
        cwd: appDir,
      }),
    )[0].results;
  }

  /**
   * Runs a SQL script (`wrangler d1 execute --file`) against the snapshot's local D1, as the migrations are applied:
   * for statements too long for a command line. Works while wrangler dev runs. Returns the seconds it took.
   */
  function execute(sql) {
    const { workDir, appDir, persistDir } = dirs();
    const file = join(workDir, `execute-${Date.now()}.sql`);
    writeFileSync(file, sql);
    const t0 = performance.now();
    try {
      runWrangler(["d1", "execute", "DB", "--local", "--persist-to", persistDir, "--file", file], { cwd: appDir });
    } finally {
      rmSync(file, { force: true });
    }
    return (performance.now() - t0) / 1000;
  }

  return {
    dirs,
    snapshot,
    start,
    stop,
    kill,
    cleanup,
    query,
    execute,
    log,
    /** Calls `fn` with every chunk of the server's output (stdout and stderr) from now on. */
    onOutput: (fn) => listeners.push(fn),
    /** The process group id of the running server (for CPU accounting), or null. */
    get pid() {
      return server ? server.pid : null;
    },
  };
}

/** Command-line flags shared by the benchmarks: `--name`, `--name value` or `--name=value` (positive numbers). */
export function cliArgs(argv = process.argv.slice(2)) {
  const flag = (name) => argv.includes(`--${name}`);
  function num(name, dflt) {
    const i = argv.findIndex((a) => a === `--${name}` || a.startsWith(`--${name}=`));
    if (i < 0) return dflt;
    const raw = argv[i].includes("=") ? argv[i].split("=")[1] : argv[i + 1];
    const v = Number(raw);
    if (!Number.isFinite(v) || v <= 0) throw new Error(`--${name} needs a positive number, got ${raw}`);
    return v;
  }
  return { args: argv, flag, num };
}

/** CPU ms used so far by the live processes of a process group (workerd + wrangler's node), from /proc (Linux). */
export function groupCpuMs(pgid) {
  if (!pgid || process.platform !== "linux") return NaN;
  const tck = Number(spawnSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).stdout?.trim()) || 100;
  let ms = 0;
  for (const pid of readdirSync("/proc")) {
    if (!/^\d+$/.test(pid)) continue;
    let stat;
    try {
      stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    } catch {
      continue;
    }
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    if (Number(f[2]) === pgid) ms += ((Number(f[11]) + Number(f[12])) * 1000) / tck; // utime + stime
  }
  return ms;
}

/**
 * A control request of a benchmark (admin API, emulator controls): the status, the body as text, and as JSON when it
 * is. A keep-alive socket the server closed while idle fails the next request at once: connection errors are retried
 * (every request made this way is idempotent); status 0 means no answer.
 */
export async function fetchJson(base, method, path, { headers = {}, body = undefined, timeoutMs = 60_000 } = {}) {
  for (let attempt = 1; ; attempt++) {
    let r;
    try {
      const res = await fetch(base + path, { method, headers, body, signal: AbortSignal.timeout(timeoutMs) });
      const text = await res.text();
      let json = null;
      try {
        json = JSON.parse(text);
      } catch {
        /* not JSON */
      }
      r = { status: res.status, text, json };
    } catch (err) {
      r = { status: 0, text: `${String(err)} ${String(err?.cause ?? "")}`, json: null };
    }
    if (r.status !== 0 || attempt >= 3 || /timeout|abort/i.test(r.text)) return r;
    await new Promise((done) => setTimeout(done, 100));
  }
}

/** Kills the benchmark's server and exits if the whole run takes longer than `seconds`. */
export function startWatchdog(seconds, currentServer) {
  const t = setTimeout(() => {
    console.error(`watchdog: the benchmark ran over ${seconds} s; giving up`);
    const dev = currentServer();
    if (dev?.log.length) console.error(dev.log.slice(-40).join(""));
    dev?.kill("SIGKILL");
    dev?.cleanup();
    process.exit(2);
  }, seconds * 1000);
  t.unref();
  return t;
}

/** Two distinct free loopback ports: the server's and its inspector's. */
export async function freePorts() {
  const port = await freePort();
  let inspector = await freePort();
  while (inspector === port) inspector = await freePort();
  return { port, inspector };
}

/**
 * Runs a benchmark's main(): stops its server afterwards and exits 0 when every goal was met, 1 otherwise; on an
 * error, prints it (and the tail of wrangler's output unless it was already shown) first.
 */
export function runBenchmark(main, currentServer, { verbose = false } = {}) {
  main()
    .then(async (ok) => {
      const dev = currentServer();
      await dev?.stop();
      dev?.cleanup();
      process.exit(ok ? 0 : 1);
    })
    .catch(async (err) => {
      console.error(String(err?.stack ?? err));
      const dev = currentServer();
      if (!verbose && dev?.log.length) console.error(`--- wrangler output (tail) ---\n${dev.log.slice(-40).join("")}`);
      await dev?.stop().catch(() => {});
      dev?.cleanup();
      process.exit(1);
    });
}
