import { describe, expect, it } from "vitest";
import {
  accountTokens,
  compareVersions,
  marketplaceKitConfiguration,
  versionRecordOf,
} from "./index.js";

const restore = "https://apps.example.com/restore";
const updatesUrl = "https://apps.example.com/updates";

describe("marketplaceKitConfiguration", () => {
  it("refuses a polling interval under 24 hours, or one given in seconds", () => {
    for (const pollingInterval of [0, 12, 23, 43_200, 1.5, Number.NaN]) {
      expect(() => marketplaceKitConfiguration({ restore, updatesUrl, pollingInterval })).toThrow(
        /pollingInterval is in hours, from 24/,
      );
    }
    expect(marketplaceKitConfiguration({ restore, updatesUrl }).updates.pollingInterval).toBe(24);
  });

  it("takes https URLs, and http on loopback only", () => {
    for (const bad of [
      "http://apps.example.com/restore",
      "/restore",
      "ftp://x/",
      "https://u:p@x/",
    ]) {
      expect(() => marketplaceKitConfiguration({ restore: bad, updatesUrl })).toThrow(TypeError);
    }
    expect(
      marketplaceKitConfiguration({ restore: "http://127.0.0.1:8080/r", updatesUrl }).restore,
    ).toBe("http://127.0.0.1:8080/r");
  });

  it("writes overrides whole, and every license URL but the resolution page is required", () => {
    const license = {
      dynamicLicenseURL: "https://l.example.com/dynamic",
      licenseRenewalURL: "https://l.example.com/renew",
      signingCertificateURL: "https://l.example.com/signing.cer",
      encryptionCertificateURL: "https://l.example.com/encryption.cer",
    };
    const configuration = marketplaceKitConfiguration({
      restore,
      updatesUrl,
      license,
      overridesByAppleItemID: { "6476788026": { pollingInterval: 72 } },
    });
    expect(configuration.overridesByAppleItemID).toEqual({
      "6476788026": { restore, updates: { url: updatesUrl, pollingInterval: 72 }, license },
    });
    const { signingCertificateURL: _, ...partial } = license;
    expect(() =>
      marketplaceKitConfiguration({ restore, updatesUrl, license: partial as typeof license }),
    ).toThrow(/license\.signingCertificateURL/);
    expect(() =>
      marketplaceKitConfiguration({ restore, updatesUrl, overridesByAppleItemID: { app: {} } }),
    ).toThrow(/Apple IDs/);
  });
});

describe("compareVersions", () => {
  it("compares number by number", () => {
    expect(compareVersions("17.4", "17.10")).toBe(-1);
    expect(compareVersions("18", "17.4.1")).toBe(1);
    expect(compareVersions("1.0", "1")).toBe(0);
    expect(compareVersions("1.0.14", "1.0.9")).toBe(1);
  });
});

describe("versionRecordOf", () => {
  const manifest = (overrides: Record<string, unknown> = {}) =>
    JSON.stringify({
      appleItemId: "6476788026",
      appleVersionId: "2000004563",
      bundleId: "com.example.app",
      shortVersionString: "1.0.14",
      bundleVersion: "14",
      platforms: ["iOS"],
      minimumSystemVersions: { iOS: "17.4" },
      variants: [],
      ...overrides,
    });

  it("reads the ids, versions and platforms, and ends the base URL with a slash", () => {
    expect(versionRecordOf(manifest(), "https://apps.example.com/p/1")).toEqual({
      appleItemId: "6476788026",
      appleVersionId: "2000004563",
      bundleId: "com.example.app",
      shortVersionString: "1.0.14",
      bundleVersion: "14",
      platforms: ["iOS"],
      minimumSystemVersions: { iOS: "17.4" },
      packageUrl: "https://apps.example.com/p/1/",
    });
  });

  it("refuses ids Apple does not send, and a base URL a device would not fetch", () => {
    expect(() =>
      versionRecordOf(manifest({ appleVersionId: "6476788026-1.0" }), "https://a/"),
    ).toThrow(/appleVersionId must be an Apple ID/);
    expect(() => versionRecordOf(manifest({ platforms: "iOS" }), "https://a/")).toThrow(
      /platforms/,
    );
    expect(() => versionRecordOf(manifest(), "http://apps.example.com/p/")).toThrow(/https/);
  });
});

describe("accountTokens", () => {
  const secret = new Uint8Array(32).fill(7);
  const request = (authorization?: string) =>
    new Request("https://a/", authorization === undefined ? {} : { headers: { authorization } });

  it("authenticates its own tokens; no header is missing, anything else invalid", async () => {
    const tokens = accountTokens(secret);
    const token = await tokens.issue("alice@example.com", 60);
    expect(await tokens.authenticate(request(`Bearer ${token}`))).toEqual({
      account: "alice@example.com",
    });
    expect(await tokens.authenticate(request())).toBe("missing");
    for (const header of [
      token,
      `Bearer ${token}, Bearer ${token}`,
      `Bearer ${token.slice(0, -2)}xx`,
      `Bearer ${await accountTokens(new Uint8Array(32).fill(8)).issue("alice@example.com")}`,
      "Basic YWxpY2U6cGFzc3dvcmQ=",
    ]) {
      expect(await tokens.authenticate(request(header))).toBe("invalid");
    }
    expect(() => accountTokens(new Uint8Array(8))).toThrow(TypeError);
  });

  it("refuses an expired token", async () => {
    const tokens = accountTokens(secret);
    const token = await tokens.issue("alice", 1);
    await new Promise((resolve) => setTimeout(resolve, 2_100));
    expect(await tokens.authenticate(request(`Bearer ${token}`))).toBe("invalid");
  });
});
