import { confirmationEmail, welcomeEmail } from "../../templates/emails";
import { config, type Config } from "../config";
import { inArray } from "drizzle-orm";
import { subscribers, type Subscriber } from "../db/schema";
import { database } from "../db/subscribers";
import { confirmUrl, manageUrl, unsubscribeUrl } from "../lib/links";
import type { MailJob } from "./jobs";
import { mailerFor, type Email, type SendOutcome } from "./mailer";
import { pace } from "./pace";

/** Backoff when the provider gives no Retry-After: 30 s, 1 min, 2 min … capped at 1 h (20 tries ≈ 15 h). */
export const backoffSeconds = (attempts: number) => Math.min(30 * 2 ** Math.max(attempts - 1, 0), 3600);

/**
 * Consumes MAIL_QUEUE: confirmation and welcome emails, sent off the request path.
 * Each message is handled on its own: transient failures retry that message with a delay,
 * permanent ones are logged (without the address) and dropped, so one bad message never blocks the rest.
 */
export async function consumeMail(batch: MessageBatch<MailJob>, env: Env): Promise<void> {
  const cfg = config(env);
  const mailer = mailerFor(env, cfg);
  // One read for the whole batch: the current state of every subscriber the jobs name.
  const ids = [...new Set(batch.messages.map((m) => m.body?.subscriberId).filter((id): id is number => Number.isSafeInteger(id)))];
  const rows = new Map<number, Subscriber>();
  for (let i = 0; i < ids.length; i += 100) {
    const chunk = ids.slice(i, i + 100);
    const found = await database(env.DB).select().from(subscribers).where(inArray(subscribers.id, chunk));
    for (const r of found) rows.set(r.id, r);
  }
  for (const msg of batch.messages) {
    const log = { kind: msg.body?.kind, subscriberId: msg.body?.subscriberId, attempts: msg.attempts };
    try {
      const sub = rows.get(msg.body?.subscriberId);
      const built = sub ? await build(msg.body, sub, cfg) : null;
      let outcome: SendOutcome | null = null;
      if (built) {
        const answered = mailer.name === "resend" ? await pace(cfg.resendMaxRps) : () => undefined;
        try {
          outcome = await mailer.send([built.email], built.key);
        } finally {
          answered(outcome && !outcome.ok && outcome.status === 429 ? outcome.retryAfterSec : undefined);
        }
      }
      if (!outcome || outcome.ok) msg.ack();
      else if (outcome.retryable) {
        console.warn("mail: transient failure, retrying", { ...log, code: outcome.code, status: outcome.status });
        // Queues cap a retry delay at 12 hours.
        msg.retry({ delaySeconds: Math.min(outcome.retryAfterSec ?? backoffSeconds(msg.attempts), 43_200) });
      } else {
        console.error("mail: permanent failure, dropped", { ...log, code: outcome.code, status: outcome.status });
        msg.ack();
      }
    } catch (err) {
      console.error("mail: job failed, will retry", { ...log, error: String(err) });
      msg.retry({ delaySeconds: backoffSeconds(msg.attempts) });
    }
  }
}

/** Renders the email a job asks for, or null when it no longer applies (confirmed meanwhile, unsubscribed, erased). */
export async function build(job: MailJob, sub: Subscriber, cfg: Config): Promise<{ email: Email; key: string } | null> {  if (job.kind === "confirm") {
    if (sub.status !== "pending" || sub.confirmSentAt !== job.sentAt) return null;
    const rendered = await confirmationEmail({ name: cfg.newsletterName, email: sub.email, confirmUrl: await confirmUrl(cfg, sub.id, job.sentAt) });
    return { email: { from: cfg.mailFrom, to: sub.email, ...rendered, tags: [{ name: "kind", value: "confirm" }] }, key: `confirm/${sub.id}/${job.sentAt}` };
  }
  if (sub.status !== "active") return null;
  const unsubscribe = await unsubscribeUrl(cfg, sub.id);
  const rendered = await welcomeEmail({ name: cfg.newsletterName, homeUrl: cfg.publicUrl.toString(), manageUrl: await manageUrl(cfg, sub.id), unsubscribeUrl: unsubscribe });
  return {
    email: {
      from: cfg.mailFrom,
      to: sub.email,
      ...rendered,
      headers: { "List-Unsubscribe": `<${unsubscribe}>`, "List-Unsubscribe-Post": "List-Unsubscribe=One-Click" },
      tags: [{ name: "kind", value: "welcome" }],
    },
    key: `welcome/${sub.id}/${sub.confirmedAt}`,
  };
}
