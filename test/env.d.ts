import type { D1Migration } from "cloudflare:test";

declare global {
  namespace Cloudflare {
    interface GlobalProps {
      mainModule: typeof import("../src/index");
    }
    interface Env {
      TEST_MIGRATIONS: D1Migration[];
      MIGRATION_TEST_DB: D1Database;
      RESEND_EMULATOR_URL: string;
      TURNSTILE_EMULATOR_URL: string;
      HF_EMULATOR_URL: string;
    }
  }
}
