import path from "node:path";
import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";
import { startEmulators } from "./test/emulators/serve";

// Local emulators of the outside services (Resend, Turnstile), real HTTP servers on 127.0.0.1:
// the Worker reaches them through its real clients, as it would reach the real services.
const emulators = await startEmulators();
const migrations = await readD1Migrations(path.join(import.meta.dirname, "migrations"));
const DELIVERY = ["test/integration/digest*.test.ts", "test/integration/delivery*.test.ts"];

function workersProject(name: string, include: string[], exclude: string[], bindings: Record<string, string> = {}) {
  return {
    plugins: [
      cloudflareTest({
        wrangler: { configPath: "./wrangler.toml" },
        miniflare: {
          // An empty database of its own, for the test that migrates existing data step by step.
          d1Databases: ["MIGRATION_TEST_DB"],
          bindings: {
            TEST_MIGRATIONS: migrations,
            RESEND_EMULATOR_URL: emulators.resendUrl,
            TURNSTILE_EMULATOR_URL: emulators.turnstileUrl,
            HF_EMULATOR_URL: emulators.huggingFaceUrl,
            TOKEN_SECRET: "test-token-secret-0123456789abcdef0123456789",
            LOCAL_DEV: "1",
            // Test addresses are all at example.com; the per-domain cap has tests of its own.
            CONFIRM_DOMAIN_HOURLY_CAP: "1000000",
            ADMIN_TOKEN: "test-admin-token-0123456789",
            MIN_FILL_MS: "2000",
            // Tests drive Resend's limits through the emulator; the pacer is measured by bench:digest.
            RESEND_MAX_RPS: "0",
            ...bindings,
          },
        },
      }),
    ],
    test: {
      name,
      include,
      exclude,
      setupFiles: ["./test/apply-migrations.ts"],
      testTimeout: 120_000,
      fileParallelism: name !== "delivery",
    },
  };
}

export default defineConfig({
  test: {
    projects: [
      workersProject("workers", ["test/unit/**/*.test.ts", "test/integration/**/*.test.ts"], DELIVERY),
      // Digests and delivery run end to end through the queues, so the Worker itself must talk to Resend (the
      // emulator). Their files share one emulator account (one API key) and one send budget, so they run one at a time.
      workersProject("delivery", DELIVERY, [], {
        RESEND_API_KEY: "re_digest_tests_0123456789",
        RESEND_BASE_URL: emulators.resendUrl,
        RESEND_MAX_RPS: "0",
      }),
      {
        test: {
          name: "e2e",
          include: ["test/e2e/**/*.test.ts"],
          environment: "node",
          globalSetup: ["./test/e2e/global-setup.ts"],
          testTimeout: 60_000,
          hookTimeout: 120_000,
          fileParallelism: false,
        },
      },
      // Email quality (caniemail lint, SpamAssassin, size) on a rendered digest; needs `spamassassin` on PATH.
      { test: { name: "quality", include: ["test/quality/**/*.test.ts"], environment: "node", testTimeout: 60_000 } },
    ],
  },
});
