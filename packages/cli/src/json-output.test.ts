import { describe, expect, it } from "vitest";
import { jsonArgs, plain, selectFields } from "./json-output.js";

const commands = new Set(["asc-kit", "keys", "list", "domains"]);

describe("jsonArgs", () => {
  it("takes a field list after --json, and never a command's name", () => {
    expect(jsonArgs(["keys", "list", "--json", "id,publicKey"], commands)).toEqual([
      "keys",
      "list",
      "--json",
      "--json-fields",
      "id,publicKey",
    ]);
    expect(jsonArgs(["--json", "keys", "list"], commands)).toEqual(["--json", "keys", "list"]);
    expect(jsonArgs(["keys", "list", "--json=id"], commands)).toEqual([
      "keys",
      "list",
      "--json",
      "--json-fields",
      "id",
    ]);
  });

  it("leaves ids, paths and what follows -- alone", () => {
    const id = "0cfd02b6-4585-414b-bf7f-acc59c934f4a";
    expect(jsonArgs(["keys", "get", "--json", id], commands)).toEqual([
      "keys",
      "get",
      "--json",
      id,
    ]);
    expect(jsonArgs(["keys", "add", "--json", "k/public-key.pem"], commands)).toContain(
      "k/public-key.pem",
    );
    expect(jsonArgs(["x", "--", "--json", "id"], commands)).toEqual(["x", "--", "--json", "id"]);
  });

  it("lets --jq and --ndjson imply --json, and never reads the jq program as fields", () => {
    expect(jsonArgs(["keys", "list", "--jq", "length"], commands)).toEqual([
      "keys",
      "list",
      "--jq",
      "length",
      "--json",
    ]);
    expect(jsonArgs(["keys", "list", "--ndjson"], commands)).toEqual([
      "keys",
      "list",
      "--ndjson",
      "--json",
    ]);
    expect(jsonArgs(["--json", "--jq", "id"], commands)).toEqual(["--json", "--jq", "id"]);
  });
});

describe("plain", () => {
  it("flattens attributes, turns relationships into ids, and keeps computed fields apart", () => {
    expect(
      plain({
        type: "alternativeDistributionPackageVersions",
        id: "v1",
        attributes: { version: "1.0", state: "COMPLETED" },
        relationships: {
          variants: { data: [{ type: "alternativeDistributionPackageVariants", id: "a" }] },
          deltas: { links: { related: "https://example.test" } },
          alternativeDistributionPackage: {
            data: { type: "alternativeDistributionPackages", id: "p" },
          },
          app: { data: null },
        },
        links: { self: "https://example.test" },
        fingerprint: "ab",
      }),
    ).toEqual({
      id: "v1",
      type: "alternativeDistributionPackageVersions",
      version: "1.0",
      state: "COMPLETED",
      variants: ["a"],
      alternativeDistributionPackage: "p",
      app: null,
      computed: { fingerprint: "ab" },
    });
  });

  it("converts resources inside lists and other objects, and leaves the rest as it is", () => {
    const resource = { type: "t", id: "1", attributes: { a: 1 } };
    expect(plain({ version: resource, variants: [resource], ok: true })).toEqual({
      version: { id: "1", type: "t", a: 1 },
      variants: [{ id: "1", type: "t", a: 1 }],
      ok: true,
    });
    expect(plain({ token: "x" })).toEqual({ token: "x" });
  });
});

describe("selectFields", () => {
  it("keeps the named fields of an object or of each item, in the order asked", () => {
    expect(selectFields({ b: 1, a: 2, c: 3 }, ["c", "a"])).toEqual({ c: 3, a: 2 });
    expect(selectFields([{ a: 1 }, { a: 2, b: 3 }], ["b"])).toEqual([{}, { b: 3 }]);
    expect(selectFields([], ["anything"])).toEqual([]);
  });

  it("refuses a field no item has, listing the ones there are", () => {
    expect(() => selectFields([{ id: "1", name: "x" }], ["nmae"])).toThrow(
      expect.objectContaining({ message: "Unknown field for --json: nmae." }),
    );
  });
});
