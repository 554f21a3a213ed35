// First-run setup for `npm start`: creates .dev.vars (git-ignored) with fresh random local secrets.
// Existing files are left alone, so operators can put their own overrides there.
import { randomBytes } from "node:crypto";
import { existsSync, writeFileSync } from "node:fs";

if (!existsSync(".dev.vars")) {
  const admin = randomBytes(24).toString("hex");
  writeFileSync(
    ".dev.vars",
    `# Local secrets for wrangler dev; never commit this file.\nTOKEN_SECRET=${randomBytes(32).toString("hex")}\nADMIN_TOKEN=${admin}\n`,
  );
  console.log(`Created .dev.vars with a random TOKEN_SECRET and ADMIN_TOKEN (see the file for the admin token).`);
}
