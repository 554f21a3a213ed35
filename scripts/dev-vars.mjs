// First-run setup for `npm start`: creates .dev.vars (git-ignored) with fresh random local secrets.
// Existing files are left alone, so operators can put their own overrides there.
import { randomBytes } from "node:crypto";
import { appendFileSync, existsSync, readFileSync, writeFileSync } from "node:fs";

// LOCAL_DEV=1 is what makes a run local (the outbox instead of Resend, /dev/outbox, dev headers). It lives only here:
// `wrangler deploy` never uploads .dev.vars, so a deployed Worker can never be local by accident.
if (!existsSync(".dev.vars")) {
  const admin = randomBytes(24).toString("hex");
  writeFileSync(
    ".dev.vars",
    `# Local secrets for wrangler dev; never commit this file.\nLOCAL_DEV=1\nTOKEN_SECRET=${randomBytes(32).toString("hex")}\nADMIN_TOKEN=${admin}\n`,
  );
  console.log(`Created .dev.vars with a random TOKEN_SECRET and ADMIN_TOKEN (see the file for the admin token).`);
} else if (!/^LOCAL_DEV=/m.test(readFileSync(".dev.vars", "utf8"))) {
  appendFileSync(".dev.vars", "\n# Local development: the outbox instead of Resend (never deployed).\nLOCAL_DEV=1\n");
  console.log("Added LOCAL_DEV=1 to .dev.vars.");
}
