import { createAppStoreConnectClient } from "../index.js";
import type { AppStoreConnectClientOptions, RequestFetch } from "../index.js";

/** The base URL of every recording client. */
export const recordingBase = "https://api.example.test";

/**
 * A client over `fetch` that records each request it sends: `seen` as `METHOD /path?query`
 * (the query decoded, unless `rawSearch`), `sent` with the JSON body too. Retries wait 1-2 ms.
 */
export function recordingClient(
  fetch: RequestFetch,
  options: Partial<AppStoreConnectClientOptions> & { rawSearch?: boolean } = {},
) {
  const { rawSearch, ...clientOptions } = options;
  const seen: string[] = [];
  const sent: Array<{ line: string; body: unknown }> = [];
  const client = createAppStoreConnectClient({
    token: "a.b.c",
    baseUrl: recordingBase,
    retry: { baseDelayMs: 1, maxDelayMs: 2 },
    fetch: async (request, init) => {
      const url = new URL(request.url);
      const line = `${request.method} ${url.pathname}${rawSearch ? url.search : decodeURIComponent(url.search)}`;
      const text = request.body ? await request.clone().text() : "";
      seen.push(line);
      sent.push({ line, body: text ? JSON.parse(text) : undefined });
      return fetch(request, init);
    },
    ...clientOptions,
  } as AppStoreConnectClientOptions);
  return { client, seen, sent };
}
