import { describe, expect, it } from "vitest";
import { UnknownIncludeError } from "./includes.js";
import { addOperations } from "./spec-tools.js";
import type { Document } from "./spec-tools.js";

const linkage = (type: string, many: boolean) => {
  const item = {
    type: "object",
    properties: { type: { type: "string", enum: [type] }, id: { type: "string" } },
  };
  return { type: "object", properties: { data: many ? { type: "array", items: item } : item } };
};
const resource = (type: string, extra: object = {}) => ({
  type: "object",
  properties: { type: { type: "string", enum: [type] }, id: { type: "string" }, ...extra },
});
const query = (name: string, schema: object) => ({ name, in: "query", schema, style: "form" });
const list = (values: string[]) => ({ type: "array", items: { type: "string", enum: values } });

/** Apple's shape, small: apps that can include their versions and builds. */
function upstream(): Document {
  return {
    openapi: "3.0.1",
    info: { title: "t", version: "1" },
    paths: {
      "/v1/apps": {
        get: {
          operationId: "apps_getCollection",
          parameters: [
            query("fields[apps]", list(["name", "appStoreVersions", "builds"])),
            query("fields[appStoreVersions]", list(["versionString"])),
            query("fields[builds]", list(["version"])),
            query("include", list(["appStoreVersions", "builds"])),
            query("limit", { type: "integer", maximum: 200 }),
            query("limit[appStoreVersions]", { type: "integer", maximum: 50 }),
            query("limit[builds]", { type: "integer", maximum: 50 }),
          ],
          responses: {
            "200": {
              description: "OK",
              content: {
                "application/json": { schema: { $ref: "#/components/schemas/AppsResponse" } },
              },
            },
          },
        },
      },
    },
    components: {
      schemas: {
        AppsResponse: {
          type: "object",
          properties: {
            data: { type: "array", items: { $ref: "#/components/schemas/App" } },
            included: {
              type: "array",
              items: {
                oneOf: [
                  { $ref: "#/components/schemas/AppStoreVersion" },
                  { $ref: "#/components/schemas/Build" },
                ],
                discriminator: {
                  propertyName: "type",
                  mapping: {
                    appStoreVersions: "#/components/schemas/AppStoreVersion",
                    builds: "#/components/schemas/Build",
                  },
                },
              },
            },
          },
        },
        App: resource("apps", {
          relationships: {
            type: "object",
            properties: {
              appStoreVersions: linkage("appStoreVersions", true),
              builds: linkage("builds", true),
            },
          },
        }),
        AppStoreVersion: resource("appStoreVersions", {
          attributes: { $ref: "#/components/schemas/Huge" },
        }),
        Huge: { type: "object" },
        Build: resource("builds"),
      },
    },
  } as Document;
}

const empty = () => ({ openapi: "3.0.1", info: { title: "t", version: "1" } }) as Document;
const parameterNames = (document: Document) =>
  (
    (document.paths!["/v1/apps"]!.get as { parameters: Array<{ name: string }> }).parameters ?? []
  ).map((parameter) => parameter.name);
const schemaNames = (document: Document) => Object.keys(document.components!.schemas!).sort();

describe("adding an operation with fewer includes", () => {
  it("takes everything Apple declares by default", () => {
    const added = addOperations(empty(), upstream(), ["apps_getCollection"]);
    expect(schemaNames(added)).toEqual(["App", "AppStoreVersion", "AppsResponse", "Build", "Huge"]);
  });

  it("--no-include keeps the operation's own resource only", () => {
    const added = addOperations(empty(), upstream(), ["apps_getCollection"], { include: [] });
    expect(parameterNames(added)).toEqual(["fields[apps]", "limit"]);
    expect(schemaNames(added)).toEqual(["App", "AppsResponse"]);
    const response = added.components!.schemas!.AppsResponse as { properties: object };
    expect(Object.keys(response.properties)).toEqual(["data"]);
  });

  it("--include builds keeps builds' parameters, schema and discriminator entry", () => {
    const added = addOperations(empty(), upstream(), ["apps_getCollection"], {
      include: ["builds"],
    });
    expect(parameterNames(added)).toEqual([
      "fields[apps]",
      "fields[builds]",
      "include",
      "limit",
      "limit[builds]",
    ]);
    expect(schemaNames(added)).toEqual(["App", "AppsResponse", "Build"]);
    const items = (
      added.components!.schemas!.AppsResponse as {
        properties: { included: { items: { oneOf: unknown[]; discriminator: object } } };
      }
    ).properties.included.items;
    expect(items.oneOf).toEqual([{ $ref: "#/components/schemas/Build" }]);
    expect(items.discriminator).toEqual({
      propertyName: "type",
      mapping: { builds: "#/components/schemas/Build" },
    });
  });

  it("keeps what the excerpt could include already", () => {
    const full = addOperations(empty(), upstream(), ["apps_getCollection"]);
    const again = addOperations(full, upstream(), ["apps_getCollection"], { include: ["builds"] });
    const items = (
      again.components!.schemas!.AppsResponse as {
        properties: { included: { items: { oneOf: unknown[] } } };
      }
    ).properties.included.items;
    expect(items.oneOf).toHaveLength(2);
  });

  it("names what can be included when asked for something that cannot", () => {
    expect(() =>
      addOperations(empty(), upstream(), ["apps_getCollection"], { include: ["nothing"] }),
    ).toThrow(UnknownIncludeError);
    expect(() =>
      addOperations(empty(), upstream(), ["apps_getCollection"], { include: ["nothing"] }),
    ).toThrow("They can include: appStoreVersions, builds.");
  });
});
