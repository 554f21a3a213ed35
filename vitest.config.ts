import path from "node:path";
import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";
import { startEmulators } from "./test/emulators/serve";

// Local emulators of the outside services (Resend, Turnstile), real HTTP servers on 127.0.0.1:
// the Worker reaches them through its real clients, as it would reach the real services.
const emulators = await startEmulators();
const migrations = await readD1Migrations(path.join(import.meta.dirname, "migrations"));

export default defineConfig({
  test: {
    projects: [
      {
        plugins: [
          cloudflareTest({
            wrangler: { configPath: "./wrangler.toml" },
            miniflare: {
              bindings: {
                TEST_MIGRATIONS: migrations,
                RESEND_EMULATOR_URL: emulators.resendUrl,
                TURNSTILE_EMULATOR_URL: emulators.turnstileUrl,
                TOKEN_SECRET: "test-token-secret-0123456789abcdef0123456789",
                ADMIN_TOKEN: "test-admin-token-0123456789",
                MIN_FILL_MS: "2000",
              },
            },
          }),
        ],
        test: {
          name: "workers",
          include: ["test/unit/**/*.test.ts", "test/integration/**/*.test.ts"],
          setupFiles: ["./test/apply-migrations.ts"],
          testTimeout: 60_000,
        },
      },
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
    ],
  },
});
