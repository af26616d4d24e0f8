import { inspect } from "node:util";
import { describe, expect, it } from "vitest";
import { withReadLength } from "./length-headers.js";

/** Headers as fetch gives them: immutable. */
function fetched(init: HeadersInit): Headers {
  return new Response(null, { headers: init }).headers;
}

const served = (): [string, string][] => [
  ["x-rate-limit", "user-hour-lim:3500;user-hour-rem:3499;"],
  ["content-type", "application/json"],
  ["set-cookie", "a=1"],
  ["set-cookie", "b=2"],
];
/** What a copy of the served headers with the length read lists, in Headers' own order. */
const listed = [
  ["content-length", "42"],
  ["content-type", "application/json"],
  ["set-cookie", "a=1"],
  ["set-cookie", "b=2"],
  ["x-rate-limit", "user-hour-lim:3500;user-hour-rem:3499;"],
];

describe("withReadLength", () => {
  it("answers the length read and the response's own headers, in any case", () => {
    const headers = withReadLength(fetched(served()), 42);
    expect(headers).toBeInstanceOf(Headers);
    expect(headers.get("Content-Length")).toBe("42");
    expect(headers.get("content-type")).toBe("application/json");
    expect(headers.has("CONTENT-LENGTH")).toBe(true);
    expect(headers.has("x-rate-limit")).toBe(true);
    expect(headers.has("retry-after")).toBe(false);
    expect(headers.get("retry-after")).toBeNull();
  });

  it("replaces a declared length of 0", () => {
    const headers = withReadLength(fetched({ "content-length": "0", "x-a": "1" }), 42);
    expect(headers.get("content-length")).toBe("42");
    expect([...headers]).toEqual([
      ["content-length", "42"],
      ["x-a", "1"],
    ]);
  });

  it("copies nothing while only get is asked", () => {
    // Response headers never change; a mutable source shows that they are read through.
    const source = new Headers(served());
    const headers = withReadLength(source, 42);
    expect(headers.get("x-late")).toBeNull();
    source.set("x-late", "1");
    expect(headers.get("x-late")).toBe("1");
    expect([...headers]).toContainEqual(["x-late", "1"]);
    source.set("x-later", "1");
    expect(headers.get("x-later")).toBeNull();
  });

  it("lists, iterates and copies every header with the length", () => {
    const each = () => withReadLength(fetched(served()), 42);
    expect([...each()]).toEqual(listed);
    expect([...each().entries()]).toEqual(listed);
    expect([...each().keys()]).toEqual(listed.map(([name]) => name));
    expect([...each().values()]).toEqual(listed.map(([, value]) => value));
    const visited: string[][] = [];
    each().forEach((value, name) => visited.push([name, value]));
    expect(visited).toEqual(listed);
    expect(each().getSetCookie()).toEqual(["a=1", "b=2"]);
    expect([...new Headers(each())]).toEqual(listed);
    expect([...new Response(null, { headers: each() }).headers]).toEqual(listed);
    expect([...new Request("https://example.test", { headers: each() }).headers]).toEqual(listed);
    expect(Object.fromEntries(each())).toMatchObject({ "content-length": "42" });
    expect(inspect(each())).toContain("user-hour-lim:3500");
  });

  it("answers the runtime's own getters from the copy (Node.js 20's sorted list, Bun's count)", () => {
    for (const key of Reflect.ownKeys(Headers.prototype)) {
      const getter = Object.getOwnPropertyDescriptor(Headers.prototype, key)?.get;
      if (!getter) continue;
      const copy = new Headers(listed as [string, string][]);
      expect(Reflect.get(withReadLength(fetched(served()), 42), key)).toEqual(getter.call(copy));
    }
  });

  it("is a mutable copy: changes stay in it, the response's own headers are untouched", () => {
    const source = fetched(served());
    const headers = withReadLength(source, 42);
    headers.set("content-type", "text/plain");
    headers.append("x-b", "2");
    headers.delete("x-rate-limit");
    expect(headers.get("content-type")).toBe("text/plain");
    expect(headers.get("x-b")).toBe("2");
    expect(headers.has("x-rate-limit")).toBe(false);
    expect(headers.get("content-length")).toBe("42");
    expect(source.get("content-type")).toBe("application/json");
    expect(source.has("content-length")).toBe(false);
  });

  it("refuses a name that is not a header name, as Headers does", () => {
    const headers = withReadLength(fetched(served()), 42);
    expect(() => headers.get("not a name")).toThrow(TypeError);
    expect(() => headers.has("bad\nname")).toThrow(TypeError);
  });
});
