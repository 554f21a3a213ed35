import type { Config } from "../config";
import { CONFIRM_TTL_MS, signToken } from "./tokens";

const url = (cfg: Config, path: string) => new URL(path, cfg.publicUrl).toString();

/** Whom a personal link is for: the row's id and its link key (src/lib/tokens.ts). */
export interface LinkOwner {
  id: number;
  linkKey: string;
}

/** Bound to one confirmation: `sentAt` is the subscriber's confirm_sent_at when the email was sent. */
export async function confirmUrl(cfg: Config, who: LinkOwner, sentAt: number) {
  return url(
    cfg,
    `/confirm/${await signToken(cfg.tokenSecret, "confirm", { sub: who.id, iat: sentAt, exp: sentAt + CONFIRM_TTL_MS }, who.linkKey)}`,
  );
}

/** Unsubscribe and manage links never expire: they must keep working from any old email. */
export async function unsubscribeUrl(cfg: Config, who: LinkOwner) {
  return url(
    cfg,
    `/unsubscribe/${await signToken(cfg.tokenSecret, "unsubscribe", { sub: who.id, iat: 0, exp: 0 }, who.linkKey)}`,
  );
}

export async function manageUrl(cfg: Config, who: LinkOwner) {
  return url(
    cfg,
    `/manage/${await signToken(cfg.tokenSecret, "manage", { sub: who.id, iat: 0, exp: 0 }, who.linkKey)}`,
  );
}

/** The "resubscribe" button after an unsubscribe: its own purpose, so the unsubscribe path never hands out the manage link. */
export async function resubscribeUrl(cfg: Config, who: LinkOwner) {
  return url(
    cfg,
    `/resubscribe/${await signToken(cfg.tokenSecret, "resubscribe", { sub: who.id, iat: 0, exp: 0 }, who.linkKey)}`,
  );
}

export const formToken = (cfg: Config, now = Date.now()) =>
  signToken(cfg.tokenSecret, "form", { sub: 0, iat: now, exp: now + 7 * 24 * 3600 * 1000 });
