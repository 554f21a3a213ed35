import { inArray, sql } from "drizzle-orm";
import type { Config } from "../config";
import { confirmDomainHours, type Subscriber, subscribers } from "../db/schema";
import { database } from "../db/subscribers";
import { freezeItems, type MailBatchResult, sendMailBatch } from "./batches";
import { itemFor } from "./compose";
import { backoffSec } from "./deliver";
import { mailerFor } from "./index";
import type { MailItem, MailJob } from "./jobs";

type JobMessage = Message<Extract<MailJob, { kind: "confirm" | "welcome" }>>;
type BatchMessage = Message<Extract<MailJob, { kind: "batch" }>>;

/**
 * Consumes MAIL_QUEUE: confirmation and welcome emails, sent off the request path. The jobs of one delivery (up to
 * 100, or whatever arrived within max_batch_timeout, so a lone signup waits two seconds at most) are frozen into one
 * mail batch and sent in one Resend call. A batch that must be tried again travels as one `batch` message; the
 * jobs themselves are acked once their batch is sent, failed for good, parked for the quota, or queued for a retry.
 */
export async function consumeMail(batch: MessageBatch<MailJob>, env: Env, cfg: Config): Promise<void> {
  const mailer = mailerFor(env, cfg);
  const jobs: JobMessage[] = [];
  const retries: BatchMessage[] = [];
  for (const msg of batch.messages) {
    const body = msg.body as Partial<MailJob> | undefined;
    if ((body?.kind === "confirm" || body?.kind === "welcome") && Number.isSafeInteger(body.subscriberId))
      jobs.push(msg as JobMessage);
    else if (body?.kind === "batch" && Number.isSafeInteger(body.batchId)) retries.push(msg as BatchMessage);
    else if (body?.kind === "noop") msg.ack();
    else {
      console.error("mail: unknown message dropped", { kind: String(body?.kind).slice(0, 20) });
      msg.ack();
    }
  }

  if (jobs.length > 0) await sendJobs(jobs, env, cfg, mailer);

  for (const msg of retries) {
    const result = await sendMailBatch(env, cfg, mailer, msg.body.batchId, msg.attempts).catch(
      (err): MailBatchResult => {
        console.error("mail: batch send failed, will retry", {
          batch: msg.body.batchId,
          attempts: msg.attempts,
          error: String(err),
        });
        return { done: false, retryInSec: backoffSec(msg.attempts + 4) };
      },
    );
    if ("retryInSec" in result) msg.retry({ delaySeconds: Math.min(result.retryInSec, 43_200) });
    else msg.ack();
  }
}

/**
 * Confirmation emails beyond CONFIRM_DOMAIN_HOURLY_CAP for their recipient domain this hour are left out (the person
 * can ask again later): one statement per domain in one D1 batch, counting this delivery's emails.
 */
async function capPerDomain(d1: D1Database, items: MailItem[], cap: number, now: number): Promise<MailItem[]> {
  if (cap <= 0) return items;
  const byDomain = new Map<string, MailItem[]>();
  for (const i of items)
    if (i.kind === "confirm") byDomain.set(domainOf(i.email), [...(byDomain.get(domainOf(i.email)) ?? []), i]);
  if (byDomain.size === 0) return items;
  const hour = Math.floor(now / 3_600_000);
  const domains = [...byDomain.keys()];
  const db = database(d1);
  const [first, ...rest] = domains.map((d) =>
    db
      .insert(confirmDomainHours)
      .values({ domain: d, hour, count: byDomain.get(d)!.length })
      .onConflictDoUpdate({
        target: [confirmDomainHours.domain, confirmDomainHours.hour],
        set: { count: sql`${confirmDomainHours.count} + excluded.count` },
      })
      .returning({ count: confirmDomainHours.count }),
  );
  const results = await db.batch([first!, ...rest]);
  const over = new Set<MailItem>();
  domains.forEach((d, k) => {
    const list = byDomain.get(d)!;
    const before = results[k]![0]!.count - list.length;
    const room = Math.max(0, cap - before);
    for (const i of list.slice(room)) over.add(i);
  });
  if (over.size) console.warn("mail: confirmations over the per-domain hourly cap left out", { count: over.size, cap });
  return items.filter((i) => !over.has(i));
}

const domainOf = (email: string) => email.slice(email.lastIndexOf("@") + 1).toLowerCase();

async function sendJobs(jobs: JobMessage[], env: Env, cfg: Config, mailer: ReturnType<typeof mailerFor>) {
  const now = Date.now();
  let batchIds: number[];
  try {
    // One read for the whole delivery: the current state of every subscriber the jobs name.
    const ids = [...new Set(jobs.map((m) => m.body.subscriberId))];
    const rows = new Map<number, Subscriber>();
    for (let i = 0; i < ids.length; i += 100) {
      for (const r of await database(env.DB)
        .select()
        .from(subscribers)
        .where(inArray(subscribers.id, ids.slice(i, i + 100))))
        rows.set(r.id, r);
    }
    const items = jobs
      .map((m) => itemFor(m.body, rows.get(m.body.subscriberId)))
      .filter((i): i is MailItem => i !== null);
    batchIds = await freezeItems(env.DB, await capPerDomain(env.DB, items, cfg.confirmDomainHourlyCap, now), now);
  } catch (err) {
    console.error("mail: could not freeze jobs, will retry", { jobs: jobs.length, error: String(err) });
    for (const m of jobs) m.retry({ delaySeconds: backoffSec(m.attempts + 4) });
    return;
  }

  const later: { batchId: number; delaySeconds: number }[] = [];
  for (const id of batchIds) {
    const result = await sendMailBatch(env, cfg, mailer, id, 1).catch((err): MailBatchResult => {
      console.error("mail: batch send failed, will retry", { batch: id, error: String(err) });
      return { done: false, retryInSec: 10 };
    });
    if ("retryInSec" in result) later.push({ batchId: id, delaySeconds: Math.min(result.retryInSec, 43_200) });
  }
  try {
    // The frozen batches carry on as their own messages; until they are queued, the jobs stay (a redelivered job
    // finds its batch and sends that one, under its key).
    if (later.length > 0)
      await env.MAIL_QUEUE.sendBatch(
        later.map((l) => ({ body: { kind: "batch", batchId: l.batchId }, delaySeconds: l.delaySeconds })),
      );
    for (const m of jobs) m.ack();
  } catch (err) {
    console.error("mail: could not queue the retry, jobs will be redelivered", { error: String(err) });
    for (const m of jobs) m.retry({ delaySeconds: 10 });
  }
}
