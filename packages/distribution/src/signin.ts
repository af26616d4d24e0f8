import { base64url } from "jose";
import type { AccountTokens } from "./account-tokens.js";
import { sha256 } from "./digest.js";
import type { DistributionStore, GrantKind } from "./store.js";

/** The options of {@link createSignInHandler}. */
export interface SignInOptions {
  store: DistributionStore;
  /** The website's origin as devices reach it: the OAuth issuer, on the registered domain. */
  issuer: string;
  /** Signs the access tokens: the same `accountTokens` the distribution handler authenticates with. */
  tokens: AccountTokens;
  /**
   * Your sign-in, at the authorize step: the account of the person this request comes from, or
   * the `Response` to show instead (your sign-in page, with `loginHint` filled in), which brings
   * the person back to the same authorize URL once signed in.
   */
  signIn(
    request: Request,
    context: { loginHint?: string },
  ): { account: string } | Response | Promise<{ account: string } | Response>;
  /** Default 3,600. */
  accessTokenSeconds?: number;
  /** Default 30 days. */
  refreshTokenSeconds?: number;
}

const tokenExchange = "urn:ietf:params:oauth:grant-type:token-exchange";
const accessTokenType = "urn:ietf:params:oauth:token-type:access_token";
/** Apple's table writes the type without `urn:`; the device's requests use the full form. */
const accessTokenTypes = new Set([accessTokenType, "oauth:token-type:access_token"]);
const redirectScheme = "app-distribution-oauth:";
const codeSeconds = 60;
const maxFormBytes = 16 * 1024;
const pkceValue = /^[A-Za-z0-9._~-]{43,128}$/;

/** A token endpoint's refusal, as RFC 6749 writes it. */
class OAuthError extends Error {
  constructor(
    readonly error: "invalid_request" | "invalid_grant" | "unsupported_grant_type",
    message: string,
  ) {
    super(message);
  }
}

/**
 * Sign-in for web distribution, as MarketplaceKit does it (OAuth 2.0): the metadata at
 * `/.well-known/oauth-authorization-server`, the token endpoint (`/oauth/token`: the install
 * link's `token` exchanged under RFC 8693, `refresh_token`, and `authorization_code` with PKCE
 * S256, no `redirect_uri` needed), and the authorize endpoint (`/oauth/authorize`), which hands
 * the person to your `signIn` and redirects to `app-distribution-oauth:` with a code and the
 * `state`. Link tokens, codes and refresh tokens are single-use and stored as their SHA-256;
 * access tokens are signed (`accountTokens`), so every server instance checks them without a
 * store. Resolves `undefined` for any other path, to compose with the other handlers.
 *
 * @example
 * ```ts
 * import { accountTokens, createSignInHandler } from "@asc-kit/distribution";
 * import type { DistributionStore } from "@asc-kit/distribution";
 *
 * declare const store: DistributionStore;
 * const signIn = createSignInHandler({
 *   store,
 *   issuer: "https://apps.example.com",
 *   tokens: accountTokens(crypto.getRandomValues(new Uint8Array(32))),
 *   signIn: (request) => ({ account: "someone@example.com" }), // your session check
 * });
 * ```
 */
export function createSignInHandler(
  options: SignInOptions,
): (request: Request) => Promise<Response | undefined> {
  const issuer = new URL(options.issuer).origin;
  const metadata = JSON.stringify({
    issuer,
    authorization_endpoint: `${issuer}/oauth/authorize`,
    token_endpoint: `${issuer}/oauth/token`,
    response_types_supported: ["code"],
    grant_types_supported: ["authorization_code", "refresh_token", tokenExchange],
    code_challenge_methods_supported: ["S256"],
    token_endpoint_auth_methods_supported: ["none"],
  });
  return async (request) => {
    const path = new URL(request.url).pathname;
    if (path === "/.well-known/oauth-authorization-server") {
      return new Response(metadata, {
        headers: { "content-type": "application/json", "cache-control": "max-age=300" },
      });
    }
    if (path === "/oauth/token") {
      if (request.method !== "POST")
        return new Response(null, { status: 405, headers: { allow: "POST" } });
      return tokenEndpoint(request, options);
    }
    if (path === "/oauth/authorize") return authorize(request, options);
    return undefined;
  };
}

