import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import worker from "../../src/index";
import { mailboxKey } from "../../src/lib/email";
import type { MailJob } from "../../src/mail/jobs";

export const BASE = "http://127.0.0.1:8787";

// Each test file starts at a random place among the 62,500 addresses, so files running at the same time do not walk
// the same ones.
let ipCounter = Math.floor(Math.random() * 62_500);
/** A fresh client IP per call, so the per-IP rate limit does not leak between tests. */
export const freshIp = () => `198.51.${Math.floor(++ipCounter / 250) % 250}.${(ipCounter % 250) + 1}`;

/** Calls the Worker as deployed with some bindings overridden. */
export const fetchWith = (overrides: Partial<Env>, req: Request) =>
  worker.fetch!(req as never, { ...env, ...overrides }, createExecutionContext());

export function call(path: string, init: RequestInit & { ip?: string } = {}) {
  const headers = new Headers(init.headers);
  if (!headers.has("cf-connecting-ip")) headers.set("cf-connecting-ip", init.ip ?? freshIp());
  return exports.default.fetch(new Request(new URL(path, BASE), { ...init, headers }));
}

const withHeaders = (base: Record<string, string>, init: RequestInit & { ip?: string }) => {
  const headers = new Headers(base);
  for (const [k, v] of new Headers(init.headers)) headers.set(k, v);
  return { ...init, headers };
};

const JSON_HEADERS = { "content-type": "application/json", accept: "application/json" };

export const subscribeJson = (
  email: unknown,
  extra: Record<string, unknown> = {},
  init: RequestInit & { ip?: string } = {},
) =>
  call("/api/subscribe", {
    method: "POST",
    body: JSON.stringify({ email, ...extra }),
    ...withHeaders(JSON_HEADERS, init),
  });

/** A JSON signup from client `ip`, to the Worker with some bindings overridden (see fetchWith). */
export const subscribeFrom = (email: string, ip: string, overrides: Partial<Env> = {}) =>
  fetchWith(
    overrides,
    new Request(new URL("/api/subscribe", BASE), {
      method: "POST",
      headers: { ...JSON_HEADERS, "cf-connecting-ip": ip },
      body: JSON.stringify({ email }),
    }),
  );

export const subscribeForm = (fields: Record<string, string>, init: RequestInit & { ip?: string } = {}) =>
  call("/api/subscribe", {
    method: "POST",
    body: new URLSearchParams(fields).toString(),
    redirect: "manual",
    ...withHeaders({ "content-type": "application/x-www-form-urlencoded", accept: "text/html" }, init),
  });

/** Runs the mail queue consumer on the given jobs, as the Queues runtime would. */
export async function runMailQueue(jobs: MailJob[], e: Env = env) {
  const batch = createMessageBatch<MailJob>(
    "papers-mail",
    jobs.map((body, i) => ({ id: `m${i}-${Date.now()}`, timestamp: new Date(), attempts: 1, body })),
  );
  const ctx = createExecutionContext();
  await worker.queue!(batch as never, e, ctx);
  return getQueueResult(batch, ctx);
}

/** The row an address lives in: one per mailbox (lower case, no +tag, no Gmail dots). */
export async function subscriberRow(email: string) {
  return env.DB.prepare("SELECT * FROM subscribers WHERE email_key = ?")
    .bind(mailboxKey(email))
    .first<Record<string, unknown>>();
}

export interface OutboxRow {
  id: number;
  idempotency_key: string;
  from_address: string;
  to_address: string;
  subject: string;
  html: string;
  text: string;
  headers: string;
  tags: string;
}

export async function outboxFor(to: string) {
  const { results } = await env.DB.prepare("SELECT * FROM outbox WHERE to_address = ? ORDER BY id")
    .bind(to)
    .all<OutboxRow>();
  return results;
}

/** Pending confirmation jobs for an address, built from its row the way the subscribe handler queued them. */
export async function confirmJobFor(email: string): Promise<MailJob> {
  const row = await subscriberRow(email);
  if (!row) throw new Error(`no row for ${email}`);
  return { kind: "confirm", subscriberId: Number(row.id), sentAt: Number(row.confirm_sent_at) };
}

/** Sends an address's pending confirmation email: its confirmation job, through the mail queue consumer. */
export const sendConfirmation = async (email: string, e: Env = env) => runMailQueue([await confirmJobFor(email)], e);

export const firstLink = (text: string, pathPart: string) => {
  const m = text.match(new RegExp(`https?://[^\\s"<>]*${pathPart}[^\\s"<>]*`));
  if (!m) throw new Error(`no ${pathPart} link in ${text.slice(0, 200)}`);
  return m[0];
};
