import type { AppStoreConnectError } from "@asc-kit/errors";
import { describe, expectTypeOf, it } from "vitest";
import {
  addAlternativeDistributionKey,
  createAppStoreConnectClient,
  listAlternativeDistributionKeys,
  paginate,
  paginateItems,
  toResult,
  unwrap,
} from "./index.js";
import type { components, paths } from "./generated/app-store-connect.js";
import type {
  AlternativeDistributionKey,
  AppStoreConnectClient,
  PagedPath,
  Result,
} from "./index.js";

const client = createAppStoreConnectClient({ token: "t" });

describe("createAppStoreConnectClient", () => {
  it("is typed with the generated paths", async () => {
    const { data } = await client.GET("/v1/alternativeDistributionKeys", {
      params: { query: { limit: 50 } },
    });
    expectTypeOf(data?.data).toEqualTypeOf<AlternativeDistributionKey[] | undefined>();
    // @ts-expect-error limit is a number
    void client.GET("/v1/alternativeDistributionKeys", { params: { query: { limit: "50" } } });
    // @ts-expect-error the id path parameter is required
    void client.GET("/v1/alternativeDistributionKeys/{id}", {});
  });

  it("needs credentials of one kind", () => {
    // @ts-expect-error options are required
    createAppStoreConnectClient();
    expectTypeOf(client.rateLimit).toEqualTypeOf<
      Record<string, { limit?: number; remaining?: number }> | undefined
    >();
  });
});

describe("pagination", () => {
  it("knows which paths page and what their items are", async () => {
    // Holds when spec:add brings more paged collections: today's are among them, items are not.
    expectTypeOf<
      "/v1/alternativeDistributionKeys" | "/v1/alternativeDistributionDomains"
    >().toExtend<PagedPath>();
    expectTypeOf<"/v1/alternativeDistributionKeys/{id}">().not.toExtend<PagedPath>();
    for await (const page of paginate(client, "/v1/alternativeDistributionKeys", {
      params: { query: { limit: 10 } },
    })) {
      expectTypeOf(page.meta?.paging.limit).toEqualTypeOf<number | undefined>();
    }
    for await (const key of paginateItems(client, "/v1/alternativeDistributionKeys")) {
      expectTypeOf(key).toEqualTypeOf<AlternativeDistributionKey>();
    }
    // @ts-expect-error a single resource does not page
    void paginate(client, "/v1/alternativeDistributionKeys/{id}");
  });
});

describe("the key helpers", () => {
  it("return a data-or-error result", async () => {
    const added = await addAlternativeDistributionKey(client, { publicKey: "pem" });
    if (added.error) expectTypeOf(added.error).toEqualTypeOf<AppStoreConnectError>();
    else expectTypeOf(added.data.data.id).toEqualTypeOf<string>();
    expectTypeOf(listAlternativeDistributionKeys(client, { app: "with" })).resolves.toEqualTypeOf<
      Result<AlternativeDistributionKey[]>
    >();
    // @ts-expect-error app takes "any", "with" or "without"
    void listAlternativeDistributionKeys(client, { app: "some" });
  });
});

describe("options", () => {
  it("take an issuer ID straight from an environment variable that may be unset", () => {
    const fromEnvironment: string | undefined = process.env.ASC_ISSUER_ID;
    expectTypeOf(
      createAppStoreConnectClient({ keyId: "K", issuerId: fromEnvironment, privateKey: "p" }),
    ).toEqualTypeOf<AppStoreConnectClient>();
  });
});

describe("toResult and unwrap", () => {
  it("keep the generated data type", () => {
    expectTypeOf(unwrap(client.GET("/v1/alternativeDistributionKeys"))).resolves.toEqualTypeOf<
      components["schemas"]["AlternativeDistributionKeysResponse"]
    >();
    expectTypeOf(toResult(client.GET("/v1/alternativeDistributionKeys"))).resolves.toEqualTypeOf<
      Result<components["schemas"]["AlternativeDistributionKeysResponse"]>
    >();
  });
});

/** A consumer's own excerpt, as openapi-typescript generates it: one paged collection. */
interface ConsumerPaths {
  "/v1/apps": {
    parameters: { query?: never; header?: never; path?: never; cookie?: never };
    get: {
      parameters: {
        query?: { limit?: number; "filter[bundleId]"?: string[] };
        header?: never;
        path?: never;
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        200: {
          headers: { [name: string]: unknown };
          content: {
            "application/json": {
              data: { type: "apps"; id: string; attributes?: { bundleId?: string } }[];
              links: { self: string; next?: string };
            };
          };
        };
      };
    };
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
}

describe("a consumer's own paths", () => {
  it("type the client, pagination and results", async () => {
    const own = createAppStoreConnectClient<ConsumerPaths>({ token: "t" });
    const { data } = await own.GET("/v1/apps", { params: { query: { limit: 10 } } });
    expectTypeOf(data?.data[0]?.attributes?.bundleId).toEqualTypeOf<string | undefined>();
    // @ts-expect-error not a path of the consumer's excerpt
    void own.GET("/v1/alternativeDistributionKeys");
    expectTypeOf<PagedPath<ConsumerPaths>>().toEqualTypeOf<"/v1/apps">();
    for await (const app of paginateItems(own, "/v1/apps", {
      params: { query: { "filter[bundleId]": ["com.example.app"] } },
    })) {
      expectTypeOf(app.id).toEqualTypeOf<string>();
    }
    expectTypeOf(unwrap(own.GET("/v1/apps"))).resolves.toHaveProperty("links");
  });
});

describe("a consumer's superset of the package's paths", () => {
  it("works with the typed helpers too", async () => {
    const both = createAppStoreConnectClient<paths & ConsumerPaths>({ token: "t" });
    const listed = await listAlternativeDistributionKeys(both);
    expectTypeOf(listed).toEqualTypeOf<Result<AlternativeDistributionKey[]>>();
    void both.GET("/v1/apps");
  });
});
