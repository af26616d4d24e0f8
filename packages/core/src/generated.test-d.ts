import createClient from "openapi-fetch";
import { describe, expectTypeOf, it } from "vitest";
import type { components, paths } from "./generated/app-store-connect.js";

type CreateBody = NonNullable<
  paths["/v1/alternativeDistributionKeys"]["post"]["requestBody"]
>["content"]["application/json"];
type CreateResponses = paths["/v1/alternativeDistributionKeys"]["post"]["responses"];
type ErrorResponse = components["schemas"]["ErrorResponse"];

const client = createClient<paths>({ baseUrl: "https://api.appstoreconnect.apple.com" });
const publicKey = "-----BEGIN PUBLIC KEY-----\n...\n-----END PUBLIC KEY-----\n";

describe("generated paths", () => {
  it("types the create body", () => {
    expectTypeOf<CreateBody["data"]["type"]>().toEqualTypeOf<"alternativeDistributionKeys">();
    expectTypeOf<CreateBody["data"]["attributes"]["publicKey"]>().toEqualTypeOf<string>();
    expectTypeOf<{
      data: { type: "alternativeDistributionKeys"; attributes: { publicKey: string } };
    }>().toExtend<CreateBody>();
    expectTypeOf<{
      data: {
        type: "alternativeDistributionKeys";
        attributes: { publicKey: string };
        relationships: { app: { data: { type: "apps"; id: string } } };
      };
    }>().toExtend<CreateBody>();
  });

  it("types the 201 body and the error bodies", () => {
    type Created = CreateResponses[201]["content"]["application/json"];
    expectTypeOf<Created["data"]["id"]>().toEqualTypeOf<string>();
    expectTypeOf<
      CreateResponses[409]["content"]["application/json"]
    >().toEqualTypeOf<ErrorResponse>();
    expectTypeOf<
      CreateResponses[422]["content"]["application/json"]
    >().toEqualTypeOf<ErrorResponse>();
  });

  it("types the calls an openapi-fetch client makes", async () => {
    const created = await client.POST("/v1/alternativeDistributionKeys", {
      body: { data: { type: "alternativeDistributionKeys", attributes: { publicKey } } },
    });
    expectTypeOf(created.data?.data.attributes?.publicKey).toEqualTypeOf<string | undefined>();
    expectTypeOf(created.error).toEqualTypeOf<ErrorResponse | undefined>();

    const page = await client.GET("/v1/alternativeDistributionKeys", {
      params: {
        query: {
          limit: 50,
          "exists[app]": true,
          "fields[alternativeDistributionKeys]": ["publicKey"],
        },
      },
    });
    expectTypeOf(page.data?.meta?.paging.nextCursor).toEqualTypeOf<string | undefined>();

    const linkage = await client.GET("/v1/apps/{id}/relationships/alternativeDistributionKey", {
      params: { path: { id: "6476788026" } },
    });
    expectTypeOf(linkage.data?.data.type).toEqualTypeOf<
      "alternativeDistributionKeys" | undefined
    >();
  });

  it("rejects what the spec does not allow", () => {
    // @ts-expect-error an unknown path
    void client.GET("/v1/alternativeDistributionKeyz");
    void client.POST("/v1/alternativeDistributionKeys", {
      // @ts-expect-error a wrong `type` literal
      body: { data: { type: "apps", attributes: { publicKey } } },
    });
    void client.POST("/v1/alternativeDistributionKeys", {
      // @ts-expect-error `publicKey` is required
      body: { data: { type: "alternativeDistributionKeys", attributes: {} } },
    });
    void client.GET("/v1/alternativeDistributionKeys", {
      // @ts-expect-error `publicKey` is the only field
      params: { query: { "fields[alternativeDistributionKeys]": ["privateKey"] } },
    });
    // @ts-expect-error DELETE takes no collection
    void client.DELETE("/v1/alternativeDistributionKeys");
  });
});
