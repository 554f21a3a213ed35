// `npm run digest [-- 2026-W47 | 2026-11-30 | daily]`: runs the weekly issue (default: last week's), a daily edition
// (a day, or `daily` for yesterday's) against the local server (npm start), then prints
// its run record once settled. The emails land in the local outbox (http://127.0.0.1:8787/dev/outbox).
import { readFileSync } from "node:fs";

const base = process.env.DIGEST_URL ?? "http://127.0.0.1:8787";
const token = process.env.ADMIN_TOKEN ?? /^ADMIN_TOKEN=(.+)$/m.exec(readFileSync(".dev.vars", "utf8"))?.[1];
if (!token) throw new Error("No ADMIN_TOKEN: run `npm start` once (it writes .dev.vars) or set ADMIN_TOKEN.");

function previousWeek(now = new Date()) {
  const d = new Date(now.getTime() - 7 * 86_400_000);
  const t = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate()));
  t.setUTCDate(t.getUTCDate() + 4 - (t.getUTCDay() || 7));
  const week = Math.ceil(((t.getTime() - Date.UTC(t.getUTCFullYear(), 0, 1)) / 86_400_000 + 1) / 7);
  return `${t.getUTCFullYear()}-W${String(week).padStart(2, "0")}`;
}

const arg = process.argv[2];
const week = arg === "daily" ? new Date(Date.now() - 86_400_000).toISOString().slice(0, 10) : (arg ?? previousWeek());
const headers = { authorization: `Bearer ${token}` };
const res = await fetch(`${base}/admin/digests/${week}/send`, { method: "POST", headers }).catch(() => null);
if (!res) throw new Error(`Nothing answers at ${base}: start the service with \`npm start\` first.`);
if (!res.ok) throw new Error(`send ${week}: HTTP ${res.status} ${await res.text()}`);
console.log(`Digest ${week} started.`);
for (let i = 0; i < 600; i++) {
  const rec = await (await fetch(`${base}/admin/digests/${week}`, { headers })).json();
  if (["sent", "skipped", "failed"].includes(rec.status)) {
    console.log(JSON.stringify(rec, null, 2));
    console.log(`Open ${base}/dev/outbox to read it, or ${base}/archive/${week} for the web version.`);
    process.exit(rec.status === "failed" ? 1 : 0);
  }
  await new Promise((r) => setTimeout(r, 500));
}
throw new Error(`Digest ${week} did not settle in 5 minutes.`);
