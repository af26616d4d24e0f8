import * as oauth from "oauth4webapi";
import { describe, expect, it } from "vitest";
import { accountTokens, createSignInHandler, installLink, issueLinkToken } from "./index.js";
import type { DistributionStore } from "./index.js";
import { forEachAdapter } from "./test-support/databases.js";

const issuer = "https://apps.example.com";
const tokens = accountTokens(new Uint8Array(32).fill(3));
const client: oauth.Client = { client_id: "D4C1C937-9A7C-4B4F-8C2B-1F2E3D4C5B6A" };
const redirectUri = "app-distribution-oauth://";

/** The sign-in handler in process, and a fetch that reaches it, for oauth4webapi. */
function signInOn(store: DistributionStore, signedIn: string | null = "alice@example.com") {
  const handle = createSignInHandler({
    store,
    issuer,
    tokens,
    signIn: (_request, { loginHint }) =>
      signedIn === null
        ? new Response(`<form>sign in as ${loginHint ?? "you"}</form>`, {
            headers: { "content-type": "text/html" },
          })
        : { account: signedIn },
  });
  const fetchIt = async (input: string | URL | Request, init?: unknown) =>
    (await handle(new Request(input, init as RequestInit))) ?? new Response(null, { status: 404 });
  const options = { [oauth.customFetch]: fetchIt, [oauth.allowInsecureRequests]: false };
  return { handle, fetchIt, options };
}

async function discovered(fetchIt: (input: string, init?: unknown) => Promise<Response>) {
  const response = await oauth.discoveryRequest(new URL(issuer), {
    algorithm: "oauth2",
    [oauth.customFetch]: fetchIt,
  });
  return oauth.processDiscoveryResponse(new URL(issuer), response);
}

const form = (fields: Record<string, string>) =>
  new Request(`${issuer}/oauth/token`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams(fields),
  });

