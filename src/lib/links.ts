import type { Config } from "../config";
import { CONFIRM_TTL_MS, signToken } from "./tokens";

const url = (cfg: Config, path: string) => new URL(path, cfg.publicUrl).toString();

export async function confirmUrl(cfg: Config, id: number, now = Date.now()) {
  return url(cfg, `/confirm/${await signToken(cfg.tokenSecret, "confirm", { sub: id, iat: now, exp: now + CONFIRM_TTL_MS })}`);
}

/** Unsubscribe and manage links never expire: they must keep working from any old email. */
export async function unsubscribeUrl(cfg: Config, id: number) {
  return url(cfg, `/unsubscribe/${await signToken(cfg.tokenSecret, "unsubscribe", { sub: id, iat: 0, exp: 0 })}`);
}

export async function manageUrl(cfg: Config, id: number) {
  return url(cfg, `/manage/${await signToken(cfg.tokenSecret, "manage", { sub: id, iat: 0, exp: 0 })}`);
}

export const formToken = (cfg: Config, now = Date.now()) => signToken(cfg.tokenSecret, "form", { sub: 0, iat: now, exp: now + 7 * 24 * 3600 * 1000 });
