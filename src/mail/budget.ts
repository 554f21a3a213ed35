import { DurableObject } from "cloudflare:workers";
import type { Answer, BudgetState, Grant, Lane, QuotaCode, QuotaPause } from "./budget-types";
import { isQuotaCode, LANES } from "./budget-types";
import { resumeParkedMail } from "./parked";

/*
 * One rate budget for every call to Resend, from every queue consumer, isolate and admin action: Resend's limit is
 * per team, so it is held by one Durable Object (one instance, single-threaded) that grants send slots.
 *
 * - A caller asks for a slot in its lane (`mail` for transactional email, `digest` for issues), calls Resend, and
 *   reports the answer. When both lanes wait, grants alternate, so transactional mail goes first but a running
 *   digest always gets at least half of the calls, and neither starves.
 * - At most ⌊rate⌋ calls per window of ⌊rate⌋/rate seconds, a call counting from its grant until a window after its
 *   answer. Anchoring on answers means arrival jitter can never put more calls into one of Resend's windows than
 *   the limit allows.
 * - The rate starts at RESEND_MAX_RPS and then follows Resend: `ratelimit-limit` sets it, `ratelimit-remaining: 0`
 *   blocks until `ratelimit-reset`, a 429's `retry-after` blocks everyone.
 * - A daily or monthly quota error pauses all sending (callers park their work instead of retrying it) until a
 *   probe: one call is let through after `retry-after` (or an hour for the daily quota, six for the monthly one);
 *   the alarm re-queues parked work at that time. An operator can resume at once.
 */

export * from "./budget-types";

/** A lease not given back by then (its caller crashed) counts as answered. */
const LEASE_MS = 60_000;
/** Longest a caller waits for a slot; then it is told to come back later (a queue retry with a delay). */
export const MAX_WAIT_MS = 20_000;
const QUOTA_PROBE_MS: Record<QuotaCode, number> = {
  daily_quota_exceeded: 3_600_000,
  monthly_quota_exceeded: 6 * 3_600_000,
};

interface Waiter {
  lane: Lane;
  deadline: number;
  resolve: (g: Grant) => void;
}
interface Saved {
  rate: number | null;
  learned: boolean;
  blockedUntil: number;
  quota: QuotaPause | null;
}

