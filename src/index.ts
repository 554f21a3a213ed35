import { app } from "./app";
import { config } from "./config";
import type { MailJob } from "./mail/jobs";
import { consumeMail } from "./mail/consumer";

export default {
  fetch: app.fetch,

  async queue(batch, env, _ctx) {
    await consumeMail(batch as MessageBatch<MailJob>, env);
  },

  async scheduled(controller, env, _ctx) {
    // Fails loudly on a misconfigured deployment; the weekly digest run is built on this entry point.
    config(env);
    console.log("scheduled", { cron: controller.cron, at: new Date(controller.scheduledTime).toISOString() });
  },
} satisfies ExportedHandler<Env, MailJob>;
