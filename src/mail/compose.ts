import { confirmationEmail, welcomeEmail } from "../../templates/emails";
import type { Config } from "../config";
import type { Subscriber } from "../db/schema";
import { confirmUrl, manageUrl, unsubscribeUrl } from "../lib/links";
import type { MailItem, MailJob } from "./jobs";
import type { Email } from "./mailer";

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
    ? { kind: "welcome", sub: sub.id, key: sub.linkKey, email: sub.email, at: sub.confirmedAt }
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

const oneClick = (unsubscribe: string) => ({
  "List-Unsubscribe": `<${unsubscribe}>`,
  "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
});

/** Renders a frozen item; deterministic, so a retry rebuilds the very body the key was first used with. */
export async function renderItem(cfg: Config, item: MailItem): Promise<Email> {
  const base = { from: cfg.mailFrom, to: item.email };
  if (item.kind === "test")
    return {
      ...base,
      subject: item.subject,
      html: item.html,
      text: item.text,
      tags: [{ name: "kind", value: "test" }],
    };
  if (item.kind === "confirm") {
    const rendered = await confirmationEmail({
      name: cfg.newsletterName,
      email: item.email,
      confirmUrl: await confirmUrl(cfg, { id: item.sub, linkKey: item.key }, item.at),
    });
    return { ...base, ...rendered, tags: [{ name: "kind", value: "confirm" }] };
  }
  const who = { id: item.sub, linkKey: item.key };
  const unsubscribe = await unsubscribeUrl(cfg, who);
  const rendered = await welcomeEmail({
    name: cfg.newsletterName,
    homeUrl: cfg.publicUrl.toString(),
    manageUrl: await manageUrl(cfg, who),
    unsubscribeUrl: unsubscribe,
  });
  return { ...base, ...rendered, headers: oneClick(unsubscribe), tags: [{ name: "kind", value: "welcome" }] };
}