export class SendBudget extends DurableObject<Env> {
  private rate: number | null = null;
  private learned = false;
  private blockedUntil = 0;
  private quota: QuotaPause | null = null;
  private inFlight = new Map<string, { lane: Lane; at: number; probe: boolean }>();
  private answered: number[] = [];
  private waiting: Record<Lane, Waiter[]> = { mail: [], digest: [] };
  private lastLane: Lane = "digest";
  private timer: ReturnType<typeof setTimeout> | undefined;
  private wakeAt = Infinity;
  private granted: Record<Lane, number> = { mail: 0, digest: 0 };
  private answers = 0;
  private rateLimited = 0;
  private callMs: number | null = null;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    void ctx.blockConcurrencyWhile(async () => {
      const saved = await ctx.storage.get<Saved>("budget");
      if (saved) Object.assign(this, saved);
    });
  }

  /**
   * Waits for a slot in `lane` (at most MAX_WAIT_MS). `startRps` is RESEND_MAX_RPS: the rate used until Resend
   * states its own limit (0 = no ceiling).
   */
  async acquire(lane: Lane, startRps: number): Promise<Grant> {
    if (!this.learned) this.rate = startRps > 0 ? startRps : null;
    const now = Date.now();
    const paused = this.quotaRefusal(now);
    if (paused) return paused;
    return new Promise<Grant>((resolve) => {
      this.waiting[lane].push({ lane, deadline: now + MAX_WAIT_MS, resolve });
      this.pump();
    });
  }

  /** Gives the slot back with what Resend answered. */
  async release(lease: string, answer: Answer): Promise<void> {
    const now = Date.now();
    const entry = this.inFlight.get(lease);
    this.inFlight.delete(lease);
    if (answer.unused) return this.pump();
    this.answered.push(now);
    this.answers++;
    if (entry)
      this.callMs = this.callMs === null ? now - entry.at : Math.round(0.8 * this.callMs + 0.2 * (now - entry.at));
    const before = JSON.stringify(this.saved());
    if (answer.limit !== undefined && Number.isFinite(answer.limit) && answer.limit > 0) {
      this.rate = answer.limit;
      this.learned = true;
    }
    if (answer.remaining === 0 && answer.resetSec !== undefined) this.block(now + answer.resetSec * 1000);
    if (answer.status === 429 && !isQuotaCode(answer.code)) {
      this.rateLimited++;
      this.block(now + (answer.retryAfterSec ?? 1) * 1000);
    }
    if (isQuotaCode(answer.code)) {
      const wait =
        answer.retryAfterSec !== undefined && answer.retryAfterSec > 0
          ? answer.retryAfterSec * 1000
          : QUOTA_PROBE_MS[answer.code];
      this.quota = { code: answer.code, since: this.quota?.since ?? now, until: now + wait };
      await this.ctx.storage.setAlarm(this.quota.until);
      for (const lane of LANES) for (const w of this.waiting[lane].splice(0)) w.resolve(this.quotaRefusal(now)!);
    } else if (answer.ok && this.quota && (entry?.probe || now >= this.quota.until)) {
      this.quota = null; // the probe went through: the quota is back
      await this.ctx.storage.deleteAlarm();
    }
    if (JSON.stringify(this.saved()) !== before) await this.ctx.storage.put("budget", this.saved());
    this.pump();
  }

  /** Operator action: forget a quota pause and any block now, and re-queue what waited for them. */
  async resume(): Promise<BudgetState> {
    this.quota = null;
    this.blockedUntil = 0;
    await this.ctx.storage.put("budget", this.saved());
    await this.ctx.storage.deleteAlarm();
    await this.resumeParked();
    this.pump();
    return this.state();
  }

  /** Forgets the learned rate (it is learned again from the next answer). For tests and for an operator's reset. */
  async reset(): Promise<BudgetState> {
    this.rate = null;
    this.learned = false;
    this.blockedUntil = 0;
    this.quota = null;
    this.answered = [];
    this.granted = { mail: 0, digest: 0 };
    this.answers = this.rateLimited = 0;
    this.callMs = null;
    await this.ctx.storage.deleteAll();
    return this.state();
  }

  async state(): Promise<BudgetState> {
    const iso = (t: number) => new Date(t).toISOString();
    const now = Date.now();
    return {
      rate: this.rate,
      rateSource: this.learned ? "resend" : "config",
      blockedUntil: this.blockedUntil > now ? iso(this.blockedUntil) : null,
      quota: this.quota
        ? { code: this.quota.code, since: iso(this.quota.since), nextProbe: iso(this.quota.until) }
        : null,
      inFlight: this.inFlight.size,
      waiting: { mail: this.waiting.mail.length, digest: this.waiting.digest.length },
      granted: { ...this.granted },
      answers: this.answers,
      rateLimited: this.rateLimited,
      callMs: this.callMs,
    };
  }

  /** The quota's probe time has come: re-queue the work that waited for it; the first call is the probe. */
  override async alarm(): Promise<void> {
    if (this.quota) await this.resumeParked();
  }

  /** Re-queues the work parked for the quota. The Worker's entry extends this with the issues (src/index.ts). */
  protected async resumeParked(): Promise<void> {
    await resumeParkedMail(this.env);
  }

  private saved(): Saved {
    return { rate: this.rate, learned: this.learned, blockedUntil: this.blockedUntil, quota: this.quota };
  }

  private block(until: number) {
    this.blockedUntil = Math.max(this.blockedUntil, until);
  }

  /** While the quota is exhausted, every caller but one probe after `until` is told to park its work. */
  private quotaRefusal(now: number): Grant | null {
    if (!this.quota) return null;
    if (now >= this.quota.until && ![...this.inFlight.values()].some((f) => f.probe)) return null;
    return {
      ok: false,
      reason: "quota",
      retryInSec: Math.max(1, Math.ceil((this.quota.until - now) / 1000)),
      quota: this.quota,
    };
  }

  /** When the next call may start (now, or later); Infinity while a probe is out. */
  private nextFree(now: number): number {
    for (const [lease, f] of this.inFlight) {
      if (f.at + LEASE_MS <= now) {
        this.inFlight.delete(lease);
        this.answered.push(now);
      }
    }
    if (this.quota)
      return now >= this.quota.until && this.inFlight.size === 0 ? now : Math.max(this.quota.until, now + 1000);
    let at = Math.max(now, this.blockedUntil);
    if (this.rate === null) return at;
    const count = Math.max(1, Math.floor(this.rate));
    const windowMs = (1000 * count) / this.rate;
    this.answered = this.answered.filter((t) => t + windowMs > now);
    if (this.inFlight.size + this.answered.length < count) return at;
    // Full: the next slot frees when the oldest answer leaves the window (or, with all calls in flight, at an answer).
    if (this.answered.length > 0) at = Math.max(at, this.answered[0]! + windowMs);
    else at = Math.max(at, Math.min(...[...this.inFlight.values()].map((f) => f.at + LEASE_MS)));
    return at;
  }

  private pump() {
    const now = Date.now();
    for (;;) {
      // Callers that waited too long are told to come back (their queue message is retried with a delay).
      for (const lane of LANES)
        this.waiting[lane] = this.waiting[lane].filter((w) => {
          if (w.deadline > now) return true;
          w.resolve({ ok: false, reason: "busy", retryInSec: this.backlogSec() });
          return false;
        });
      const lane = this.nextLane();
      if (!lane) break;
      const free = this.nextFree(now);
      if (free > now) {
        this.schedule(Math.min(free, ...LANES.flatMap((l) => this.waiting[l].map((w) => w.deadline))));
        return;
      }
      const waiter = this.waiting[lane].shift()!;
      const lease = crypto.randomUUID();
      const probe = this.quota !== null;
      this.inFlight.set(lease, { lane, at: now, probe });
      this.granted[lane]++;
      this.lastLane = lane;
      waiter.resolve({ ok: true, lease });
      if (probe) break;
    }
  }

  /** Both lanes waiting: alternate (mail first after a digest call); otherwise whichever waits. */
  private nextLane(): Lane | null {
    const mail = this.waiting.mail.length > 0;
    const digest = this.waiting.digest.length > 0;
    if (mail && digest) return this.lastLane === "mail" ? "digest" : "mail";
    return mail ? "mail" : digest ? "digest" : null;
  }

  private backlogSec() {
    const queued = this.waiting.mail.length + this.waiting.digest.length + this.inFlight.size;
    return Math.max(1, Math.ceil(queued / (this.rate ?? 10)));
  }

  private schedule(at: number) {
    if (this.timer !== undefined && this.wakeAt <= at) return;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.wakeAt = at;
    this.timer = setTimeout(
      () => {
        this.timer = undefined;
        this.wakeAt = Infinity;
        this.pump();
      },
      Math.max(1, at - Date.now()),
    );
  }
}

/** The deployment's one budget. */
export const sendBudget = (env: Env) => env.SEND_BUDGET.get(env.SEND_BUDGET.idFromName("resend"));
