import { app } from "./app";
import { config, LOOPBACK_HOSTS } from "./config";
import { consumeDigest } from "./digest/consume";
import { resumeQuotaPaused } from "./digest/issues";
import type { DigestJob } from "./digest/jobs";
import { runSchedule } from "./digest/schedule";
import { meterEnv, newMeter, subrequests } from "./lib/meter";
import { SendBudget as MailSendBudget } from "./mail/budget";
import { consumeMail } from "./mail/consumer";
import type { MailJob } from "./mail/jobs";

/**
 * The shared send budget (src/mail/budget.ts), wired here to the digest: when Resend's quota is back it resumes the
 * issues paused for it as well as the parked mail. (The mail side does not import the digest side.)
 */
export class SendBudget extends MailSendBudget {
  protected override async resumeParked() {
    await Promise.all([super.resumeParked(), resumeQuotaPaused(this.env)]);
  }
}

export default {
  async fetch(request, env, ctx) {
    // LOG_INVOCATIONS=1, local runs only: each answer says what it asked of the platform (the subscribe benchmark
    // reads it). Never in production: the count of calls would tell a known address from a new one.
    if (env.LOG_INVOCATIONS !== "1" || !config(env).local || !LOOPBACK_HOSTS.has(new URL(request.url).hostname))
      return app.fetch(request, env, ctx);
    const meter = newMeter();
    const res = await app.fetch(request, meterEnv(env, meter), ctx);
    const out = new Response(res.body, res);
    out.headers.append(
      "Server-Timing",
      `platform;desc="${Object.entries({ ...meter, subrequests: subrequests(meter) })
        .map(([k, v]) => `${k}=${v}`)
        .join(" ")}"`,
    );
    return out;
  },

  async queue(batch, env, _ctx) {
    const cfg = config(env);
    // LOG_INVOCATIONS=1: one line per queue invocation with what it asked of the platform (benchmarks read it).
    const meter = env.LOG_INVOCATIONS === "1" ? newMeter() : null;
    const started = Date.now();
    const e = meter ? meterEnv(env, meter) : env;
    try {
      if (batch.queue.startsWith("papers-digest")) await consumeDigest(batch as MessageBatch<DigestJob>, e, cfg);
      else await consumeMail(batch as MessageBatch<MailJob>, e, cfg);
    } finally {
      if (meter)
        console.log(
          `invocation ${JSON.stringify({ consumer: batch.queue, messages: batch.messages.length, started, ended: Date.now(), subrequests: subrequests(meter), ...meter })}`,
        );
    }
  },

  async scheduled(controller, env, _ctx) {
    config(env); // a misconfigured deployment fails here, loudly
    await runSchedule(controller, env);
  },
} satisfies ExportedHandler<Env, MailJob | DigestJob>;
