import type { D1Migration } from "cloudflare:test";

declare global {
  namespace Cloudflare {
    interface Env {
      TEST_MIGRATIONS: D1Migration[];
      RESEND_EMULATOR_URL: string;
      TURNSTILE_EMULATOR_URL: string;
    }
  }
}