/**
 * A fresh token for an install link (its `token` parameter): single-use, valid for
 * `lifetimeSeconds` (default 600), exchanged by the device for an access token of `account`.
 */
export async function issueLinkToken(
  store: DistributionStore,
  account: string,
  lifetimeSeconds = 600,
): Promise<string> {
  return issueGrant(store, "link", account, {}, lifetimeSeconds);
}

async function issueGrant(
  store: DistributionStore,
  kind: GrantKind,
  account: string,
  data: Record<string, string>,
  lifetimeSeconds: number,
): Promise<string> {
  const secret = base64url.encode(crypto.getRandomValues(new Uint8Array(32)));
  const expiresAt = new Date(Date.now() + lifetimeSeconds * 1000);
  await store.saveGrant({ kind, hash: await hashed(secret), account, data, expiresAt });
  return secret;
}

async function tokenEndpoint(request: Request, options: SignInOptions): Promise<Response> {
  try {
    const form = await readForm(request);
    const grantType = form.get("grant_type");
    let account: string;
    if (grantType === tokenExchange) account = await exchanged(form, options);
    else if (grantType === "refresh_token") account = await refreshed(form, options);
    else if (grantType === "authorization_code") account = await authorized(form, options);
    else
      throw new OAuthError(
        "unsupported_grant_type",
        "grant_type must be a token exchange, refresh_token or authorization_code.",
      );
    const expiresIn = options.accessTokenSeconds ?? 3600;
    const body = {
      access_token: await options.tokens.issue(account, expiresIn),
      token_type: "Bearer",
      expires_in: expiresIn,
      issued_token_type: accessTokenType,
      refresh_token: await issueGrant(
        options.store,
        "refresh",
        account,
        {},
        options.refreshTokenSeconds ?? 30 * 86_400,
      ),
    };
    return json(200, body);
  } catch (error) {
    if (!(error instanceof OAuthError)) throw error;
    return json(400, { error: error.error, error_description: error.message });
  }
}

/** The form's fields, each at most once (RFC 6749 §3.2), read at most 16 KiB. */
async function readForm(request: Request): Promise<Map<string, string>> {
  const type = request.headers.get("content-type")?.split(";")[0]?.trim().toLowerCase();
  if (type !== "application/x-www-form-urlencoded") {
    throw new OAuthError("invalid_request", "The body must be application/x-www-form-urlencoded.");
  }
  if (Number(request.headers.get("content-length") ?? 0) > maxFormBytes) {
    throw new OAuthError("invalid_request", "The body is too large.");
  }
  const text = await request.text();
  if (text.length > maxFormBytes) throw new OAuthError("invalid_request", "The body is too large.");
  const form = new Map<string, string>();
  for (const [name, value] of new URLSearchParams(text)) {
    if (form.has(name))
      throw new OAuthError("invalid_request", `${name.slice(0, 40)} is given twice.`);
    form.set(name, value);
  }
  return form;
}

function required(form: Map<string, string>, name: string): string {
  const value = form.get(name);
  if (!value) throw new OAuthError("invalid_request", `${name} is missing.`);
  return value;
}

async function taken(options: SignInOptions, kind: GrantKind, secret: string, what: string) {
  const grant = await options.store.takeGrant(kind, await hashed(secret));
  if (!grant) throw new OAuthError("invalid_grant", `The ${what} is unknown, used or expired.`);
  return grant;
}

