import type { Config } from "../config";
import { type LinkOwner, manageUrl, unsubscribeUrl } from "../lib/links";
import type { Email } from "./mailer";

/** A reader's own links, signed for them (src/lib/links.ts): one-click unsubscribe and the manage page. */
export interface PersonalLinks {
  unsubscribe: string;
  manage: string;
}

export const personalLinks = async (cfg: Config, who: LinkOwner): Promise<PersonalLinks> => ({
  unsubscribe: await unsubscribeUrl(cfg, who),
  manage: await manageUrl(cfg, who),
});

/**
 * One email to one reader, however it was rendered: the digest, the welcome and confirmation emails and the operator's
 * test send all leave through here, so they share the sender, the tags Resend's webhooks report back and, whenever
 * the email carries the reader's own unsubscribe link, the List-Unsubscribe headers of RFC 8058 (one-click POST).
 * A confirmation has no such link (nobody is subscribed yet), and neither has a test send (its recipient is not a
 * subscriber): both go without the headers rather than with a link that unsubscribes nobody.
 */
export function personalEmail(
  cfg: Config,
  to: string,
  content: { subject: string; html: string; text: string },
  opts: { kind: "digest" | "confirm" | "welcome" | "test"; week?: string; unsubscribe?: string },
): Email {
  return {
    from: cfg.mailFrom,
    to,
    subject: content.subject,
    html: content.html,
    text: content.text,
    ...(opts.unsubscribe && {
      headers: { "List-Unsubscribe": `<${opts.unsubscribe}>`, "List-Unsubscribe-Post": "List-Unsubscribe=One-Click" },
    }),
    tags: [{ name: "kind", value: opts.kind }, ...(opts.week ? [{ name: "issue", value: opts.week }] : [])],
  };
}
