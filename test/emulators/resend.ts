import { RESPONSE_ALREADY_SENT } from "@hono/node-server/utils/response";
import { type Context, Hono } from "hono";

/**
 * A local emulator of Resend's sending API (POST /emails, POST /emails/batch), faithful to Resend's
 * documented behaviour: Bearer auth, SendEmailRequest validation, Idempotency-Key replay/conflict,
 * per-team rate limit with ratelimit-* headers, quota errors, and `{statusCode, message, name}` errors.
 * Plus controls for tests under /_emulator/ (inspect accepted emails, stats, inject faults, latency).
 *
 * State is kept per API key ("team"): Resend's rate limit and idempotency keys are per team, and it lets
 * test files running in parallel against one emulator stay out of each other's way. Control endpoints act
 * on the team named by `Authorization: Bearer <key>` (or `?key=`); without one they act on every team.
 */

export type Fault =
  /**
   * Answer with this error instead of processing the request (`name` defaults from the status); with `after`, process
   * it first (the emails are sent and the key is kept) and then answer the error: a lost answer.
   */
  | { status: number; name?: string; message?: string; retryAfter?: number; times?: number; after?: boolean }
  /** Drop the connection without an answer, as a network failure would. */
  | { abort: true; times?: number };

export interface EmulatorConfig {
  /** Fixed window per team; null = unlimited. Resend's default is 2 requests/s. */
  rateLimit: { requests: number; windowSec?: number } | null;
  /** Emails accepted (since reset) before 429 daily_quota_exceeded; null = unlimited. */
  dailyQuota: number | null;
  /** Forced answers for the next requests, consumed in order (deterministic fault injection). */
  faults: Fault[];
  /**
   * Probabilistic faults: fractions (0..1) of requests that answer 429 / 500 before processing, and 500 after
   * processing (sent, answer lost), from a seeded RNG.
   */
  random: { p429: number; p500: number; p500After?: number; seed: number } | null;
  /** Processing time of a request that passed the fault, rate-limit and idempotency checks (it is "in flight" meanwhile). */
  latencyMs: number;
  /** Hold requests in flight (after the idempotency check) until POST /_emulator/release. */
  hold: boolean;
  /** Keep each accepted email's html/text (off for large benchmark runs, where only counts matter). */
  keepBodies: boolean;
  /** Keep only a count per recipient instead of each email (million-email benchmark runs). */
  countOnly: boolean;
}

export interface StoredEmail {
  id: string;
  batchId: string | null;
  idempotencyKey: string | null;
  from: string;
  to: string[];
  cc?: string[];
  bcc?: string[];
  reply_to?: string[];
  subject: string;
  html?: string;
  text?: string;
  headers: Record<string, string>;
  tags: { name: string; value: string }[];
  scheduled_at?: string;
  createdAt: string;
}

type ApiError = { statusCode: number; name: string; message: string };
/** `body` is a SHA-256 of the request body: enough to tell "same payload" from "different", without keeping megabytes. */
type IdemRecord = {
  path: string;
  body: string;
  state: "in_flight" | "done";
  status?: number;
  response?: unknown;
  at: number;
};

const IDEMPOTENCY_TTL_MS = 24 * 3600 * 1000; // Resend keeps keys for 24 hours.
const DEFAULT_NAMES: Record<number, string> = {
  400: "validation_error",
  409: "invalid_idempotent_request",
  422: "validation_error",
  429: "rate_limit_exceeded",
  500: "internal_server_error",
  503: "application_error",
};

const defaultConfig = (): EmulatorConfig => ({
  rateLimit: null,
  dailyQuota: null,
  faults: [],
  random: null,
  latencyMs: 0,
  hold: false,
  keepBodies: true,
  countOnly: false,
});

function newTeam(config: EmulatorConfig) {
  return {
    config: structuredClone(config),
    emails: [] as StoredEmail[],
    idem: new Map<string, IdemRecord>(),
    window: { start: 0, count: 0 },
    held: [] as (() => void)[],
    rng: config.random ? mulberry32(config.random.seed) : null,
    /** Per recipient, how many emails were accepted for it (always kept, cheap enough for a million). */
    perRecipient: new Map<string, number>(),
    /** Per request: when it arrived (`arrived`, before its body was read) and when it was answered (`at`). */
    log: [] as {
      path: string;
      status: number;
      name?: string;
      idempotencyKey: string | null;
      retryAfter?: number;
      arrived: number;
      at: number;
    }[],
    stats: {
      requests: 0,
      acceptedRequests: 0,
      acceptedEmails: 0,
      replays: 0,
      rateLimited: 0,
      serverErrors: 0,
      aborted: 0,
      inFlight: 0,
      byStatus: {} as Record<string, number>,
      byIdempotencyKey: {} as Record<string, { requests: number; accepted: number }>,
    },
  };
}
type Team = ReturnType<typeof newTeam>;
/** What GET /_emulator/stats answers for one team. */
export type EmulatorStats = Team["stats"];

