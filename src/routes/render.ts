import type { Context } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { type Html, page } from "../../templates/page";
import { noStore } from "../lib/headers";
import type { AppEnv } from "../lib/http";

/** Renders a full HTML page with the response's CSP nonce (from any route, whatever its middleware adds to AppEnv). */
export function render<E extends AppEnv>(
  c: Context<E>,
  title: string,
  body: Html,
  opts: { status?: ContentfulStatusCode; framed?: boolean; head?: Html } = {},
) {
  const cfg = c.get("cfg");
  noStore(c);
  return c.html(
    page({
      title,
      body,
      head: opts.head,
      framed: opts.framed,
      wide: c.get("wide") === true,
      nonce: c.get("secureHeadersNonce") ?? "",
      siteName: cfg.newsletterName,
    }),
    opts.status ?? 200,
  );
}
