/**
 * Global setup of the e2e project (runs in Node, once per run):
 * - the Worker under `wrangler dev` on a free loopback port, with its own D1 state in a temp dir,
 *   migrations applied, the local outbox as mailer and the mail queue consumer running inside wrangler dev;
 * - a tiny static server on another port (another origin) serving the host pages in ./fixtures,
 *   with %WORKER% replaced by the Worker's URL.
 * Tests get the URLs with inject("workerUrl") / inject("hostUrl") / inject("adminToken").
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { type AddressInfo, createServer as createNetServer } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import type { TestProject } from "vitest/node";
import { waitFor } from "../support/poll";

declare module "vitest" {
  export interface ProvidedContext {
    workerUrl: string;
    hostUrl: string;
    adminToken: string;
    /** The Worker's TOKEN_SECRET: to forge an expired dashboard session as an old cookie would be. */
    tokenSecret: string;
    chromiumPath: string;
  }
}

const ROOT = path.resolve(import.meta.dirname, "../..");
const FIXTURES = path.join(import.meta.dirname, "fixtures");
const BIN = path.join(ROOT, "node_modules", ".bin");
const HEALTH_TIMEOUT_MS = 90_000;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createNetServer();
    srv.unref();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address() as AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

/** Environment for wrangler: the project's Node 22 first on PATH, no telemetry, no interactive UI. */
function wranglerEnv(stateDir: string): NodeJS.ProcessEnv {
  return {
    ...process.env,
    PATH: `${BIN}${path.delimiter}${process.env.PATH ?? ""}`,
    CI: "1",
    NO_COLOR: "1",
    FORCE_COLOR: "0",
    WRANGLER_SEND_METRICS: "false",
    WRANGLER_LOG_PATH: path.join(stateDir, "logs"),
    WRANGLER_REGISTRY_PATH: path.join(stateDir, "registry"),
  };
}

function startHostServer(workerUrl: string): Promise<{ server: Server; port: number }> {
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://host.invalid");
    const name = url.pathname === "/" ? "index.html" : url.pathname.slice(1);
    // Flat fixture names only: no traversal out of the fixtures folder.
    if (!/^[a-z0-9-]+\.html$/.test(name) || !existsSync(path.join(FIXTURES, name))) {
      res.writeHead(404, { "Content-Type": "text/plain; charset=utf-8" }).end("not found");
      return;
    }
    const body = readFileSync(path.join(FIXTURES, name), "utf8").replaceAll("%WORKER%", workerUrl);
    res.writeHead(200, { "Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-store" }).end(body);
  });
  return new Promise((resolve, reject) => {
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => resolve({ server, port: (server.address() as AddressInfo).port }));
  });
}

export default async function setup(project: TestProject) {
  const chromiumPath = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
  if (!existsSync(chromiumPath)) {
    throw new Error(
      `e2e: no Chromium at ${chromiumPath}. Install Debian's package (as root: apt-get update && apt-get install -y chromium) ` +
        `or point CHROMIUM_PATH at a Chromium/Chrome binary. The tests never download a browser.`,
    );
  }
  const wrangler = path.join(BIN, "wrangler");
  if (!existsSync(wrangler)) throw new Error(`e2e: ${wrangler} is missing; run npm install first.`);

  const stateDir = mkdtempSync(path.join(tmpdir(), "papers-e2e-"));
  const env = wranglerEnv(stateDir);

  const migrate = spawnSync(wrangler, ["d1", "migrations", "apply", "DB", "--local", "--persist-to", stateDir], {
    cwd: ROOT,
    env,
    encoding: "utf8",
    timeout: 120_000,
  });
  if (migrate.status !== 0) {
    rmSync(stateDir, { recursive: true, force: true });
    throw new Error(
      `e2e: wrangler d1 migrations apply failed (exit ${migrate.status}${migrate.error ? `, ${migrate.error.message}` : ""}):\n${migrate.stdout}\n${migrate.stderr}`,
    );
  }

  const port = await freePort();
  let inspectorPort = await freePort();
  while (inspectorPort === port) inspectorPort = await freePort();
  const workerUrl = `http://127.0.0.1:${port}`;
  const adminToken = randomBytes(24).toString("hex");
  const tokenSecret = randomBytes(32).toString("hex");

  const child: ChildProcess = spawn(
    wrangler,
    [
      "dev",
      "--ip",
      "127.0.0.1",
      "--port",
      String(port),
      "--inspector-port",
      String(inspectorPort),
      "--persist-to",
      stateDir,
      "--show-interactive-dev-session=false",
      "--log-level",
      "info",
      "--var",
      `PUBLIC_URL:${workerUrl}`,
      "--var",
      "LOCAL_DEV:1",
      "--var",
      `TOKEN_SECRET:${tokenSecret}`,
      "--var",
      `ADMIN_TOKEN:${adminToken}`,
      "--var",
      "ALLOWED_ORIGINS:*",
      // Whatever .dev.vars says: mail goes to the local outbox, no Turnstile, the default human delay.
      "--var",
      "RESEND_API_KEY:",
      "--var",
      "TURNSTILE_SITE_KEY:",
      "--var",
      "TURNSTILE_SECRET:",
      "--var",
      "MIN_FILL_MS:2000",
    ],
    { cwd: ROOT, env, detached: true, stdio: ["ignore", "pipe", "pipe"] },
  );
  let output = "";
  const keep = (chunk: Buffer) => {
    output += chunk.toString();
    if (output.length > 200_000) output = output.slice(-100_000);
    if (process.env.E2E_DEBUG) process.stderr.write(chunk);
  };
  child.stdout!.on("data", keep);
  child.stderr!.on("data", keep);
  let exited: number | string | null = null;
  child.on("exit", (code, signal) => {
    exited = code ?? signal ?? "unknown";
  });

  let host: Server | undefined;
  const teardown = async () => {
    await new Promise<void>((resolve) => (host ? host.close(() => resolve()) : resolve()));
    if (child.pid && exited === null) {
      const gone = new Promise<void>((resolve) => child.once("exit", () => resolve()));
      try {
        process.kill(-child.pid, "SIGTERM");
      } catch {
        /* already gone */
      }
      const timer = setTimeout(() => {
        try {
          process.kill(-child.pid!, "SIGKILL");
        } catch {
          /* already gone */
        }
      }, 5_000);
      await Promise.race([gone, new Promise((r) => setTimeout(r, 8_000))]);
      clearTimeout(timer);
    }
    rmSync(stateDir, { recursive: true, force: true });
  };

  try {
    await waitFor(
      () => `wrangler dev to answer GET /health with 200 (for ${HEALTH_TIMEOUT_MS / 1000} s). Its output:\n${output}`,
      async () => {
        if (exited !== null)
          throw new Error(`e2e: wrangler dev exited (${exited}) before answering /health. Its output:\n${output}`);
        try {
          return (await fetch(`${workerUrl}/health`, { signal: AbortSignal.timeout(3_000) })).status === 200;
        } catch {
          return false; // not listening yet
        }
      },
      Boolean,
      HEALTH_TIMEOUT_MS,
      250,
    );

    const started = await startHostServer(workerUrl);
    host = started.server;
    // "localhost" vs "127.0.0.1", and another port: a different origin (and site) from the Worker.
    const hostUrl = `http://localhost:${started.port}`;

    project.provide("workerUrl", workerUrl);
    project.provide("hostUrl", hostUrl);
    project.provide("adminToken", adminToken);
    project.provide("tokenSecret", tokenSecret);
    project.provide("chromiumPath", chromiumPath);
  } catch (err) {
    await teardown();
    throw err;
  }

  return teardown;
}
