/**
 * The operator's dashboard (issue 12), sign-in and overview: the session cookie (its attributes; tampered, expired,
 * signed with an old secret or for a rotated admin token: refused), the admin token compared on a form with a limit
 * against guessing, cross-site posts refused, sign-out, and the overview's figures. The bearer API stays as it was.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { tripBreaker } from "../../src/digest/issues";
import { keyedHash, signToken } from "../../src/lib/tokens";
import { SESSION_COOKIE, SESSION_TTL_MS } from "../../src/routes/session";
import { importActive } from "../support/admin";
import { BASE, call, fetchWith, freshIp } from "../support/helpers";

const TOKEN = env.ADMIN_TOKEN!;
const FORM = { "content-type": "application/x-www-form-urlencoded", origin: BASE };

const signIn = (token: string, headers: Record<string, string> = {}, ip = freshIp()) =>
  call("/admin/sign-in", {
    method: "POST",
    headers: { ...FORM, ...headers },
    body: new URLSearchParams({ token }).toString(),
    redirect: "manual",
    ip,
  });

/** The session cookie a sign-in set, as a Cookie header value. */
async function session() {
  const res = await signIn(TOKEN);
  expect(res.status).toBe(303);
  const cookie = res.headers.get("set-cookie")!;
  return cookie.split(";")[0]!;
}

const overview = (cookie?: string) => call("/admin", { headers: cookie ? { cookie } : {}, redirect: "manual" });

/** A session token signed as the Worker does, with chosen times, secret and admin token. */
const forged = async (o: { iat?: number; exp?: number; secret?: string; admin?: string } = {}) => {
  const secret = o.secret ?? env.TOKEN_SECRET!;
  const iat = o.iat ?? Date.now();
  const key = await keyedHash(secret, "admin-session", o.admin ?? TOKEN);
  return `${SESSION_COOKIE}=${await signToken(secret, "admin", { sub: 0, iat, exp: o.exp ?? iat + SESSION_TTL_MS }, key)}`;
};