forEachAdapter((adapter) => {
  describe("sign-in for web distribution", () => {
    it("publishes metadata a standard client reads: S256, the device's grants", async () => {
      const { fetchIt } = signInOn(adapter.store());
      const as = await discovered(fetchIt);
      expect(as).toMatchObject({
        issuer,
        token_endpoint: `${issuer}/oauth/token`,
        authorization_endpoint: `${issuer}/oauth/authorize`,
        code_challenge_methods_supported: ["S256"],
      });
      expect(as.grant_types_supported).toEqual(
        expect.arrayContaining([
          "authorization_code",
          "refresh_token",
          "urn:ietf:params:oauth:grant-type:token-exchange",
        ]),
      );
    });

    it("exchanges an install link's token once, as the device sends it, then refreshes", async () => {
      const { fetchIt, options } = signInOn(adapter.store());
      const as = await discovered(fetchIt);
      const linkToken = await issueLinkToken(adapter.store(), "bob@example.com");
      const exchange = () =>
        oauth.genericTokenEndpointRequest(
          as,
          client,
          oauth.None(),
          "urn:ietf:params:oauth:grant-type:token-exchange",
          {
            issued_token_type: "urn:ietf:params:oauth:token-type:access_token",
            subject_token: linkToken,
            subject_token_type: "urn:ietf:params:oauth:token-type:access_token",
          },
          options,
        );
      const response = await exchange();
      expect(response.headers.get("cache-control")).toBe("no-store");
      const result = await oauth.processGenericTokenEndpointResponse(as, client, response);
      expect(result).toMatchObject({
        token_type: "bearer",
        expires_in: 3600,
        issued_token_type: "urn:ietf:params:oauth:token-type:access_token",
      });
      const bearer = new Request(issuer, {
        headers: { authorization: `Bearer ${result.access_token}` },
      });
      expect(await tokens.authenticate(bearer)).toEqual({ account: "bob@example.com" });
      // Single use: a replay is refused as RFC 6749 writes it.
      const replay = await exchange();
      expect(replay.status).toBe(400);
      expect(await replay.json()).toMatchObject({ error: "invalid_grant" });
      const refreshed = await oauth.processRefreshTokenResponse(
        as,
        client,
        await oauth.refreshTokenGrantRequest(
          as,
          client,
          oauth.None(),
          result.refresh_token!,
          options,
        ),
      );
      expect(
        await tokens.authenticate(
          new Request(issuer, { headers: { authorization: `Bearer ${refreshed.access_token}` } }),
        ),
      ).toEqual({ account: "bob@example.com" });
      // The refresh token rotated: the old one is spent.
      const again = await oauth.refreshTokenGrantRequest(
        as,
        client,
        oauth.None(),
        result.refresh_token!,
        options,
      );
      expect(again.status).toBe(400);
    });

    it("signs in with an authorization code and PKCE S256, no redirect_uri needed", async () => {
      const { handle, fetchIt, options } = signInOn(adapter.store());
      const as = await discovered(fetchIt);
      const verifier = oauth.generateRandomCodeVerifier();
      const state = oauth.generateRandomState();
      const authorizeUrl = new URL(as.authorization_endpoint!);
      for (const [name, value] of Object.entries({
        login_hint: "alice@example.com",
        client_id: client.client_id,
        code_challenge_method: "S256",
        response_type: "code",
        code_challenge: await oauth.calculatePKCECodeChallenge(verifier),
        state,
        redirect_uri: redirectUri,
      }))
        authorizeUrl.searchParams.set(name, value);
      const redirect = (await handle(new Request(authorizeUrl)))!;
      expect(redirect.status).toBe(302);
      const location = new URL(redirect.headers.get("location")!);
      expect(location.protocol).toBe("app-distribution-oauth:");
      const params = oauth.validateAuthResponse(as, client, location, state);
      const result = await oauth.processAuthorizationCodeResponse(
        as,
        client,
        await oauth.authorizationCodeGrantRequest(
          as,
          client,
          oauth.None(),
          params,
          redirectUri,
          verifier,
          options,
        ),
      );
      expect(
        await tokens.authenticate(
          new Request(issuer, { headers: { authorization: `Bearer ${result.access_token}` } }),
        ),
      ).toEqual({ account: "alice@example.com" });
      // What the device sends: code, code_verifier, client_id, grant_type; no redirect_uri.
      const code = async () => {
        const url = new URL(authorizeUrl);
        url.searchParams.set("code_challenge", await oauth.calculatePKCECodeChallenge(verifier));
        return new URL((await handle(new Request(url)))!.headers.get("location")!).searchParams.get(
          "code",
        )!;
      };
      const plain = await handle(
        form({
          grant_type: "authorization_code",
          code: await code(),
          code_verifier: verifier,
          client_id: client.client_id,
        }),
      );
      expect(plain!.status).toBe(200);
      const wrongVerifier = await handle(
        form({
          grant_type: "authorization_code",
          code: await code(),
          code_verifier: oauth.generateRandomCodeVerifier(),
          client_id: client.client_id,
        }),
      );
      expect(await wrongVerifier!.json()).toMatchObject({ error: "invalid_grant" });
      const otherClient = await handle(
        form({
          grant_type: "authorization_code",
          code: await code(),
          code_verifier: verifier,
          client_id: "someone-else",
        }),
      );
      expect(await otherClient!.json()).toMatchObject({ error: "invalid_grant" });
    });

    it("shows the distributor's sign-in page with the login hint when nobody is signed in", async () => {
      const { handle } = signInOn(adapter.store(), null);
      const url = new URL(`${issuer}/oauth/authorize`);
      for (const [name, value] of Object.entries({
        login_hint: "carol@example.com",
        client_id: "c",
        code_challenge_method: "S256",
        response_type: "code",
        code_challenge: "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
        redirect_uri: redirectUri,
      }))
        url.searchParams.set(name, value);
      const page = (await handle(new Request(url)))!;
      expect(page.status).toBe(200);
      expect(await page.text()).toContain("carol@example.com");
    });

    it("answers every bad request with RFC 6749's errors", async () => {
      const { handle } = signInOn(adapter.store());
      const cases: Array<[Request, string]> = [
        [form({ grant_type: "password", username: "a", password: "b" }), "unsupported_grant_type"],
        [form({ grant_type: "refresh_token" }), "invalid_request"],
        [form({ grant_type: "refresh_token", refresh_token: "made-up" }), "invalid_grant"],
        [
          new Request(`${issuer}/oauth/token`, {
            method: "POST",
            body: "grant_type=refresh_token&refresh_token=x",
            headers: { "content-type": "application/json" },
          }),
          "invalid_request",
        ],
        [
          new Request(`${issuer}/oauth/token`, {
            method: "POST",
            body: "grant_type=refresh_token&grant_type=refresh_token",
            headers: { "content-type": "application/x-www-form-urlencoded" },
          }),
          "invalid_request",
        ],
        [
          form({
            grant_type: "urn:ietf:params:oauth:grant-type:token-exchange",
            subject_token: "x",
            subject_token_type: "urn:ietf:params:oauth:token-type:id_token",
          }),
          "invalid_request",
        ],
        [
          form({
            grant_type: "authorization_code",
            code: "x",
            code_verifier: "short",
            client_id: "c",
          }),
          "invalid_request",
        ],
        [
          form({ grant_type: "refresh_token", refresh_token: "x".repeat(20_000) }),
          "invalid_request",
        ],
      ];
      for (const [request, error] of cases) {
        const answer = (await handle(request))!;
        expect([answer.status, ((await answer.json()) as { error: string }).error]).toEqual([
          400,
          error,
        ]);
      }
      const plainPkce = new URL(
        `${issuer}/oauth/authorize?response_type=code&client_id=c&code_challenge_method=plain&code_challenge=${"a".repeat(43)}&redirect_uri=${redirectUri}&state=s`,
      );
      const refused = (await handle(new Request(plainPkce)))!;
      expect(new URL(refused.headers.get("location")!).searchParams.get("error")).toBe(
        "invalid_request",
      );
      const elsewhere = (await handle(
        new Request(
          `${issuer}/oauth/authorize?response_type=code&redirect_uri=https://evil.example/`,
        ),
      ))!;
      expect(elsewhere.status).toBe(400);
    });
  });
});

describe("installLink", () => {
  it("encodes every value, and refuses a package on another host than the page's", () => {
    const link = installLink({
      packageUrl: "https://apps.example.com/packages/1/?a=b&c=d",
      installVerificationToken: "eyJ.e30.sig",
      pageUrl: "https://apps.example.com/install",
      token: "a+b/c=",
      account: "alice@example.com",
    });
    const url = new URL(link);
    expect(`${url.protocol}//${url.host}${url.pathname}`).toBe("marketplace-kit://install");
    expect(Object.fromEntries(url.searchParams)).toEqual({
      alternativeDistributionPackage: "https://apps.example.com/packages/1/?a=b&c=d",
      installVerificationToken: "eyJ.e30.sig",
      token: "a+b/c=",
      account: "alice@example.com",
    });
    expect(() =>
      installLink({
        packageUrl: "https://cdn.example.net/p/",
        installVerificationToken: "t",
        pageUrl: "https://apps.example.com/",
      }),
    ).toThrow(/only from the page's host/);
  });
});
