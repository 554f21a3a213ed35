import type { Config } from "../config";
import type { Mailer } from "./mailer";
import { OutboxMailer } from "./outbox";
import { ResendMailer } from "./resend";

export type { Email, Mailer, SendOutcome } from "./mailer";

/** Resend when an API key is configured; otherwise the local outbox (D1), which `npm start` shows in the browser. */
export function mailerFor(env: Env, cfg: Config): Mailer {
  if (cfg.resendApiKey) return new ResendMailer(cfg.resendApiKey, cfg.resendBaseUrl);
  return new OutboxMailer(env.DB);
}
