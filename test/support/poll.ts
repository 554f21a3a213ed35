/**
 * Waits, by polling, until `probe()` gives a value `ok` accepts (by default: anything truthy), and returns it; throws
 * with the last value after `timeoutMs`. The one polling helper of the tests (Worker, e2e and their setup): no clock
 * assertions, only a deadline for giving up. `what` may be a function, for a message built when the wait fails.
 */
export async function waitFor<T>(
  what: string | (() => string),
  probe: () => Promise<T>,
  ok: (v: T) => boolean = Boolean,
  timeoutMs = 60_000,
  intervalMs = 100,
): Promise<T> {
  const start = Date.now();
  for (;;) {
    const v = await probe();
    if (ok(v)) return v;
    if (Date.now() - start > timeoutMs) {
      const name = typeof what === "function" ? what() : what;
      throw new Error(`timed out waiting for ${name}: ${JSON.stringify(v)?.slice(0, 500)}`);
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