async function exchanged(form: Map<string, string>, options: SignInOptions): Promise<string> {
  const subjectType = required(form, "subject_token_type");
  if (!accessTokenTypes.has(subjectType)) {
    throw new OAuthError("invalid_request", `subject_token_type must be ${accessTokenType}.`);
  }
  // The device sends issued_token_type where RFC 8693 says requested_token_type: either is read.
  const wanted = form.get("requested_token_type") ?? form.get("issued_token_type");
  if (wanted !== undefined && !accessTokenTypes.has(wanted)) {
    throw new OAuthError("invalid_request", `Only ${accessTokenType} is issued.`);
  }
  return (await taken(options, "link", required(form, "subject_token"), "install link's token"))
    .account;
}

async function refreshed(form: Map<string, string>, options: SignInOptions): Promise<string> {
  return (await taken(options, "refresh", required(form, "refresh_token"), "refresh token"))
    .account;
}

async function authorized(form: Map<string, string>, options: SignInOptions): Promise<string> {
  const verifier = required(form, "code_verifier");
  if (!pkceValue.test(verifier))
    throw new OAuthError("invalid_request", "code_verifier is not a PKCE verifier.");
  const clientId = required(form, "client_id");
  const grant = await taken(options, "code", required(form, "code"), "authorization code");
  const redirectUri = form.get("redirect_uri");
  const matches =
    equal(await hashed(verifier), grant.data.challenge ?? "") &&
    equal(clientId, grant.data.clientId ?? "") &&
    (redirectUri === undefined || redirectUri === grant.data.redirectUri);
  if (!matches)
    throw new OAuthError(
      "invalid_grant",
      "The code was issued for another verifier, client or redirect.",
    );
  return grant.account;
}

async function authorize(request: Request, options: SignInOptions): Promise<Response> {
  const query = new URL(request.url).searchParams;
  const redirectUri = query.get("redirect_uri") ?? "";
  if (!redirectUri.startsWith(redirectScheme) || redirectUri.length > 200) {
    return json(400, {
      error: "invalid_request",
      error_description: `redirect_uri must be ${redirectScheme}//.`,
    });
  }
  const back = (params: Record<string, string>) => {
    const state = query.get("state");
    const search = new URLSearchParams({ ...params, ...(state ? { state } : {}) });
    return new Response(null, {
      status: 302,
      headers: {
        location: `${redirectUri}${redirectUri.includes("?") ? "&" : "?"}${search}`,
        "cache-control": "no-store",
      },
    });
  };
  const challenge = query.get("code_challenge") ?? "";
  const clientId = query.get("client_id") ?? "";
  if (query.get("response_type") !== "code") return back({ error: "unsupported_response_type" });
  if (
    query.get("code_challenge_method") !== "S256" ||
    !pkceValue.test(challenge) ||
    clientId === ""
  ) {
    return back({
      error: "invalid_request",
      error_description: "S256 PKCE and a client_id are required.",
    });
  }
  const loginHint = query.get("login_hint") ?? undefined;
  const person = await options.signIn(request, loginHint === undefined ? {} : { loginHint });
  if (person instanceof Response) return person;
  const code = await issueGrant(
    options.store,
    "code",
    person.account,
    { challenge, clientId, redirectUri },
    codeSeconds,
  );
  return back({ code });
}

function json(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: {
      "content-type": "application/json",
      "cache-control": "no-store",
      pragma: "no-cache",
    },
  });
}

/** Compares two strings in time that does not depend on where they differ. */
function equal(a: string, b: string): boolean {
  const left = new TextEncoder().encode(a);
  const right = new TextEncoder().encode(b);
  let difference = left.length ^ right.length;
  for (let index = 0; index < Math.max(left.length, right.length); index++) {
    difference |= (left[index] ?? 0) ^ (right[index] ?? 0);
  }
  return difference === 0;
}

/** A secret's or verifier's SHA-256 as base64url: how grants are kept, and PKCE's S256. */
async function hashed(text: string): Promise<string> {
  return base64url.encode(await sha256(text));
}
