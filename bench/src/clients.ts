import { createAppStoreConnectClient } from "@asc-kit/core";
import type { paths } from "@asc-kit/core";
import { createNodeFetch } from "@asc-kit/core/node";
import createClient from "openapi-fetch";
import { peerModule } from "./peers.ts";

/** What every compared client is given: a loopback server and a throwaway API key. */
export interface Target {
  baseUrl: string;
  keyId: string;
  issuerId: string;
  privateKey: string;
  /** A ready-made token, for raw fetch and openapi-fetch alone. */
  token: string;
  /** The fetch every client is given; default the global one. */
  fetch?: (input: Request | string | URL, init?: RequestInit) => Promise<Response>;
}

/** One call of the list endpoint, made by a client created once per target. */
export type ListCall = () => Promise<void>;

export type ClientName =
  | "raw fetch"
  | "openapi-fetch alone"
  | "openapi-fetch, a timeout per call"
  | "asc-kit"
  | "asc-kit (no retries, no timeout)"
  | "asc-kit over createNodeFetch"
  | "appstore-connect-sdk@2.0.0"
  | "@rage-against-the-pixel/app-store-connect-api@4.4.1";

/** The libraries compared, and the two baselines beside them. */
export const libraries = [
  "asc-kit",
  "appstore-connect-sdk@2.0.0",
  "@rage-against-the-pixel/app-store-connect-api@4.4.1",
] as const satisfies readonly ClientName[];
export const clientNames: readonly ClientName[] = [
  "raw fetch",
  "openapi-fetch alone",
  ...libraries,
];

export async function createListCall(name: ClientName, target: Target): Promise<ListCall> {
  const fail = (what: unknown) => {
    throw new Error(`${name}: unexpected error response ${JSON.stringify(what)}`);
  };
  switch (name) {
    case "raw fetch": {
      const fetch = target.fetch ?? globalThis.fetch;
      return async () => {
        const response = await fetch(`${target.baseUrl}/v1/alternativeDistributionKeys?limit=50`, {
          headers: { Authorization: `Bearer ${target.token}` },
        });
        if (!response.ok) fail(response.status);
        await response.json();
      };
    }
    case "openapi-fetch alone": {
      const client = createClient<paths>({
        baseUrl: target.baseUrl,
        headers: { Authorization: `Bearer ${target.token}` },
        ...(target.fetch ? { fetch: target.fetch } : {}),
      });
      return async () => {
        const { error } = await client.GET("/v1/alternativeDistributionKeys", {
          params: { query: { limit: 50 } },
        });
        if (error) fail(error);
      };
    }
    case "asc-kit":
    case "asc-kit (no retries, no timeout)":
    case "asc-kit over createNodeFetch": {
      const { keyId, issuerId, privateKey, baseUrl } = target;
      const client = createAppStoreConnectClient({
        keyId,
        issuerId,
        privateKey,
        baseUrl,
        ...(target.fetch ? { fetch: target.fetch } : {}),
        // Node.js's own HTTP client under the same client, defaults and all.
        ...(name === "asc-kit over createNodeFetch" ? { fetch: createNodeFetch() } : {}),
        // What the retry and timeout layer costs, shown beside the default.
        ...(name === "asc-kit (no retries, no timeout)" ? { retry: false, timeoutMs: 0 } : {}),
      });
      return async () => {
        const { error } = await client.GET("/v1/alternativeDistributionKeys", {
          params: { query: { limit: 50 } },
        });
        if (error) fail(error);
      };
    }
    case "openapi-fetch, a timeout per call": {
      // What a user of openapi-fetch writes for what asc-kit's default does: a timeout that
      // aborts each request (asc-kit's is per attempt, at the same 30 s).
      const fetch = target.fetch ?? globalThis.fetch;
      const client = createClient<paths>({
        baseUrl: target.baseUrl,
        headers: { Authorization: `Bearer ${target.token}` },
        fetch: (request: Request) => fetch(request, { signal: AbortSignal.timeout(30_000) }),
      });
      return async () => {
        const { error } = await client.GET("/v1/alternativeDistributionKeys", {
          params: { query: { limit: 50 } },
        });
        if (error) fail(error);
      };
    }
    case "appstore-connect-sdk@2.0.0": {
      const sdk = (await import(peerModule("appstore-connect-sdk/dist/main.js"))) as Record<
        string,
        any
      >;
      const client = sdk.createClient({
        issuerId: target.issuerId,
        privateKeyId: target.keyId,
        privateKey: target.privateKey,
        baseUrl: target.baseUrl,
      });
      // Its createClient takes no fetch; the client it returns does.
      client.setConfig({ fetch: target.fetch ?? globalThis.fetch });
      return async () => {
        const { error } = await sdk.alternativeDistributionKeysGetCollection({
          client,
          query: { limit: 50 },
        });
        if (error) fail(error);
      };
    }
    case "@rage-against-the-pixel/app-store-connect-api@4.4.1": {
      const root = "@rage-against-the-pixel/app-store-connect-api/dist";
      const entry = (await import(peerModule(`${root}/index.js`))) as Record<string, any>;
      const AppStoreConnectClient =
        entry.AppStoreConnectClient ?? entry.default.AppStoreConnectClient;
      const generated = (await import(
        peerModule(`${root}/app_store_connect_api/client.gen.js`)
      )) as Record<string, any>;
      const client = new AppStoreConnectClient({
        issuerId: target.issuerId,
        privateKeyId: target.keyId,
        privateKey: target.privateKey,
      });
      // The client has no base URL option; its generated client is a module-level singleton.
      (generated.client ?? generated.default?.client).setConfig({
        baseUrl: target.baseUrl,
        // A singleton: set the fetch every time, or the last section's stays.
        fetch: target.fetch ?? globalThis.fetch,
      });
      return async () => {
        const { error } =
          await client.api.AlternativeDistributionKeys.alternativeDistributionKeysGetCollection({
            query: { limit: 50 },
          });
        if (error) fail(error);
      };
    }
  }
}
