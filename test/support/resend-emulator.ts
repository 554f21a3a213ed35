import { env } from "cloudflare:workers";
import type { EmulatorConfig, EmulatorStats, StoredEmail } from "../emulators/resend";
import { waitFor } from "./poll";

export type { EmulatorStats };

/**
 * Test-side handle on the Resend emulator, over plain HTTP. Everything is scoped to one API key (a Resend
 * "team"), so test files sharing the emulator never see each other's emails, limits or faults.
 */
export function resendEmulator(apiKey = `re_test_${crypto.randomUUID().replaceAll("-", "")}`) {
  const base = env.RESEND_EMULATOR_URL;
  const control = async <T>(path: string, init: RequestInit = {}) => {
    const res = await fetch(`${base}/_emulator/${path}`, {
      ...init,
      headers: { authorization: `Bearer ${apiKey}`, "content-type": "application/json" },
    });
    if (!res.ok) throw new Error(`emulator ${path}: ${res.status} ${await res.text()}`);
    return (await res.json()) as T;
  };
  return {
    apiKey,
    url: base,
    reset: () => control("reset", { method: "POST" }),
    configure: (patch: Partial<EmulatorConfig>) =>
      control<EmulatorConfig>("config", { method: "POST", body: JSON.stringify(patch) }),
    release: () => control<{ released: number }>("release", { method: "POST" }),
    emails: async (to?: string) =>
      (await control<{ data: StoredEmail[] }>(`emails${to ? `?to=${encodeURIComponent(to)}` : ""}`)).data,
    requests: async () =>
      (
        await control<{
          data: {
            path: string;
            status: number;
            name?: string;
            idempotencyKey: string | null;
            retryAfter?: number;
            at: number;
          }[];
        }>("requests")
      ).data,
    stats: () => control<EmulatorStats>("stats"),
    /** Raw call to the emulated Resend API, for checks the SDK would not let through. */
    api: (path: string, body: unknown, headers: Record<string, string> = {}) =>
      fetch(`${base}${path}`, {
        method: "POST",
        body: typeof body === "string" ? body : JSON.stringify(body),
        headers: { authorization: `Bearer ${apiKey}`, "content-type": "application/json", ...headers },
      }),
    /** Waits until n requests are held in flight. */
    async untilInFlight(n: number) {
      await waitFor(
        `${n} request(s) in flight`,
        () => this.stats(),
        (s) => s.inFlight >= n,
        5_000,
        10,
      );
    },
  };
}
