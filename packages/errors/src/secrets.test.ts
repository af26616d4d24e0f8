import { inspect } from "node:util";
import createClient from "openapi-fetch";
import { describe, expect, it } from "vitest";
import {
  AppStoreConnectError,
  errorFromBody,
  redact,
  throwOnError,
  toAppStoreConnectError,
} from "./index.js";

const token =
  "eyJhbGciOiJFUzI1NiIsImtpZCI6IjJYOVI0SFhGMzQiLCJ0eXAiOiJKV1QifQ.eyJpc3MiOiI1N2Y2ZWRhMC0wMDAwIiwiYXVkIjoiYXBwc3RvcmVjb25uZWN0LXYxIn0.c2lnbmF0dXJlc2lnbmF0dXJlc2lnbmF0dXJl";
const keyBody = "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg";

function everythingSaid(error: AppStoreConnectError): string {
  return [
    error.message,
    error.stack ?? "",
    JSON.stringify(error),
    String(error.hint),
    String(error.bodyExcerpt),
    inspect(error, { depth: 20 }),
  ].join("\n");
}

describe("secrets", () => {
  it("never put the Authorization header or a token into the error", async () => {
    const request = new Request(
      "https://api.appstoreconnect.apple.com/v1/alternativeDistributionKeys",
      {
        method: "POST",
        headers: { Authorization: `Bearer ${token}` },
      },
    );
    const bodies = [
      // A proxy that echoes the request headers back.
      `<html><body>Unauthorized: Authorization: Bearer ${token}</body></html>`,
      JSON.stringify({
        errors: [
          { code: "NOT_AUTHORIZED", status: "401", title: "t", detail: `token ${token} expired` },
        ],
      }),
      `{"errors": [{"detail": "-----BEGIN PRIVATE KEY-----\\n${keyBody}\\n-----END PRIVATE KEY-----"}]`,
      `-----BEGIN PRIVATE KEY-----\n${keyBody}`,
    ];
    for (const body of bodies) {
      const error = await toAppStoreConnectError(new Response(body, { status: 401 }), request);
      const said = everythingSaid(error);
      expect(said).not.toContain(token);
      expect(said).not.toContain(token.split(".")[1]);
      expect(said).not.toContain(keyBody);
      expect(error.url).toBe(
        "https://api.appstoreconnect.apple.com/v1/alternativeDistributionKeys",
      );
    }
  });

  it("scrubs every field of every item: code, source, links and meta at any depth", () => {
    const pem = `-----BEGIN PRIVATE KEY-----\n${keyBody}\n-----END PRIVATE KEY-----`;
    const body = {
      errors: [
        {
          code: `Bearer ${token}`,
          status: "400",
          title: "t",
          detail: "d",
          source: { parameter: token },
          links: { about: `https://x.test/?jwt=${token}`, associated: { href: token } },
          meta: { echoed: { headers: [{ authorization: `Bearer ${token}` }], key: pem } },
        },
        { code: "X", status: "400", title: "t", detail: "d", source: { pointer: pem } },
      ],
    };
    for (const error of [
      errorFromBody(body, { status: 400 }),
      errorFromBody(JSON.stringify(body), { status: 400 }),
      new AppStoreConnectError({ status: 400, errors: body.errors as never }),
    ]) {
      const said = everythingSaid(error);
      expect(said).not.toContain(token.split(".")[1]);
      expect(said).not.toContain(keyBody);
      expect(error.errors[0]!.meta).toEqual({
        echoed: { headers: [{ authorization: "Bearer [redacted token]" }], key: "[redacted key]" },
      });
    }
  });

  it("redacts a base64 DER private key without its PEM lines, but not a public key", () => {
    const pkcs8 = "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgufB1j7u7Ip9dZ3kr";
    const sec1 = "MHcCAQEEILnwdY+7uyKfXWd5Kw7mXMaHyGCMvCkbglIXcAStdte0oAoGCCqGSM49";
    const spki = "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEZoOCtS6YDeZuvN2r4tYbUuDApR";
    expect(redact(`key=${pkcs8}, other=${sec1}; public ${spki}`)).toBe(
      `key=[redacted key], other=[redacted key]; public ${spki}`,
    );
  });

  it("refuses nothing but says nothing of a network error's detail that holds the token", () => {
    const error = new AppStoreConnectError({
      status: 0,
      code: "NETWORK_ERROR",
      detail: `Headers.set: "Bearer ${token}\n" is an invalid header value.`,
    });
    expect(everythingSaid(error)).not.toContain(token.split(".")[1]);
  });

  it("drops user info from a URL", () => {
    const error = new AppStoreConnectError({
      status: 500,
      method: "get",
      url: "https://user:pass@example.test/v1/x?limit=1",
    });
    expect(error.url).toBe("https://example.test/v1/x?limit=1");
    expect(everythingSaid(error)).not.toContain("pass");
    expect(error.message).toBe("GET /v1/x: 500 HTTP_500");
  });
});

describe("throwOnError", () => {
  it("turns an openapi-fetch error result into a thrown AppStoreConnectError", async () => {
    const fetch = async (request: Request) => {
      expect(request.headers.get("authorization")).toBe(`Bearer ${token}`);
      return new Response(
        JSON.stringify({
          errors: [{ code: "NOT_FOUND", status: "404", title: "Not found", detail: "No such key" }],
        }),
        {
          status: 404,
          headers: { "content-type": "application/json" },
        },
      );
    };
    const client = createClient<Record<string, never>>({
      baseUrl: "https://api.appstoreconnect.apple.com",
      fetch,
      headers: { Authorization: `Bearer ${token}` },
    });
    client.use(throwOnError);
    const thrown = await (client as unknown as { GET(path: string): Promise<unknown> })
      .GET("/v1/alternativeDistributionKeys/x")
      .then(
        () => undefined,
        (error: unknown) => error,
      );
    expect(thrown).toBeInstanceOf(AppStoreConnectError);
    const error = thrown as AppStoreConnectError;
    expect(error.message).toBe("GET /v1/alternativeDistributionKeys/x: 404 NOT_FOUND: No such key");
    expect(everythingSaid(error)).not.toContain(token);
  });

  it("lets successful responses through", async () => {
    const client = createClient<Record<string, never>>({
      baseUrl: "https://example.test",
      fetch: async () =>
        new Response('{"data":[]}', {
          status: 200,
          headers: { "content-type": "application/json" },
        }),
    });
    client.use(throwOnError);
    const result = await (
      client as unknown as { GET(path: string): Promise<{ data: unknown }> }
    ).GET("/v1/x");
    expect(result.data).toEqual({ data: [] });
  });
});
