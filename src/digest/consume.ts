import type { Config } from "../config";
import { failImport, type ImportJob, importChunk } from "../db/imports";
import { backoffSec } from "../mail/deliver";
import { fanout } from "./fanout";
import { finalize, recordError } from "./issues";
import type { DigestJob, IssueJob } from "./jobs";
import { sendIssueBatches } from "./send";
import { bump, MeteredDb } from "./store";

/**
 * Handles one digest queue message. Returns a delay in seconds when the message should be retried later
 * (Resend throttling or failing); throws to have the queue retry it with the default backoff.
 */
export async function handleDigestJob(
  job: IssueJob,
  attempts: number,
  env: Env,
  cfg: Config,
): Promise<number | undefined> {
  const db = new MeteredDb(env.DB);
  try {
    if (job.kind === "fanout") await fanout(job, attempts, env, cfg, db);
    else return (await sendIssueBatches(job.week, [{ batchId: job.batchId, attempts }], env, cfg, db)).get(job.batchId);
  } finally {
    // Whatever was not already written into the run record by the job itself.
    const cost = db.drain();
    if (cost.read || cost.written)
      await db.batch([bump(job.week, { rows_read: cost.read, rows_written: cost.written })]);
    if (job.kind === "fanout") await db.batch([finalize(job.week)]);
  }
}

/** Deliveries of one import chunk before the import is recorded as failed. */
const IMPORT_MAX_ATTEMPTS = 5;

/**
 * Consumes DIGEST_QUEUE. The batch messages of one delivery are handled together, per issue (one claim, one
 * re-check; each batch then waits for its own slot of the shared budget, so the calls fill the rate Resend
 * allows); every message is acked, retried or left to its own backoff.
 */
export async function consumeDigest(batch: MessageBatch<DigestJob>, env: Env, cfg: Config) {
  const byWeek = new Map<string, Message<Extract<DigestJob, { kind: "batch" }>>[]>();
  const fanouts: Message<Extract<DigestJob, { kind: "fanout" }>>[] = [];
  const imports: Message<ImportJob>[] = [];
  for (const msg of batch.messages) {
    const body = msg.body as Partial<DigestJob> | undefined;
    if (body?.kind === "batch" && typeof body.week === "string" && Number.isSafeInteger(body.batchId)) {
      const list = byWeek.get(body.week) ?? [];
      list.push(msg as Message<Extract<DigestJob, { kind: "batch" }>>);
      byWeek.set(body.week, list);
    } else if (body?.kind === "fanout" && typeof body.week === "string")
      fanouts.push(msg as Message<Extract<DigestJob, { kind: "fanout" }>>);
    else if (body?.kind === "import" && Number.isSafeInteger(body.importId) && Number.isSafeInteger(body.seq))
      imports.push(msg as Message<ImportJob>);
    else {
      console.error("digest: unknown message dropped", { kind: String(body?.kind).slice(0, 20) });
      msg.ack();
    }
  }
  const fail = (msgs: Message<DigestJob>[], week: string, err: unknown) => {
    console.error("digest: job failed, will retry", { week, messages: msgs.length, error: String(err) });
    for (const m of msgs) m.retry({ delaySeconds: backoffSec(m.attempts + 4) });
  };
  await Promise.all([
    // Import chunks one after another: each is one D1 batch of about 40 statements.
    (async () => {
      for (const msg of imports) {
        try {
          await importChunk(env.DB, msg.body, Date.now());
          msg.ack();
        } catch (err) {
          console.error("import: chunk failed", { importId: msg.body.importId, seq: msg.body.seq, error: String(err) });
          if (msg.attempts < IMPORT_MAX_ATTEMPTS) msg.retry({ delaySeconds: backoffSec(msg.attempts) });
          else {
            await failImport(env.DB, msg.body.importId, `a part of the list could not be imported: ${err}`, Date.now());
            msg.ack();
          }
        }
      }
    })(),
    ...fanouts.map(async (msg) => {
      try {
        await handleDigestJob(msg.body, msg.attempts, env, cfg);
        msg.ack();
      } catch (err) {
        await recordError(env.DB, msg.body.week, String(err));
        fail([msg], msg.body.week, err);
      }
    }),
    ...[...byWeek].map(async ([week, msgs]) => {
      const db = new MeteredDb(env.DB);
      try {
        const results = await sendIssueBatches(
          week,
          msgs.map((m) => ({ batchId: m.body.batchId, attempts: m.attempts })),
          env,
          cfg,
          db,
        );
        for (const m of msgs) {
          const retryIn = results.get(m.body.batchId);
          if (retryIn === undefined) m.ack();
          else m.retry({ delaySeconds: Math.min(retryIn, 43_200) });
        }
      } catch (err) {
        fail(msgs, week, err);
      } finally {
        const cost = db.drain();
        if (cost.read || cost.written)
          await db.batch([bump(week, { rows_read: cost.read, rows_written: cost.written })]).catch(() => undefined);
      }
    }),
  ]);
}
