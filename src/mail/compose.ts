import { confirmationEmail, welcomeEmail } from "../../templates/emails";
import type { Config } from "../config";
import type { Subscriber } from "../db/schema";
import { confirmUrl } from "../lib/links";
import type { MailItem, MailJob } from "./jobs";
import type { Email } from "./mailer";
import { personalEmail, personalLinks } from "./personal";

/** The email a job asks for, as an item to freeze, or null when it no longer applies (confirmed meanwhile, left, erased). */
export function itemFor(
  job: Extract<MailJob, { kind: "confirm" | "welcome" }>,
  sub: Subscriber | undefined,
): MailItem | null {
  if (!sub) return null;
  if (job.kind === "confirm")
    return sub.status === "pending" && sub.confirmSentAt === job.sentAt
      ? { kind: "confirm", sub: sub.id, key: sub.linkKey, email: sub.email, at: job.sentAt }
      : null;
  return sub.status === "active" && sub.confirmedAt
    ? { kind: "welcome", sub: sub.id, key: sub.linkKey, email: sub.email, at: sub.confirmedAt, cadence: sub.cadence }
    : null;
}

/**
 * Whether a frozen item is still wanted (re-checked before a first attempt and after a refusal): the confirmation
 * of a signup still pending, the welcome of a subscription still active. A pause is about the digest: it does not
 * hold back the welcome email, which is where the pause can be undone.
 */
export function stillWanted(item: MailItem, sub: Subscriber | undefined): boolean {
  if (item.kind === "test") return true;
  if (!sub || sub.email !== item.email || sub.linkKey !== item.key) return false;
  if (item.kind === "confirm") return sub.status === "pending" && sub.confirmSentAt === item.at;
  return sub.status === "active" && sub.confirmedAt === item.at;
}

/** Renders a frozen item; deterministic, so a retry rebuilds the very body the key was first used with. */
export async function renderItem(cfg: Config, item: MailItem): Promise<Email> {
  if (item.kind === "test") return personalEmail(cfg, item.email, item, { kind: "test" });
  const who = { id: item.sub, linkKey: item.key };
  if (item.kind === "confirm") {
    const confirm = await confirmUrl(cfg, who, item.at);
    const rendered = await confirmationEmail({ name: cfg.newsletterName, email: item.email, confirmUrl: confirm });
    return personalEmail(cfg, item.email, rendered, { kind: "confirm" });
  }
  const links = await personalLinks(cfg, who);
  const rendered = await welcomeEmail({
    name: cfg.newsletterName,
    homeUrl: cfg.publicUrl.toString(),
    manageUrl: links.manage,
    unsubscribeUrl: links.unsubscribe,
    cadence: item.cadence ?? "weekly",
  });
  return personalEmail(cfg, item.email, rendered, { kind: "welcome", unsubscribe: links.unsubscribe });
}
