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
import type { components } from "./generated/app-store-connect.js";
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
    expectTypeOf<PagedPath>().toEqualTypeOf<
      "/v1/alternativeDistributionKeys" | "/v1/alternativeDistributionDomains"
    >();
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
