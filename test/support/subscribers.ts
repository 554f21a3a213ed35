/** Signing up and confirming as a reader does: through the API, the mail queue and the links in the emails. */
import { expect } from "vitest";
import { call, firstLink, outboxFor, runMailQueue, sendConfirmation, subscribeJson, subscriberRow } from "./helpers";

/**
 * Subscribes an address through the API (202 pending), sends its confirmation email and returns the confirmation
 * link of the newest email to that address. `init` as for subscribeJson: a client IP, headers such as an origin.
 */
export async function signup(email: string, init: RequestInit & { ip?: string } = {}) {
  expect((await subscribeJson(email, {}, init)).status).toBe(202);
  await sendConfirmation(email);
  return firstLink((await outboxFor(email)).at(-1)!.text, "/confirm/");
}

/** POSTs a confirmation link (200), sends the welcome email, and returns the subscriber's id, that email and its links. */
export async function confirmLink(link: string, email: string) {
  expect((await call(link, { method: "POST" })).status).toBe(200);
  const row = (await subscriberRow(email))!;
  await runMailQueue([{ kind: "welcome", subscriberId: Number(row.id) }]);
  const welcome = (await outboxFor(String(row.email))).find((m) => m.subject.startsWith("Welcome"))!;
  return {
    id: Number(row.id),
    welcome,
    manage: firstLink(welcome.text, "/manage/"),
    unsubscribe: firstLink(welcome.text, "/unsubscribe/"),
  };
}

/** A confirmed subscriber (signed up with `init`, then confirmed), and the links of its welcome email. */
export const confirmed = async (email: string, init: RequestInit & { ip?: string } = {}) =>
  confirmLink(await signup(email, init), email);

/** POSTs form fields (urlencoded), as the pages' forms do. */
export const postForm = (url: string, fields: Record<string, string>) =>
  call(url, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams(fields).toString(),
  });
