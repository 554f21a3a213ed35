import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { config } from "../../src/config";
import { handleDigestJob } from "../../src/digest/consume";
import type { DigestJob, IssueJob } from "../../src/digest/jobs";
import worker from "../../src/index";
import { BASE } from "./helpers";

const auth = { authorization: `Bearer ${env.ADMIN_TOKEN}` };

/** Delivers messages to the Worker's queue consumer the way the queue would, and waits for it to finish with them. */
export async function consume<T>(queue: "papers-digest" | "papers-mail", jobs: T[], e: Env = env, attempts = 1) {
  const batch = createMessageBatch<T>(
    queue,
    jobs.map((body, i) => ({ id: `q${i}-${crypto.randomUUID()}`, timestamp: new Date(), attempts, body })),
  );
  const ctx = createExecutionContext();
  await worker.queue!(batch as never, e, ctx);
  return getQueueResult(batch, ctx);
}

/** A stand-in queue that keeps what is sent to it (and checks Cloudflare's size limits on the way). */
export function holdingQueue<T>() {
  const held: T[] = [];
  const sizes: { messages: number; bytes: number; largest: number }[] = [];
  const measure = (bodies: T[]) => {
    const each = bodies.map((b) => new TextEncoder().encode(JSON.stringify(b)).length);
    sizes.push({ messages: bodies.length, bytes: each.reduce((a, b) => a + b, 0), largest: Math.max(...each) });
    if (bodies.length > 100) throw new Error(`sendBatch of ${bodies.length} messages (limit 100)`);
  };
  const queue = {
    send: async (body: T) => {
      measure([body]);
      held.push(body);
    },
    sendBatch: async (msgs: { body: T }[]) => {
      measure(msgs.map((m) => m.body));
      held.push(...msgs.map((m) => m.body));
    },
  };
  return { queue: queue as unknown as Queue<T>, held, sizes };
}

/**
 * Starts a week through the admin "send" endpoint and runs its fan-out, holding the batch messages back instead of
 * queuing them: the test then delivers them when it wants (consume) or releases them onto the real queue.
 */
export async function startHeld(week: string) {
  const hold = holdingQueue<DigestJob>();
  const heldEnv = { ...env, DIGEST_QUEUE: hold.queue };
  const res = await worker.fetch!(
    new Request(new URL(`/admin/digests/${week}/send`, BASE), { method: "POST", headers: auth }) as never,
    heldEnv,
    createExecutionContext(),
  );
  if (res.status !== 202) throw new Error(`send ${week}: ${res.status} ${await res.text()}`);
  const fanout = hold.held.shift()!;
  for (let job = fanout as IssueJob | undefined; job; job = hold.held.find((j) => j.kind === "fanout")) {
    hold.held.splice(hold.held.indexOf(job), 1);
    await handleDigestJob(job, 1, heldEnv, config(heldEnv));
  }
  return { jobs: hold.held as Extract<DigestJob, { kind: "batch" }>[], sizes: hold.sizes, fanout };
}

export const release = (jobs: DigestJob[]) => env.DIGEST_QUEUE.sendBatch(jobs.map((body) => ({ body })));
