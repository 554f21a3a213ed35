import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { type Browser, chromium, type Page } from "playwright-core";
import { inject } from "vitest";
import { waitFor } from "../support/poll";

export const workerUrl = () => inject("workerUrl");
export const hostUrl = () => inject("hostUrl");
export const worker = (path: string) => new URL(path, inject("workerUrl")).toString();
export const hostPage = (path: string) => new URL(path, inject("hostUrl")).toString();

/** A deliberate pause for the human-delay trap (MIN_FILL_MS is 2 s): the only fixed waits in these tests. */
export const HUMAN_DELAY_MS = 3_100;
export const humanDelay = () => new Promise((r) => setTimeout(r, HUMAN_DELAY_MS));

export function launch(): Promise<Browser> {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? inject("chromiumPath") ?? "/usr/bin/chromium",
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
}

/** A fresh lower-case address per test, so tests never share state. */
export const uniqueEmail = (tag = "e2e") =>
  `${tag}-${Date.now().toString(36)}-${randomBytes(4).toString("hex")}@example.com`;

export interface OutboxEmail {
  id: number;
  to: string;
  subject: string;
  html: string;
  text: string;
  headers: Record<string, string> | null;
  tags: { name: string; value: string }[] | null;
}

export async function outboxFor(to: string): Promise<OutboxEmail[]> {
  const res = await fetch(worker(`/dev/outbox.json?to=${encodeURIComponent(to)}`));
  if (!res.ok) throw new Error(`GET /dev/outbox.json answered ${res.status}`);
  return ((await res.json()) as { emails: OutboxEmail[] }).emails;
}

const kindOf = (e: OutboxEmail) => e.tags?.find((t) => t.name === "kind")?.value;

/** Waits until an email of that kind (confirm | welcome) to that address is in the local outbox. */
export const waitForEmail = async (to: string, kind: "confirm" | "welcome", timeoutMs = 30_000) =>
  (await waitFor(
    `a ${kind} email to ${to} in the outbox`,
    async () => (await outboxFor(to)).find((e) => kindOf(e) === kind),
    Boolean,
    timeoutMs,
  ))!;

/** The first link in an email's text that points at the Worker path prefix (/confirm/, /manage/, /unsubscribe/). */
export function linkIn(email: OutboxEmail, prefix: string): string {
  const base = workerUrl().replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  const m = email.text.match(new RegExp(`${base}${prefix}[A-Za-z0-9._~%-]+`));
  if (!m) throw new Error(`no ${prefix} link in the email "${email.subject}":\n${email.text}`);
  return m[0];
}

export interface SubscriberRow {
  email: string;
  status: string;
  source: string;
  consentOrigin: string;
}

/** The subscriber row for an address, read through the operator export (ADMIN_TOKEN), or null. */
export async function subscriberRow(email: string): Promise<SubscriberRow | null> {
  const res = await fetch(worker("/admin/subscribers/export"), {
    headers: { Authorization: `Bearer ${inject("adminToken")}` },
  });
  if (!res.ok) throw new Error(`GET /admin/subscribers/export answered ${res.status}: ${await res.text()}`);
  for (const line of (await res.text()).split("\n").slice(1)) {
    const f = line.split(",");
    if (f[0]?.toLowerCase() === email.toLowerCase())
      return { email: f[0]!, status: f[1]!, source: f[2]!, consentOrigin: f[7] ?? "" };
  }
  return null;
}

/*
 * Budget: every POST /api/subscribe (browser or not) counts against SUBSCRIBE_LIMITER, 10 per minute per client IP,
 * and all of these tests share 127.0.0.1. The suite makes 9; keep new tests' signups within the budget.
 */

/** Direct signup through the JSON API (no form token, so no human-delay trap): setup for tests about later steps. */
export async function apiSubscribe(email: string): Promise<void> {
  const res = await fetch(worker("/api/subscribe"), {
    method: "POST",
    headers: { "Content-Type": "application/json", Accept: "application/json" },
    body: JSON.stringify({ email }),
  });
  if (res.status !== 202) throw new Error(`POST /api/subscribe answered ${res.status}: ${await res.text()}`);
}

/**
 * Collects console messages and page errors of a page (all its frames). The browser's own request for
 * /favicon.ico (our pages declare none, so it 404s) is not the page's doing and is left out.
 */
export function consoleOf(page: Page) {
  const messages: string[] = [];
  page.on("console", (m) => {
    const at = m.location().url;
    if (/\/favicon\.ico$/.test(at)) return;
    messages.push(`${m.type()}: ${m.text()}${at ? ` (${at})` : ""}`);
  });
  page.on("pageerror", (e) => messages.push(`pageerror: ${e.message}`));
  return messages;
}

const require = createRequire(import.meta.url);
const AXE_SOURCE = readFileSync(require.resolve("axe-core/axe.min.js"), "utf8");

export interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  helpUrl: string;
  nodes: { target: unknown[]; html: string; failureSummary?: string }[];
}

/**
 * Runs axe-core in the page (the context must be created with bypassCSP: true: our pages' CSP would refuse
 * the injected script) and returns the violations, printing all of them. include: a CSS selector to scope to.
 */
export async function axe(page: Page, label: string, include?: string): Promise<AxeViolation[]> {
  if (!(await page.evaluate(() => "axe" in window))) await page.addScriptTag({ content: AXE_SOURCE });
  const violations = await page.evaluate(async (sel) => {
    const w = window as unknown as {
      axe: { run: (ctx: unknown, opts: unknown) => Promise<{ violations: AxeViolation[] }> };
    };
    const result = await w.axe.run(sel ? { include: [[sel]] } : document, { resultTypes: ["violations"] });
    return result.violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      helpUrl: v.helpUrl,
      nodes: v.nodes.map((n) => ({ target: n.target, html: n.html, failureSummary: n.failureSummary })),
    }));
  }, include ?? null);
  for (const v of violations) {
    console.log(
      `[axe] ${label}: ${v.impact} ${v.id}: ${v.help} (${v.helpUrl})\n${v.nodes.map((n) => `    ${JSON.stringify(n.target)} ${n.html}\n      ${(n.failureSummary ?? "").replace(/\n/g, "\n      ")}`).join("\n")}`,
    );
  }
  return violations;
}

export const seriousOrWorse = (vs: AxeViolation[]) =>
  vs.filter((v) => v.impact === "serious" || v.impact === "critical");

/** axe in the light and the dark colour scheme: the serious and critical violations, one labelled line each. */
export async function seriousInBothSchemes(page: Page, label: string, include?: string): Promise<string[]> {
  const found: string[] = [];
  for (const colorScheme of ["light", "dark"] as const) {
    await page.emulateMedia({ colorScheme });
    for (const v of seriousOrWorse(await axe(page, `${label} (${colorScheme})`, include)))
      found.push(
        `${label} (${colorScheme}): ${v.impact} ${v.id} on ${v.nodes.map((n) => JSON.stringify(n.target)).join(", ")}`,
      );
  }
  return found;
}