describe("dashboard sign-in", () => {
  it("GET /admin without a session sends the operator to the sign-in form, which has a password field", async () => {
    const res = await overview();
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toBe(`${BASE}/admin/sign-in`);
    const form = await call("/admin/sign-in");
    expect(form.status).toBe(200);
    const page = await form.text();
    expect(page).toContain('<input id="token" name="token" type="password"');
    expect(form.headers.get("content-security-policy")).toContain("frame-ancestors 'none'");
    expect(form.headers.get("cache-control")).toContain("no-store");
  });

  it("the right token sets an HttpOnly, SameSite=Strict session cookie for /admin, valid 12 hours", async () => {
    const res = await signIn(TOKEN);
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toBe(`${BASE}/admin`);
    const cookie = res.headers.get("set-cookie")!;
    expect(cookie).toMatch(new RegExp(`^${SESSION_COOKIE}=[\\w-]+\\.[\\w-]+;`));
    expect(cookie).toContain("Max-Age=43200");
    expect(cookie).toContain("Path=/admin");
    expect(cookie).toContain("HttpOnly");
    expect(cookie).toContain("SameSite=Strict");
    // Local development (plain http on 127.0.0.1): not Secure, or the browser would drop it.
    expect(cookie).not.toContain("Secure");
    const page = await overview(cookie.split(";")[0]);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain("overview</h1>");
  });

  it("a deployed Worker's cookie is Secure", async () => {
    const site = "https://news.example.org";
    const res = await fetchWith(
      { LOCAL_DEV: "", PUBLIC_URL: site, RESEND_API_KEY: "re_123456789" } as Partial<Env>,
      new Request(`${site}/admin/sign-in`, {
        method: "POST",
        headers: { ...FORM, origin: site, "cf-connecting-ip": freshIp() },
        body: new URLSearchParams({ token: TOKEN }).toString(),
        redirect: "manual",
      }),
    );
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toBe(`${site}/admin`);
    expect(res.headers.get("set-cookie")).toMatch(/; Secure/);
  });

  it("a wrong token is refused with the form again, no cookie, and after 5 tries a minute the network is limited", async () => {
    // A network of its own (files run in parallel and share the limiter; freshIp() counts per file).
    const ip = `2001:db8:${Array.from(crypto.getRandomValues(new Uint16Array(3)), (n) => n.toString(16)).join(":")}::1`;
    for (const wrong of ["", "x", `${TOKEN}x`, TOKEN.slice(0, -1), TOKEN.toUpperCase()]) {
      const res = await signIn(wrong, {}, ip);
      expect(res.status, JSON.stringify(wrong)).toBe(401);
      expect(res.headers.get("set-cookie")).toBeNull();
      expect(await res.text()).toContain("That is not the admin token.");
    }
    const limited = await signIn(TOKEN, {}, ip);
    expect(limited.status).toBe(429);
    expect(limited.headers.get("retry-after")).toBe("60");
    expect(limited.headers.get("set-cookie")).toBeNull();
  });

  it("a cross-site sign-in or sign-out post is refused", async () => {
    for (const headers of [
      { origin: "https://evil.example" },
      { origin: "null" },
      { "sec-fetch-site": "cross-site", origin: "https://evil.example" },
    ] as Record<string, string>[]) {
      const res = await signIn(TOKEN, headers);
      expect(res.status, JSON.stringify(headers)).toBe(403);
      expect(res.headers.get("set-cookie")).toBeNull();
    }
    const cookie = await session();
    const out = await call("/admin/sign-out", {
      method: "POST",
      headers: { ...FORM, origin: "https://evil.example", cookie },
      redirect: "manual",
    });
    expect(out.status).toBe(403);
  });

  it("a tampered, expired, old-secret or rotated-token session is refused", async () => {
    const good = await session();
    const [name, value] = good.split("=") as [string, string];
    const tampered = `${name}=${value.slice(0, -2)}${value.at(-2) === "A" ? "B" : "A"}${value.at(-1)}`;
    const cases = {
      tampered,
      "another purpose's token": `${name}=${await signToken(env.TOKEN_SECRET!, "manage", { sub: 0, iat: Date.now(), exp: Date.now() + 60_000 }, await keyedHash(env.TOKEN_SECRET!, "admin-session", TOKEN))}`,
      expired: await forged({ iat: Date.now() - SESSION_TTL_MS - 1000 }),
      "signed with an old TOKEN_SECRET": await forged({ secret: "an-old-token-secret-0123456789abcdef0123" }),
      "from before the admin token was rotated": await forged({ admin: "the-previous-admin-token-0123" }),
      "never expiring (exp 0, which email links may use)": await forged({ exp: 0 }),
      junk: `${name}=${"A".repeat(5000)}`,
    };
    expect((await overview(await forged())).status).toBe(200);
    for (const [what, cookie] of Object.entries(cases)) {
      const res = await overview(cookie);
      expect(res.status, what).toBe(303);
      expect(res.headers.get("location"), what).toBe(`${BASE}/admin/sign-in`);
    }
  });

  it("sign-out clears the cookie", async () => {
    const cookie = await session();
    const res = await call("/admin/sign-out", { method: "POST", headers: { ...FORM, cookie }, redirect: "manual" });
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toBe(`${BASE}/admin/sign-in`);
    const cleared = res.headers.get("set-cookie")!;
    expect(cleared).toMatch(new RegExp(`^${SESSION_COOKIE}=;`));
    expect(cleared).toContain("Max-Age=0");
  });

  it("a session opens no bearer API, and the API is unchanged", async () => {
    const cookie = await session();
    expect((await call("/admin/stats", { headers: { cookie } })).status).toBe(401);
    expect((await call("/admin/stats", { headers: { authorization: `Bearer ${TOKEN}` } })).status).toBe(200);
    // The API's JSON keeps its own headers (not the dashboard's page policy).
    const api = await call("/admin/stats", { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(api.headers.get("content-type")).toContain("application/json");
  });

  it("without ADMIN_TOKEN the dashboard does not exist", async () => {
    for (const req of [
      new Request(`${BASE}/admin`),
      new Request(`${BASE}/admin/sign-in`),
      new Request(`${BASE}/admin/sign-in`, { method: "POST", headers: FORM, body: "token=x" }),
    ])
      expect((await fetchWith({ ADMIN_TOKEN: "" } as Partial<Env>, req)).status).toBe(404);
  });
});

describe("dashboard overview", () => {
  it("shows subscribers by status and cadence, the suppression list's size and the latest issues", async () => {
    const emails = ["dash-a@example.com", "dash-b@example.com"];
    await importActive(...emails);
    await env.DB.prepare("UPDATE subscribers SET cadence = 'daily' WHERE email = ?").bind(emails[1]).run();
    const counts = await env.DB.prepare(
      "SELECT (SELECT count(*) FROM subscribers WHERE status = 'active') AS active, (SELECT count(*) FROM subscribers WHERE status = 'active' AND cadence = 'daily') AS daily, (SELECT count(*) FROM suppressions) AS supp",
    ).first<{ active: number; daily: number; supp: number }>();
    const page = await (await overview(await session())).text();
    const row = page.match(/<tbody><tr>((?:<td class="n">\d+<\/td>){7})<\/tr><\/tbody>/);
    expect(row, page.slice(0, 2000)).not.toBeNull();
    const cells = [...row![1]!.matchAll(/>(\d+)</g)].map((m) => Number(m[1]));
    expect(cells[0]).toBe(counts!.active);
    expect(cells[1]).toBe(counts!.active - counts!.daily);
    expect(cells[2]).toBe(counts!.daily);
    expect(cells[6]).toBe(counts!.supp);
    expect(page).toContain("Sign out");
  });

  it("charts 26 weeks of signups, confirmations and unsubscribes, with the data table, in a page under 60 KB", async () => {
    await importActive("dash-growth@example.com");
    const res = await overview(await session());
    const page = await res.text();
    expect(new TextEncoder().encode(page).byteLength).toBeLessThan(60 * 1024);
    expect(page).toContain('<svg role="img" aria-labelledby="growth-title growth-desc"');
    expect(page).toContain("Signups, confirmations and unsubscribes per week, last 26 weeks");
    const table = page.slice(page.indexOf("<details>"), page.indexOf("</details>"));
    const rows = [
      ...table.matchAll(/<tr><th scope="row">(\d{4}-W\d{2})<\/th><td>(\d+)<\/td><td>(\d+)<\/td><td>(\d+)<\/td><\/tr>/g),
    ];
    expect(rows).toHaveLength(26);
    // The import this test just made counts in this week's signups and confirmations.
    const thisWeek = rows.at(-1)!;
    expect(Number(thisWeek[2])).toBeGreaterThanOrEqual(1);
    expect(Number(thisWeek[3])).toBeGreaterThanOrEqual(1);
  });

  it("lists a paused issue under Needs attention, with its reason, escaped", async () => {
    await env.DB.prepare(
      "INSERT INTO issues (week, cadence, status, subject, papers, started_at, paused_reason) VALUES ('2020-W01', 'weekly', 'paused', 's', '[]', ?, ?)",
    )
      .bind(Date.now(), "<b>complaint rate</b> 0.5 %")
      .run();
    const page = await (await overview(await session())).text();
    expect(page).toContain("2020-W01 is paused: &lt;b&gt;complaint rate&lt;/b&gt; 0.5 %.");
    expect(page).not.toContain("<b>complaint");
  });

  it("shows each latest issue's complaint breaker: not armed, closed with its rate, tripped", async () => {
    const insert = (week: string, delivered: number, complained: number) =>
      env.DB.prepare(
        "INSERT INTO issues (week, cadence, status, subject, papers, started_at, delivered, complained) VALUES (?, 'weekly', 'sending', 's', '[]', ?, ?, ?)",
      )
        .bind(week, Date.now(), delivered, complained)
        .run();
    await insert("2020-W02", 10, 1);
    await insert("2020-W03", 2000, 1);
    await insert("2020-W04", 1000, 2);
    // The breaker itself pauses 2020-W04, as a complaint webhook would (1000 delivered is the configured minimum).
    expect((await tripBreaker(env.DB, "2020-W04", 1000, `msg_breaker_${Date.now()}`).run()).meta.changes).toBe(1);
    const page = await (await overview(await session())).text();
    const cellOf = (week: string) => {
      const tr = page.split("<tr>").find((r) => r.includes(`>${week}</a>`));
      expect(tr, week).toBeDefined();
      return tr!
        .replace(/<[^>]+>/g, "|")
        .split("|")
        .map((s) => s.trim())
        .filter(Boolean)
        .at(-1);
    };
    expect(cellOf("2020-W02")).toBe("not armed (10 of 1000 delivered)");
    expect(cellOf("2020-W03")).toBe("closed (0.05 % of 0.1 %)");
    expect(cellOf("2020-W04")).toBe("tripped");
    expect(page).toContain("2020-W04 is paused: complaint rate 0.20% (2 of 1000 delivered) is over 0.1%.");
  });
});
