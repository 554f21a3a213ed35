/*
 * One pacer per isolate for every call to Resend (the digest's batches and the transactional emails share
 * Resend's per-team rate limit).
 */

/** Resend calls of this isolate: answered within the last window (by answer time), and still in flight. */
const answeredAt: number[] = [];
let inFlight = 0;
let blockedUntil = 0;

/**
 * Keeps Resend calls under `rps`: at most ⌊rps⌋ calls per window of ⌊rps⌋/rps seconds, a call counting from its
 * start until a window after its answer. Anchoring on answers means arrival jitter can never put more than the
 * limit into one of Resend's windows; a 429's retry-after blocks everyone. Safe for concurrent invocations.
 * Returns the function to call when the answer arrives.
 */
export async function pace(rps: number): Promise<(retryAfterSec?: number) => void> {
  if (rps <= 0) return () => undefined;
  const count = Math.max(1, Math.floor(rps));
  const windowMs = (1000 * count) / rps;
  for (;;) {
    const now = Date.now();
    while (answeredAt.length > 0 && answeredAt[0]! + windowMs <= now) answeredAt.shift();
    if (now >= blockedUntil && inFlight + answeredAt.length < count) break;
    const wake = Math.max(blockedUntil, answeredAt.length > 0 ? answeredAt[0]! + windowMs : now + 10);
    await new Promise((r) => setTimeout(r, Math.max(1, wake - now)));
  }
  inFlight++;
  return (retryAfterSec) => {
    inFlight--;
    answeredAt.push(Date.now());
    if (retryAfterSec !== undefined) blockedUntil = Math.max(blockedUntil, Date.now() + retryAfterSec * 1000);
  };
}
