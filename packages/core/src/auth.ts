import type { Middleware } from "openapi-fetch";
import type { RequestFetch } from "./retry.js";
import { checkToken } from "./token.js";
import type { TokenProvider } from "./token.js";

/**
 * Wraps fetch so that every request carries `Authorization: Bearer <token>`, and a 401 is
 * answered once with a fresh token. The client uses this form; {@link authMiddleware} is the
 * same rule for openapi-fetch clients of your own.
 *
 * @example
 * ```ts
 * import { authenticatedFetch, createTokenProvider } from "@asc-kit/core";
 *
 * const fetchWithAuth = authenticatedFetch(createTokenProvider({ keyId, issuerId, privateKey }));
 * const response = await fetchWithAuth(new Request("https://api.appstoreconnect.apple.com/v1/apps"));
 * ```
 */
export function authenticatedFetch(
  tokens: TokenProvider,
  send: RequestFetch = (request, init) => globalThis.fetch(request, init),
): RequestFetch {
  // A token is reused for many requests: check each one once, and build its header once (the
  // header set validates it character by character, which flattens a freshly joined string).
  let checked: string | undefined;
  let authorization = "";
  return async (request, init) => {
    const token = await tokens.getToken();
    if (token !== checked) {
      authorization = `Bearer ${checkToken(token, "The token provider's token")}`;
      checked = token;
    }
    // A body can be sent once: keep a copy for the retry. A request without one is reusable.
    const copy = tokens.canRefresh && request.body ? request.clone() : request;
    request.headers.set("Authorization", authorization);
    const response = await send(request, init);
    if (response.status !== 401 || !tokens.canRefresh) return response;
    tokens.invalidate(token);
    const fresh = checkToken(await tokens.getToken(), "The token provider's token");
    if (fresh === token) return response;
    await response.body?.cancel().catch(() => undefined);
    const retry = new Request(copy);
    retry.headers.set("Authorization", `Bearer ${fresh}`);
    return send(retry, init);
  };
}

/**
 * An openapi-fetch middleware that puts `Authorization: Bearer <token>` on every request. On a
 * 401 it drops the token that was refused and sends the request once more with a fresh one;
 * the request is cloned before the first send, since openapi-fetch sends the body only once.
 *
 * @example
 * ```ts
 * import createClient from "openapi-fetch";
 * import { authMiddleware, createTokenProvider, type paths } from "@asc-kit/core";
 *
 * const client = createClient<paths>({ baseUrl: "https://api.appstoreconnect.apple.com" });
 * client.use(authMiddleware(createTokenProvider({ keyId, issuerId, privateKey })));
 * ```
 */
export function authMiddleware(tokens: TokenProvider): Middleware {
  const unsent = new Map<string, Request>();
  return {
    async onRequest({ request, id }) {
      const token = checkToken(await tokens.getToken(), "The token provider's token");
      request.headers.set("Authorization", `Bearer ${token}`);
      if (tokens.canRefresh) unsent.set(id, request.clone());
      return request;
    },
    async onResponse({ response, id, options }) {
      const copy = unsent.get(id);
      unsent.delete(id);
      if (response.status !== 401 || !copy) return undefined;
      const refused = copy.headers.get("Authorization")?.replace(/^Bearer /, "");
      tokens.invalidate(refused);
      const fresh = checkToken(await tokens.getToken(), "The token provider's token");
      if (fresh === refused) return undefined;
      await response.body?.cancel().catch(() => undefined);
      copy.headers.set("Authorization", `Bearer ${fresh}`);
      return options.fetch(copy);
    },
    onError({ id }) {
      unsent.delete(id);
    },
  };
}
