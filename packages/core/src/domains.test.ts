import { describe, expect, it } from "vitest";
import {
  addAlternativeDistributionDomain,
  createAppStoreConnectClient,
  normalizeDomainName,
} from "./index.js";

describe("normalizeDomainName", () => {
  it.each([
    ["downloads.example.com", "downloads.example.com"],
    ["  Downloads.Example.COM. ", "downloads.example.com"],
    ["a-b.example.co.uk", "a-b.example.co.uk"],
  ])("accepts %j", (input, expected) => {
    expect(normalizeDomainName(input)).toBe(expected);
  });

  it.each([
    ["https://example.com", /host name alone/],
    ["example.com:443", /host name alone/],
    ["example.com/path", /host name alone/],
    ["localhost", /not a valid domain name/],
    ["-bad.example.com", /not a valid domain name/],
    ["exa mple.com", /not a valid domain name/],
    ["192.168.0.1", /not a valid domain name/],
    [`${"a".repeat(64)}.com`, /not a valid domain name/],
  ])("refuses %j", (input, message) => {
    expect(() => normalizeDomainName(input)).toThrow(message);
  });

  it("is checked before any request", async () => {
    let requests = 0;
    const client = createAppStoreConnectClient({
      token: "t",
      fetch: async () => {
        requests++;
        return new Response(null, { status: 500 });
      },
    });
    await expect(
      addAlternativeDistributionDomain(client, { domain: "nope", referenceName: "x" }),
    ).rejects.toThrow(TypeError);
    await expect(
      addAlternativeDistributionDomain(client, { domain: "ok.example.com", referenceName: " " }),
    ).rejects.toThrow(/referenceName/);
    expect(requests).toBe(0);
  });
});
