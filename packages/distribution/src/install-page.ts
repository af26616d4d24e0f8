import type { InstallTokenSigner } from "@asc-kit/install-token";
import { sha256 } from "./digest.js";
import { installTokenFor } from "./handler.js";
import { installLink } from "./install-link.js";
import { issueLinkToken } from "./signin.js";
import type { DistributionStore } from "./store.js";
import { newestFirst } from "./versions.js";

/** The options of {@link createInstallPageHandler}. */
export interface InstallPageOptions {
  store: DistributionStore;
  signer: InstallTokenSigner;
  /** The app the page installs (its Apple ID). */
  appleItemId: string;
  /** The app's name, for the page's title and heading. */
  appName: string;
  /**
   * The account of the person looking at the page: your website's own session (a cookie, say).
   * `undefined` when nobody is signed in: the button then says so instead of installing.
   */
  account(request: Request): string | undefined | Promise<string | undefined>;
  /** Whether the account may have the app, as the distribution handler's `entitled`. Default: yes. */
  entitled?(account: string, appleItemId: string): boolean | Promise<boolean>;
  /** Where the page is. Default `/install`. */
  path?: string;
}

/**
 * The install page for the registered domain: `GET` is a small page with an install button and
 * no framework; pressing the button `POST`s to the same path (same origin only), which answers a
 * fresh `marketplace-kit://install` link (a new link token, a fresh install verification token,
 * the install recorded for `dtype`), and the page navigates to it in that click's handler. The
 * page never navigates on its own and is never a redirect: the device installs only on a tap,
 * and refuses a link reached through a redirect. Resolves `undefined` for any other path.
 *
 * @example
 * ```ts
 * import { createInstallPageHandler } from "@asc-kit/distribution";
 * import type { DistributionStore } from "@asc-kit/distribution";
 * import type { InstallTokenSigner } from "@asc-kit/install-token";
 *
 * declare const store: DistributionStore;
 * declare const signer: InstallTokenSigner;
 * const page = createInstallPageHandler({
 *   store,
 *   signer,
 *   appleItemId: "6476788026",
 *   appName: "Example",
 *   account: (request) => (request.headers.get("cookie")?.includes("session=") ? "someone" : undefined),
 * });
 * ```
 */
export function createInstallPageHandler(
  options: InstallPageOptions,
): (request: Request) => Promise<Response | undefined> {
  const path = options.path ?? "/install";
  let page: Promise<{ html: string; csp: string }> | undefined;
  return async (request) => {
    const url = new URL(request.url);
    if (url.pathname !== path) return undefined;
    if (request.method === "GET" || request.method === "HEAD") {
      const { html, csp } = await (page ??= pageOf(options.appName));
      return new Response(request.method === "HEAD" ? null : html, {
        headers: {
          "content-type": "text/html; charset=utf-8",
          "content-security-policy": csp,
          "cache-control": "no-store",
          "x-content-type-options": "nosniff",
        },
      });
    }
    if (request.method !== "POST")
      return new Response(null, { status: 405, headers: { allow: "GET, POST" } });
    return freshLink(request, url, options);
  };
}

/** A fresh link for the signed-in person, for a same-origin request only. */
async function freshLink(
  request: Request,
  url: URL,
  options: InstallPageOptions,
): Promise<Response> {
  const reply = (status: number, body: Record<string, string>) =>
    new Response(JSON.stringify(body), {
      status,
      headers: { "content-type": "application/json", "cache-control": "no-store" },
    });
  // Another site must not mint links (and record installs) in a signed-in person's name.
  const origin = request.headers.get("origin");
  const sameOrigin =
    origin === null
      ? request.headers.get("sec-fetch-site") === "same-origin"
      : origin === url.origin;
  if (!sameOrigin)
    return reply(403, { message: "Install links are made for this site's own page." });
  const account = await options.account(request);
  if (!account) return reply(401, { message: "Sign in to install." });
  const versions = await options.store.versionsOf([options.appleItemId]);
  const [newest] = newestFirst(versions.filter((version) => version.available));
  const entitled = (await options.entitled?.(account, options.appleItemId)) ?? true;
  if (!newest || !entitled) return reply(404, { message: "This app is not available now." });
  const claims = await options.store.claimInstalls(account, [newest.appleItemId]);
  const installVerificationToken = await installTokenFor(
    options.signer,
    newest,
    claims.get(newest.appleItemId)!,
  );
  const link = installLink({
    packageUrl: newest.packageUrl,
    installVerificationToken,
    pageUrl: url.href,
    token: await issueLinkToken(options.store, account),
    account,
  });
  return reply(200, { link });
}

/** A CSP source for an inline script or style: its SHA-256, base64. */
async function cspSource(text: string): Promise<string> {
  return `sha256-${btoa(String.fromCharCode(...(await sha256(text))))}`;
}

/** The page, and a Content-Security-Policy that allows its one script and style, nothing else. */
async function pageOf(appName: string): Promise<{ html: string; csp: string }> {
  const script = `document.getElementById("install").addEventListener("click", async (event) => {
  const status = document.getElementById("status");
  const button = event.currentTarget;
  button.disabled = true;
  status.textContent = "Preparing the install…";
  try {
    const response = await fetch(location.pathname, { method: "POST", credentials: "same-origin" });
    const answer = await response.json();
    if (!response.ok || !answer.link) throw new Error(answer.message || "The install could not be prepared.");
    status.textContent = "";
    location.href = answer.link;
  } catch (error) {
    status.textContent = error.message;
  } finally {
    button.disabled = false;
  }
});`;
  const style = `body{font:17px/1.4 -apple-system,system-ui,sans-serif;margin:0;display:grid;place-items:center;min-height:100vh;text-align:center}
button{font:inherit;font-weight:600;padding:.7em 2.2em;border:0;border-radius:999px;background:#0a66d8;color:#fff}
button:disabled{opacity:.5}`;
  const name = escapeHtml(appName);
  const html = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Install ${name}</title>
<style>${style}</style>
</head>
<body>
<main>
<h1>${name}</h1>
<button id="install" type="button">Install</button>
<p id="status" role="status"></p>
</main>
<script>${script}</script>
</body>
</html>
`;
  const csp = `default-src 'none'; script-src '${await cspSource(script)}'; style-src '${await cspSource(style)}'; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`;
  return { html, csp };
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (character) => `&#${character.charCodeAt(0)};`);
}
