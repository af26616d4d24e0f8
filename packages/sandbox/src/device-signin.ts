import * as oauth from "oauth4webapi";

/** The parts of an install link the device uses. */
export interface InstallLink {
  packageUrl: URL;
  installVerificationToken: string;
  token?: string;
  account?: string;
}

/** Why signing in failed: the step's message. */
export class SignInFailure extends Error {}

/**
 * Reads a `marketplace-kit://install` link as the device does: the package's URL and install
 * verification token are required, and the package must be on the origin's host.
 */
export function readInstallLink(link: string, origin: URL): InstallLink {
  let url: URL;
  try {
    url = new URL(link);
  } catch {
    throw new SignInFailure("the link is not a URL.");
  }
  if (url.protocol !== "marketplace-kit:" || url.host !== "install") {
    throw new SignInFailure("the link is not a marketplace-kit://install link.");
  }
  const param = (name: string) => url.searchParams.get(name) ?? undefined;
  const packageUrl = param("alternativeDistributionPackage");
  const installVerificationToken = param("installVerificationToken");
  if (!packageUrl || !installVerificationToken) {
    throw new SignInFailure(
      "the link lacks alternativeDistributionPackage or installVerificationToken.",
    );
  }
  const parsed = new URL(packageUrl);
  if (parsed.host !== origin.host) {
    throw new SignInFailure(`the link's package is on ${parsed.host}, not on ${origin.host}.`);
  }
  const token = param("token");
  const account = param("account");
  return {
    packageUrl: parsed,
    installVerificationToken,
    ...(token ? { token } : {}),
    ...(account ? { account } : {}),
  };
}

type Fetch = (input: string, init?: RequestInit) => Promise<Response>;

/** The website's OAuth metadata and client, as the device reads them (no redirect, S256). */
export async function signInServer(origin: URL, fetcher: Fetch) {
  const loopback = origin.protocol === "http:";
  const options = {
    [oauth.customFetch]: (url: string, init: unknown) =>
      fetcher(url, { ...(init as RequestInit), redirect: "manual" }),
    [oauth.allowInsecureRequests]: loopback,
  };
  let as: oauth.AuthorizationServer;
  try {
    const response = await oauth.discoveryRequest(origin, { algorithm: "oauth2", ...options });
    as = await oauth.processDiscoveryResponse(origin, response);
  } catch (error) {
    throw new SignInFailure(
      `/.well-known/oauth-authorization-server is not usable: ${(error as Error).message}`,
    );
  }
  if (!as.code_challenge_methods_supported?.includes("S256")) {
    throw new SignInFailure("the sign-in server does not offer PKCE S256.");
  }
  // A device makes a client id of its own, per website and account.
  const client: oauth.Client = { client_id: crypto.randomUUID().toUpperCase() };
  return { as, client, options };
}

type Server = Awaited<ReturnType<typeof signInServer>>;

/** The link's token exchanged for an access token, as the device sends it (RFC 8693). */
export async function exchangeLinkToken(server: Server, linkToken: string): Promise<string> {
  const { as, client, options } = server;
  try {
    const response = await oauth.genericTokenEndpointRequest(
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
    return (await oauth.processGenericTokenEndpointResponse(as, client, response)).access_token;
  } catch (error) {
    throw new SignInFailure(`the link's token was refused: ${(error as Error).message}`);
  }
}

/**
 * Signs in again as the device does when restore answers 401 or 403: the authorization code
 * flow with PKCE S256 and `login_hint`, redirected to `app-distribution-oauth:`, then the code
 * exchanged with no `redirect_uri`. A sign-in page that needs a person ends it.
 */
export async function signInAgain(
  server: Server,
  loginHint: string | undefined,
  fetcher: Fetch,
): Promise<string> {
  const { as, client } = server;
  const verifier = oauth.generateRandomCodeVerifier();
  const state = oauth.generateRandomState();
  const url = new URL(as.authorization_endpoint!);
  const params: Record<string, string> = {
    client_id: client.client_id,
    code_challenge_method: "S256",
    response_type: "code",
    code_challenge: await oauth.calculatePKCECodeChallenge(verifier),
    state,
    redirect_uri: "app-distribution-oauth://",
    ...(loginHint ? { login_hint: loginHint } : {}),
  };
  for (const [name, value] of Object.entries(params)) url.searchParams.set(name, value);
  const answer = await fetcher(url.href, { redirect: "manual" });
  const location = answer.headers.get("location") ?? "";
  if (
    answer.status < 300 ||
    answer.status >= 400 ||
    !location.startsWith("app-distribution-oauth:")
  ) {
    throw new SignInFailure(
      `the sign-in page answered ${answer.status}: a person has to sign in there.`,
    );
  }
  try {
    const callback = oauth.validateAuthResponse(as, client, new URL(location), state);
    const body = new URLSearchParams({
      grant_type: "authorization_code",
      code: callback.get("code") ?? "",
      code_verifier: verifier,
      client_id: client.client_id,
    });
    const response = await fetcher(as.token_endpoint!, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body,
      redirect: "manual",
    });
    return (await oauth.processGenericTokenEndpointResponse(as, client, response)).access_token;
  } catch (error) {
    throw new SignInFailure(`signing in with a code failed: ${(error as Error).message}`);
  }
}
