import { TOPICS } from "../src/papers/topics";
import { DEFAULT_TEXT } from "./pages";

export interface EmbedModel {
  /** Absolute URL of POST /api/subscribe. */
  endpoint: string;
  /** Signed render time for the bot trap. */
  ts: string;
  turnstileSiteKey?: string;
}

/**
 * The embed script. Dropped anywhere as <script src=".../embed.js" async></script>, it renders the form
 * right where the tag stands, inside a shadow root so the host page's CSS cannot reach it (and its own
 * styles, the honeypot's included, cannot leak out). It submits with fetch and reports inline.
 * Options are data- attributes on the script tag: data-title, data-description, data-button,
 * data-placeholder, data-success, data-theme (light | dark | auto), data-accent (a CSS colour), data-topics ("true":
 * topic checkboxes, sent as the signup's topics; off by default), data-cadence ("true": a weekly/daily choice, weekly
 * ticked, sent as the signup's cadence; off by default).
 * The DOM is built with textContent only: attribute text never becomes markup.
 */
export function embedScript(m: EmbedModel): string {
  const config = JSON.stringify({ ...m, text: DEFAULT_TEXT, topics: TOPICS });
  return `/* trending-papers newsletter embed */
(function () {
  "use strict";
  var C = ${config};
  var script = document.currentScript;
  if (!script) {
    var all = document.querySelectorAll('script[src*="/embed.js"]:not([data-papers-ready])');
    script = all[all.length - 1];
  }
  if (!script || script.getAttribute("data-papers-ready")) return;
  script.setAttribute("data-papers-ready", "1");
  var d = script.dataset;
  var text = function (k, fallback) { return d[k] && d[k].trim() ? d[k].trim().slice(0, 300) : fallback; };
  var theme = d.theme === "dark" || d.theme === "light" ? d.theme : "auto";
  var accent = d.accent && window.CSS && CSS.supports("color", d.accent) ? d.accent : "";
  var withTopics = d.topics === "true" || d.topics === "";
  var withCadence = d.cadence === "true" || d.cadence === "";
  var choosing = withTopics || withCadence;

  var host = document.createElement("div");
  host.className = "papers-newsletter-embed";
  script.parentNode.insertBefore(host, script);
  var root = host.attachShadow({ mode: "open" });

  var css = ":host{all:initial;display:block;font:16px/1.5 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;--fg:#111827;--muted:#4b5563;--bg:#fff;--line:#9ca3af;--btn:#111827;--btn-fg:#fff;--ok:#166534;--err:#b91c1c;--ring:#b45309}" +
    ".dark{--fg:#f3f4f6;--muted:#c2c8d0;--bg:#151b26;--line:#4b5563;--btn:#fbbf24;--btn-fg:#111827;--ok:#86efac;--err:#fca5a5;--ring:#fbbf24}" +
    "@media (prefers-color-scheme:dark){.auto{--fg:#f3f4f6;--muted:#c2c8d0;--bg:#151b26;--line:#4b5563;--btn:#fbbf24;--btn-fg:#111827;--ok:#86efac;--err:#fca5a5;--ring:#fbbf24}}" +
    "*{box-sizing:border-box}form{color:var(--fg);background:var(--bg);border:1px solid var(--line);border-radius:12px;padding:1.25rem;max-width:36rem}" +
    "h2{font-size:1.25rem;line-height:1.3;margin:0 0 .25rem}p{margin:.25rem 0 .75rem;color:var(--muted)}" +
    "label{display:block;font-weight:600;margin-bottom:.25rem}.row{display:flex;gap:.5rem;flex-wrap:wrap;align-items:end}.field{flex:1 1 14rem}" +
    "input{width:100%;font:inherit;padding:.6rem .75rem;border:1px solid var(--line);border-radius:8px;background:var(--bg);color:var(--fg)}" +
    "button{font:inherit;font-weight:600;padding:.6rem 1.1rem;border:0;border-radius:8px;background:var(--btn);color:var(--btn-fg);cursor:pointer}" +
    "button[disabled]{opacity:.6;cursor:progress}input:focus-visible,button:focus-visible{outline:3px solid var(--ring);outline-offset:2px}" +
    ".hp{position:absolute!important;left:-10000px!important;width:1px;height:1px;overflow:hidden}" +
    ".status{min-height:1.5em;margin:.5rem 0 0}.status.ok{color:var(--ok)}.status.err{color:var(--err)}" +
    "fieldset{border:1px solid var(--line);border-radius:8px;margin:.75rem 0;padding:.25rem .75rem .75rem;min-width:0}legend{font-weight:600;padding:0 .25rem}" +
    ".choices{display:grid;grid-template-columns:repeat(auto-fill,minmax(13rem,1fr));gap:.25rem .75rem}" +
    ".choices label{display:flex;gap:.5rem;align-items:baseline;font-weight:400;margin:0}.choices input{width:auto;margin:0;padding:0}";
  if (accent) css += "form{--btn:" + accent + ";--ring:" + accent + "}";
  if (root.adoptedStyleSheets !== undefined && typeof CSSStyleSheet === "function") {
    var sheet = new CSSStyleSheet();
    sheet.replaceSync(css);
    root.adoptedStyleSheets = [sheet];
  } else {
    var style = document.createElement("style");
    style.textContent = css;
    root.appendChild(style);
  }

  function el(tag, attrs, children) {
    var e = document.createElement(tag);
    for (var k in attrs) if (attrs[k] !== undefined) e.setAttribute(k, attrs[k]);
    (children || []).forEach(function (c) { e.appendChild(typeof c === "string" ? document.createTextNode(c) : c); });
    return e;
  }

  var input = el("input", { id: "email", name: "email", type: "email", required: "", autocomplete: "email", inputmode: "email", maxlength: "254", placeholder: text("placeholder", "you@example.com"), "aria-describedby": "status" });
  var honeypot = el("input", { id: "website", name: "website", type: "text", tabindex: "-1", autocomplete: "off" });
  var button = el("button", { type: "submit" }, [text("button", C.text.button)]);
  var status = el("p", { id: "status", class: "status", role: "status", "aria-live": "polite" });
  var field = el("div", { class: "field" }, [el("label", { for: "email" }, ["Email address"]), input]);
  // With data-cadence or data-topics, the choices go between the address and the button (the order they are filled in).
  var boxes = withTopics ? C.topics.map(function (t) { return el("input", { type: "checkbox", name: "topics", value: t.id }); }) : [];
  var radios = withCadence ? ["weekly", "daily"].map(function (v) { return el("input", { type: "radio", name: "cadence", value: v, checked: v === "weekly" ? "" : undefined }); }) : [];
  var form = el("form", { class: theme, novalidate: "", "aria-labelledby": "title" }, [
    el("h2", { id: "title" }, [text("title", C.text.heading)]),
    el("p", {}, [text("description", C.text.description)]),
    el("div", { class: "row" }, choosing ? [field] : [field, button]),
  ].concat(withCadence ? [
    el("fieldset", {}, [
      el("legend", {}, [C.text.cadenceLegend]),
      el("div", { class: "choices" }, [
        el("label", {}, [radios[0], " " + C.text.cadenceWeekly]),
        el("label", {}, [radios[1], " " + C.text.cadenceDaily]),
      ]),
    ]),
  ] : []).concat(withTopics ? [
    el("fieldset", {}, [
      el("legend", {}, [C.text.topicsLegend]),
      el("p", {}, [C.text.topicsHint]),
      el("div", { class: "choices" }, boxes.map(function (box, i) { return el("label", {}, [box, " " + C.topics[i].name]); })),
    ]),
  ] : []).concat(choosing ? [button] : []).concat([
    el("div", { class: "hp", "aria-hidden": "true" }, [el("label", { for: "website" }, ["Leave this field empty"]), honeypot]),
    status,
  ]));
  root.appendChild(form);

  var widget = null;
  if (C.turnstileSiteKey) {
    // Turnstile renders into light DOM, shown through a slot: its iframe does not work inside a shadow root.
    var slotHost = el("div", { slot: "turnstile" });
    host.appendChild(slotHost);
    form.insertBefore(el("slot", { name: "turnstile" }), status);
    var render = function () { widget = window.turnstile.render(slotHost, { sitekey: C.turnstileSiteKey }); };
    if (window.turnstile) render();
    else {
      var ts = document.createElement("script");
      ts.src = "https://challenges.cloudflare.com/turnstile/v0/api.js?render=explicit";
      ts.async = true;
      ts.onload = render;
      document.head.appendChild(ts);
    }
  }

  function show(kind, message) {
    status.className = "status " + kind;
    status.setAttribute("role", kind === "err" ? "alert" : "status");
    status.textContent = message;
    if (kind === "err") input.setAttribute("aria-invalid", "true"); else input.removeAttribute("aria-invalid");
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var email = input.value.trim();
    if (!email || email.indexOf("@") < 1) { show("err", "Enter your email address, like name@example.com."); input.focus(); return; }
    var body = { email: email, website: honeypot.value, ts: C.ts };
    if (withCadence) body.cadence = radios[1].checked ? "daily" : "weekly";
    if (withTopics) body.topics = boxes.filter(function (b) { return b.checked; }).map(function (b) { return b.value; });
    if (widget !== null && window.turnstile) body["cf-turnstile-response"] = window.turnstile.getResponse(widget) || "";
    button.disabled = true;
    show("", "Sending…");
    fetch(C.endpoint, { method: "POST", headers: { "Content-Type": "application/json", Accept: "application/json" }, body: JSON.stringify(body) })
      .then(function (res) {
        return res.json().catch(function () { return {}; }).then(function (data) {
          if (res.ok) { show("ok", text("success", C.text.success)); input.value = ""; }
          else show("err", (data && data.error && data.error.message) || "Something went wrong. Please try again.");
        });
      })
      .catch(function () { show("err", "Could not reach the server. Check your connection and try again."); })
      .then(function () { button.disabled = false; if (widget !== null && window.turnstile) window.turnstile.reset(widget); });
  });
})();
`;
}