/** Small seeded PRNG so probabilistic faults replay identically for a given seed. */
function mulberry32(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// Resend accepts `email@example.com` or `Name <email@example.com>` (the SendEmailRequest `from` rule; also used for recipients).
const ADDRESS = /^[^\s<>@",;]+@[^\s<>@",;]+\.[^\s<>@",;]+$/;
const isAddress = (s: unknown) => {
  if (typeof s !== "string") return false;
  const named = s.match(/^[^<>]*<([^<>]+)>$/);
  return ADDRESS.test(named ? named[1]!.trim() : s.trim());
};
// Tag names and values: ASCII letters, digits, `_` and `-`, at most 256 characters.
const TAG = /^[A-Za-z0-9_-]{1,256}$/;
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
const asList = (v: unknown) => (Array.isArray(v) ? v : [v]);

/** Validates one email like Resend's SendEmailRequest; returns the error Resend would answer, or null. */
export function validateEmail(e: unknown, batch: boolean): (Omit<ApiError, "statusCode"> & { statusCode: 422 }) | null {
  const fail = (name: string, message: string) => ({ statusCode: 422 as const, name, message });
  if (!isObject(e)) return fail("validation_error", "Each email must be a JSON object.");
  for (const field of ["from", "to", "subject"])
    if (e[field] === undefined || e[field] === null)
      return fail("missing_required_field", `Missing \`${field}\` field.`);
  if (!isAddress(e.from))
    return fail(
      "validation_error",
      "Invalid `from` field. The email address needs to follow the `email@example.com` or `Name <email@example.com>` format.",
    );
  for (const field of ["to", "cc", "bcc", "reply_to"]) {
    if (e[field] === undefined) continue;
    const list = asList(e[field]);
    if (list.length < 1 || list.length > 50)
      return fail("validation_error", `\`${field}\` must contain between 1 and 50 addresses.`);
    if (!list.every(isAddress))
      return fail(
        "validation_error",
        `Invalid \`${field}\` field. The email address needs to follow the \`email@example.com\` or \`Name <email@example.com>\` format.`,
      );
  }
  if (typeof e.subject !== "string") return fail("validation_error", "`subject` must be a string.");
  for (const field of ["html", "text"])
    if (e[field] !== undefined && typeof e[field] !== "string")
      return fail("validation_error", `\`${field}\` must be a string.`);
  if (e.html === undefined && e.text === undefined && e.template === undefined)
    return fail("validation_error", "Missing `html` or `text` field.");
  if (e.headers !== undefined && !(isObject(e.headers) && Object.values(e.headers).every((v) => typeof v === "string")))
    return fail("validation_error", "`headers` must be an object of string values.");
  if (e.tags !== undefined) {
    if (!Array.isArray(e.tags)) return fail("validation_error", "`tags` must be an array.");
    for (const t of e.tags)
      if (
        !isObject(t) ||
        typeof t.name !== "string" ||
        !TAG.test(t.name) ||
        typeof t.value !== "string" ||
        !TAG.test(t.value)
      )
        return fail(
          "validation_error",
          "Tags should only contain ASCII letters (a–z, A–Z), numbers (0–9), underscores (_), or dashes (-), and at most 256 characters.",
        );
  }
  // The batch endpoint does not support attachments or scheduling.
  if (batch && e.attachments !== undefined)
    return fail("validation_error", "`attachments` is not supported on the batch endpoint.");
  if (batch && e.scheduled_at !== undefined)
    return fail("validation_error", "`scheduled_at` is not supported on the batch endpoint.");
  return null;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function createResendEmulator(initial: Partial<EmulatorConfig> = {}) {
  let defaults: EmulatorConfig = { ...defaultConfig(), ...initial };
  const teams = new Map<string, Team>();
  const team = (key: string) => teams.get(key) ?? teams.set(key, newTeam(defaults)).get(key)!;
  const bearer = (c: Context) =>
    c.req
      .header("authorization")
      ?.match(/^Bearer\s+(.+)$/i)?.[1]
      ?.trim() ?? null;
  /** The teams a control call acts on: the one named by its key, or all. */
  const scope = (c: Context) => {
    const key = bearer(c) ?? c.req.query("key");
    return key ? [team(key)] : [...teams.values()];
  };

  const app = new Hono();

  async function handleSend(c: Context, batch: boolean) {
    const path = batch ? "/emails/batch" : "/emails";
    const key = bearer(c);
    const idemKey = c.req.header("idempotency-key") ?? null;
    const arrived = Date.now();
    const extra: Record<string, string> = {};
    const answer = (t: Team | null, status: number, body: unknown, name?: string) => {
      if (t) {
        t.stats.byStatus[status] = (t.stats.byStatus[status] ?? 0) + 1;
        if (status === 429) t.stats.rateLimited++;
        if (status >= 500) t.stats.serverErrors++;
        const retryAfter = extra["retry-after"] ? Number(extra["retry-after"]) : undefined;
        t.log.push({ path, status, name, idempotencyKey: idemKey, retryAfter, arrived, at: Date.now() });
      }
      return c.json(body as object, status as 200, extra);
    };
    const error = (t: Team | null, status: number, name: string, message: string) =>
      answer(t, status, { statusCode: status, message, name }, name);

    // Authorization: Bearer re_… — missing → 401 missing_api_key; not a Resend key → 403 invalid_api_key.
    if (!c.req.header("authorization") || !key)
      return error(null, 401, "missing_api_key", "Missing API key in the authorization header.");
    if (!key.startsWith("re_")) return error(null, 403, "invalid_api_key", "API key is invalid.");
    const t = team(key);
    t.stats.requests++;
    if (idemKey !== null) {
      t.stats.byIdempotencyKey[idemKey] ??= { requests: 0, accepted: 0 };
      t.stats.byIdempotencyKey[idemKey].requests++;
    }
    // Injected faults come first; they store nothing unless they strike `after` processing.
    let lostAnswer: { status: number; name?: string; message?: string } | null = null;
    const fault = t.config.faults[0];
    if (fault && "status" in fault && fault.after) {
      if (fault.times && fault.times > 1) fault.times--;
      else t.config.faults.shift();
      lostAnswer = fault;
    } else if (fault) {
      if (fault.times && fault.times > 1) fault.times--;
      else t.config.faults.shift();
      if ("abort" in fault) {
        t.stats.aborted++;
        t.log.push({ path, status: 0, name: "aborted", idempotencyKey: idemKey, arrived, at: Date.now() });
        const env = c.env as { incoming?: { socket?: { destroy(): void } } } | undefined;
        if (env?.incoming?.socket) {
          env.incoming.socket.destroy();
          return RESPONSE_ALREADY_SENT;
        }
        // Not served over a socket (app.request): a body that errors is the closest thing.
        return new Response(new ReadableStream({ start: (ctl) => ctl.error(new Error("connection reset")) }), {
          status: 200,
        });
      }
      if (fault.retryAfter !== undefined) extra["retry-after"] = String(fault.retryAfter);
      const name = fault.name ?? DEFAULT_NAMES[fault.status] ?? "application_error";
      return error(t, fault.status, name, fault.message ?? `Injected fault: ${name}.`);
    }
    if (t.rng && t.config.random && !lostAnswer) {
      const r = t.rng();
      if (r < t.config.random.p429) {
        extra["retry-after"] = "1";
        return error(t, 429, "rate_limit_exceeded", "Too many requests. You can only make 2 requests per second.");
      }
      if (r < t.config.random.p429 + t.config.random.p500)
        return error(t, 500, "internal_server_error", "An unexpected error occurred.");
      if (r < t.config.random.p429 + t.config.random.p500 + (t.config.random.p500After ?? 0))
        lostAnswer = { status: 500 };
    }

    // Rate limit per team, fixed window. Rejected requests do not count; every answer carries ratelimit-*.
    const rl = t.config.rateLimit;
    if (rl) {
      const windowMs = (rl.windowSec ?? 1) * 1000;
      const now = Date.now();
      if (now - t.window.start >= windowMs) t.window = { start: now, count: 0 };
      const reset = String(Math.max(1, Math.ceil((t.window.start + windowMs - now) / 1000)));
      Object.assign(extra, { "ratelimit-limit": String(rl.requests), "ratelimit-reset": reset });
      if (t.window.count >= rl.requests) {
        Object.assign(extra, { "ratelimit-remaining": "0", "retry-after": reset });
        return error(
          t,
          429,
          "rate_limit_exceeded",
          `Too many requests. You can only make ${rl.requests} requests per ${rl.windowSec ?? 1} second(s).`,
        );
      }
      t.window.count++;
      extra["ratelimit-remaining"] = String(rl.requests - t.window.count);
    }

    // Idempotency-Key: 1–256 characters.
    if (idemKey !== null && (idemKey.length < 1 || idemKey.length > 256))
      return error(t, 400, "invalid_idempotency_key", "The key must be between 1-256 chars.");
    const raw = await c.req.text();
    const digest = [...new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(raw)))]
      .map((b) => b.toString(16).padStart(2, "0"))
      .join("");
    let idem: IdemRecord | undefined;
    if (idemKey !== null) {
      const prev = t.idem.get(idemKey);
      if (prev && Date.now() - prev.at > IDEMPOTENCY_TTL_MS) t.idem.delete(idemKey);
      else if (prev) {
        // Same key + different request → 409; same key while the first is in flight → 409; else replay, sending nothing.
        if (prev.path !== path || prev.body !== digest)
          return error(
            t,
            409,
            "invalid_idempotent_request",
            "Same idempotency key used with a different request payload.",
          );
        if (prev.state === "in_flight")
          return error(
            t,
            409,
            "concurrent_idempotent_requests",
            "Same idempotency key used while original request is still in progress.",
          );
        t.stats.replays++;
        return answer(t, prev.status!, prev.response);
      }
      idem = { path, body: digest, state: "in_flight", at: Date.now() };
      t.idem.set(idemKey, idem);
    }
    // Only successful sends keep the key: a request that failed may be retried with the same key.
    const release = () => idemKey !== null && t.idem.get(idemKey) === idem && t.idem.delete(idemKey);

    t.stats.inFlight++;
    try {
      // Processing time: the request is in flight (for idempotency) while it waits.
      if (t.config.latencyMs > 0) await sleep(t.config.latencyMs);
      if (t.config.hold) await new Promise<void>((r) => t.held.push(r));
      let body: unknown;
      try {
        body = JSON.parse(raw);
      } catch {
        release();
        return error(t, 422, "validation_error", "The request body is not valid JSON.");
      }
      const items = batch ? body : [body];
      if (!Array.isArray(items) || items.length < 1 || items.length > 100) {
        release();
        return error(t, 422, "validation_error", "The batch must be an array of 1 to 100 emails.");
      }
      // x-batch-validation: strict (default) fails the whole batch on one invalid email; permissive sends the valid
      // ones and lists the others under `errors` with their index.
      const mode = batch ? (c.req.header("x-batch-validation") ?? "strict").toLowerCase() : "strict";
      if (mode !== "strict" && mode !== "permissive") {
        release();
        return error(t, 422, "validation_error", "The x-batch-validation header must be strict or permissive.");
      }
      const errors: { index: number; message: string }[] = [];
      const valid: Record<string, unknown>[] = [];
      for (const [i, e] of items.entries()) {
        const invalid = validateEmail(e, batch);
        if (invalid && mode === "permissive") errors.push({ index: i, message: invalid.message });
        else if (invalid) {
          release();
          return error(
            t,
            invalid.statusCode,
            invalid.name,
            batch ? `emails[${i}]: ${invalid.message}` : invalid.message,
          );
        } else valid.push(e as Record<string, unknown>);
      }
      if (t.config.dailyQuota !== null && t.stats.acceptedEmails + valid.length > t.config.dailyQuota) {
        release();
        return error(t, 429, "daily_quota_exceeded", "You have reached your daily email sending quota.");
      }

      const batchId = batch ? crypto.randomUUID() : null;
      const stored = valid.map((e): StoredEmail => {
        const list = (v: unknown) => (v === undefined ? undefined : (asList(v) as string[]));
        return {
          id: crypto.randomUUID(),
          batchId,
          idempotencyKey: idemKey,
          from: e.from as string,
          to: list(e.to)!,
          cc: list(e.cc),
          bcc: list(e.bcc),
          reply_to: list(e.reply_to),
          subject: e.subject as string,
          html: t.config.keepBodies ? (e.html as string | undefined) : undefined,
          text: t.config.keepBodies ? (e.text as string | undefined) : undefined,
          headers: (e.headers as Record<string, string>) ?? {},
          tags: (e.tags as StoredEmail["tags"]) ?? [],
          scheduled_at: e.scheduled_at as string | undefined,
          createdAt: new Date().toISOString(),
        };
      });
      if (!t.config.countOnly) t.emails.push(...stored);
      for (const s of stored) for (const to of s.to) t.perRecipient.set(to, (t.perRecipient.get(to) ?? 0) + 1);
      t.stats.acceptedRequests++;
      t.stats.acceptedEmails += stored.length;
      if (idemKey !== null) t.stats.byIdempotencyKey[idemKey]!.accepted += stored.length;
      const ids = stored.map((s) => ({ id: s.id }));
      const response = batch ? (mode === "permissive" ? { data: ids, errors } : { data: ids }) : { id: stored[0]!.id };
      if (idem) Object.assign(idem, { state: "done", status: 200, response });
      // Sent, but the answer is lost on the way back: the caller sees an error.
      if (lostAnswer)
        return error(
          t,
          lostAnswer.status,
          lostAnswer.name ?? DEFAULT_NAMES[lostAnswer.status] ?? "application_error",
          lostAnswer.message ?? "An unexpected error occurred.",
        );
      return answer(t, 200, response);
    } finally {
      t.stats.inFlight--;
    }
  }

  app.post("/emails", (c) => handleSend(c, false));
  app.post("/emails/batch", (c) => handleSend(c, true));

  // ---- Controls for tests (not part of Resend) ----
  app.get("/_emulator/emails", (c) => {
    const to = c.req.query("to");
    const emails = scope(c).flatMap((t) => t.emails);
    return c.json({ data: to ? emails.filter((e) => e.to.includes(to)) : emails });
  });
  app.get("/_emulator/requests", (c) => c.json({ data: scope(c).flatMap((t) => t.log) }));
  /** Per-recipient summary (kept even in countOnly mode): how many recipients, how many got more than one email. */
  app.get("/_emulator/delivery", (c) => {
    let recipients = 0;
    let emails = 0;
    let duplicated = 0;
    for (const t of scope(c))
      for (const n of t.perRecipient.values()) {
        recipients++;
        emails += n;
        if (n > 1) duplicated++;
      }
    return c.json({ recipients, emails, duplicated });
  });
  app.get("/_emulator/stats", (c) => {
    const all = scope(c).map((t) => t.stats);
    if (all.length === 1) return c.json(all[0]);
    const sum = newTeam(defaults).stats;
    for (const s of all)
      for (const k of [
        "requests",
        "acceptedRequests",
        "acceptedEmails",
        "replays",
        "rateLimited",
        "serverErrors",
        "aborted",
        "inFlight",
      ] as const)
        sum[k] += s[k];
    return c.json(sum);
  });
  app.post("/_emulator/reset", (c) => {
    const key = bearer(c) ?? c.req.query("key");
    if (key) {
      for (const release of teams.get(key)?.held ?? []) release();
      teams.set(key, newTeam(defaults));
    } else {
      for (const t of teams.values()) for (const release of t.held) release();
      teams.clear();
    }
    return c.json({ ok: true });
  });
  app.post("/_emulator/config", async (c) => {
    const patch = (await c.req.json()) as Partial<EmulatorConfig>;
    const key = bearer(c) ?? c.req.query("key");
    const apply = (t: Team) => {
      t.config = { ...t.config, ...structuredClone(patch) };
      if ("random" in patch) t.rng = patch.random ? mulberry32(patch.random.seed) : null;
      if (patch.hold === false) for (const release of t.held.splice(0)) release();
    };
    if (key) apply(team(key));
    else {
      defaults = { ...defaults, ...structuredClone(patch) };
      teams.forEach(apply);
    }
    return c.json(key ? team(key).config : defaults);
  });
  app.post("/_emulator/release", (c) => {
    let released = 0;
    for (const t of scope(c)) released += t.held.splice(0).map((r) => r()).length;
    return c.json({ released });
  });
  app.notFound((c) => c.json({ statusCode: 404, message: "Not found.", name: "not_found" }, 404));
  return app;
}
