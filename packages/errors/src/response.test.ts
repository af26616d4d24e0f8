import { describe, expect, it } from "vitest";
import {
  AppStoreConnectError,
  errorFromBody,
  hasErrorCode,
  toAppStoreConnectError,
} from "./index.js";

const keysUrl = "https://api.appstoreconnect.apple.com/v1/alternativeDistributionKeys";

function errorBody(...errors: object[]): string {
  return JSON.stringify({ errors });
}

async function convert(
  status: number,
  body: string,
  options: { method?: string; url?: string; headers?: Record<string, string> } = {},
): Promise<AppStoreConnectError> {
  const response = new Response(body, {
    status,
    headers: { "content-type": "application/json", ...options.headers },
  });
  const request = new Request(options.url ?? keysUrl, { method: options.method ?? "GET" });
  return toAppStoreConnectError(response, request);
}

describe("toAppStoreConnectError with ErrorResponse bodies", () => {
  const cases: Array<{
    name: string;
    status: number;
    method?: string;
    url?: string;
    body: string;
    headers?: Record<string, string>;
    kind: AppStoreConnectError["kind"];
    code: string;
    message: string;
    hint: RegExp | undefined;
  }> = [
    {
      name: "400 with a parameter source",
      status: 400,
      body: errorBody({
        status: "400",
        code: "PARAMETER_ERROR.INVALID",
        title: "A parameter has an invalid value",
        detail: "'500' is not a valid value for 'limit'; the maximum is 200",
        source: { parameter: "limit" },
      }),
      kind: "bad-request",
      code: "PARAMETER_ERROR.INVALID",
      message:
        "GET /v1/alternativeDistributionKeys: 400 PARAMETER_ERROR.INVALID: '500' is not a valid value for 'limit'; the maximum is 200 (parameter limit)",
      hint: undefined,
    },
    {
      name: "401",
      status: 401,
      body: errorBody({
        status: "401",
        code: "NOT_AUTHORIZED",
        title: "Authentication credentials are missing or invalid.",
        detail:
          "Provide a properly configured and signed bearer token, and make sure that it has not expired.",
      }),
      kind: "unauthorized",
      code: "NOT_AUTHORIZED",
      message:
        "GET /v1/alternativeDistributionKeys: 401 NOT_AUTHORIZED: Provide a properly configured and signed bearer token, and make sure that it has not expired.",
      hint: /clock is off .* longer than 20 minutes .* key ID or issuer ID .* revoked/,
    },
    {
      name: "403",
      status: 403,
      method: "DELETE",
      url: `${keysUrl}/52c5cb04-1163-4a30-ad4f-a3433cd6a4f6`,
      body: errorBody({
        status: "403",
        code: "FORBIDDEN_ERROR",
        title: "This request is forbidden for security reasons",
        detail: "The API key in use does not allow this request",
      }),
      kind: "forbidden",
      code: "FORBIDDEN_ERROR",
      message:
        "DELETE /v1/alternativeDistributionKeys/52c5cb04-1163-4a30-ad4f-a3433cd6a4f6: 403 FORBIDDEN_ERROR: The API key in use does not allow this request",
      hint: /role does not allow this operation/,
    },
    {
      name: "404 with detail missing",
      status: 404,
      url: `${keysUrl}/nope`,
      body: errorBody({
        status: "404",
        code: "NOT_FOUND",
        title: "The specified resource does not exist",
      }),
      kind: "not-found",
      code: "NOT_FOUND",
      message:
        "GET /v1/alternativeDistributionKeys/nope: 404 NOT_FOUND: The specified resource does not exist",
      hint: /No resource has this id/,
    },
    {
      name: "409 on creating a key",
      status: 409,
      method: "POST",
      body: errorBody({
        id: "b1c2",
        status: "409",
        code: "ENTITY_ERROR.RELATIONSHIP.INVALID",
        title: "The provided entity includes a relationship with an invalid value",
        detail: "An alternative distribution key already exists for this account",
      }),
      kind: "conflict",
      code: "ENTITY_ERROR.RELATIONSHIP.INVALID",
      message:
        "POST /v1/alternativeDistributionKeys: 409 ENTITY_ERROR.RELATIONSHIP.INVALID: An alternative distribution key already exists for this account",
      hint: /already exists for the account, or for that app\. Remove the existing key first, or add an app-specific key/,
    },
    {
      name: "422 pointing at the public key, with two more errors",
      status: 422,
      method: "POST",
      body: errorBody(
        {
          status: "422",
          code: "ENTITY_ERROR.ATTRIBUTE.INVALID",
          title: "An attribute value is invalid.",
          detail: "The public key is not a valid EC P-256 key",
          source: { pointer: "/data/attributes/publicKey" },
        },
        {
          status: "422",
          code: "ENTITY_ERROR.ATTRIBUTE.REQUIRED",
          title: "An attribute is required",
          detail: "x",
        },
        { status: "422", code: "ENTITY_ERROR", title: "Another", detail: "y" },
      ),
      kind: "unprocessable",
      code: "ENTITY_ERROR.ATTRIBUTE.INVALID",
      message:
        "POST /v1/alternativeDistributionKeys: 422 ENTITY_ERROR.ATTRIBUTE.INVALID: The public key is not a valid EC P-256 key (at /data/attributes/publicKey) and 2 more errors",
      hint: /Check it offline with @asc-kit\/pem/,
    },
    {
      name: "429 with the budget and Retry-After",
      status: 429,
      body: errorBody({
        status: "429",
        code: "RATE_LIMIT_EXCEEDED",
        title: "The request rate limit has been reached.",
        detail:
          "We've received too many requests for this API. Please wait and try again or slow down your request rate.",
      }),
      headers: { "x-rate-limit": "user-hour-lim:3500;user-hour-rem:0;", "retry-after": "30" },
      kind: "rate-limited",
      code: "RATE_LIMIT_EXCEEDED",
      message:
        "GET /v1/alternativeDistributionKeys: 429 RATE_LIMIT_EXCEEDED: We've received too many requests for this API. Please wait and try again or slow down your request rate.",
      hint: /^The key's request budget is spent \(user-hour: 0 of 3500 left\)\. Retry after 30 s\.$/,
    },
    {
      name: "503 with an ErrorResponse",
      status: 503,
      body: errorBody({
        status: "503",
        code: "SERVICE_UNAVAILABLE",
        title: "Service Unavailable",
        detail: "Try again later",
      }),
      kind: "server",
      code: "SERVICE_UNAVAILABLE",
      message: "GET /v1/alternativeDistributionKeys: 503 SERVICE_UNAVAILABLE: Try again later",
      hint: /outcome is unknown, so read the state back/,
    },
  ];

  it.each(cases)("$name", async (testCase) => {
    const error = await convert(testCase.status, testCase.body, testCase);
    expect(error).toBeInstanceOf(AppStoreConnectError);
    expect(error.name).toBe("AppStoreConnectError");
    expect(error.status).toBe(testCase.status);
    expect(error.kind).toBe(testCase.kind);
    expect(error.code).toBe(testCase.code);
    expect(error.message).toBe(testCase.message);
    if (testCase.hint) expect(error.hint).toMatch(testCase.hint);
    else expect(error.hint).toBeUndefined();
    expect(error.errors.length).toBe(JSON.parse(testCase.body).errors.length);
  });

  it("keeps every field of the items, and leaves detail out when it was missing", async () => {
    const error = await convert(
      409,
      errorBody({
        id: "abc",
        status: "409",
        code: "STATE_ERROR",
        title: "t",
        source: { pointer: "/data" },
        links: {
          about: "https://developer.apple.com/x",
          associated: { href: "/v1/x", meta: { source: "y" } },
        },
        meta: { associatedErrors: {} },
      }),
    );
    expect(error.errors).toEqual([
      {
        id: "abc",
        status: "409",
        code: "STATE_ERROR",
        title: "t",
        source: { pointer: "/data" },
        links: {
          about: "https://developer.apple.com/x",
          associated: { href: "/v1/x", meta: { source: "y" } },
        },
        meta: { associatedErrors: {} },
      },
    ]);
    expect(error.errors[0]).not.toHaveProperty("detail");
  });

  it("reads the rate limit on any error", async () => {
    const error = await convert(
      404,
      errorBody({ code: "NOT_FOUND", status: "404", title: "t", detail: "d" }),
      {
        headers: { "x-rate-limit": "user-hour-lim:3500;user-hour-rem:499;" },
      },
    );
    expect(error.rateLimit).toEqual({ "user-hour": { limit: 3500, remaining: 499 } });
  });
});

describe("toAppStoreConnectError with bodies that are not an ErrorResponse", () => {
  const appleTypographicSample = `{
  “data” : {
    “type” : “alternativeDistributionKeys”,
    “id” : “52c5cb04-1163-65ar-36aa-a3433cd6a4f6”
  }
}`;
  const cases: Array<[string, number, string, string]> = [
    [
      "an HTML page from a proxy",
      502,
      "<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center></body></html>",
      "GET /v1/alternativeDistributionKeys: 502 HTTP_502: 502 Bad Gateway 502 Bad Gateway",
    ],
    ["an empty body", 500, "", "GET /v1/alternativeDistributionKeys: 500 HTTP_500"],
    [
      "truncated JSON",
      503,
      '{"errors":[{"status":"503","code":"UNAVAI',
      'GET /v1/alternativeDistributionKeys: 503 HTTP_503: {"errors":[{"status":"503","code":"UNAVAI',
    ],
    [
      "JSON that is not an ErrorResponse",
      400,
      '{"message":"nope"}',
      'GET /v1/alternativeDistributionKeys: 400 HTTP_400: {"message":"nope"}',
    ],
    ["a JSON array", 400, "[1,2]", "GET /v1/alternativeDistributionKeys: 400 HTTP_400: [1,2]"],
    [
      "Apple's sample with typographic quotes",
      409,
      appleTypographicSample,
      "GET /v1/alternativeDistributionKeys: 409 HTTP_409: { “data” : { “type” : “alternativeDistributionKeys”, “id” : “52c5cb04-1163-65ar-36aa-a3433cd6a4f6” } }",
    ],
  ];
  it.each(cases)("%s", async (_name, status, body, message) => {
    const error = await convert(status, body);
    expect(error.status).toBe(status);
    expect(error.code).toBe(`HTTP_${status}`);
    expect(error.errors).toEqual([]);
    expect(error.message).toBe(message);
  });

  it("bounds the excerpt of a large body", async () => {
    const error = await convert(500, "x".repeat(100_000));
    expect(error.bodyExcerpt).toHaveLength(201);
    expect(error.message.length).toBeLessThan(300);
  });

  it("gives a code to items that lack one", async () => {
    const error = await convert(400, '{"errors":[{"title":"no code"}, 7, null]}');
    expect(error.errors).toEqual([{ code: "HTTP_400", title: "no code" }]);
  });

  it("survives a body that was already read and a body stream that fails", async () => {
    const used = new Response("{}", { status: 500 });
    await used.text();
    expect((await toAppStoreConnectError(used)).code).toBe("HTTP_500");
    const failing = new Response(
      new ReadableStream({
        pull(controller) {
          controller.error(new TypeError("terminated"));
        },
      }),
      { status: 502 },
    );
    expect((await toAppStoreConnectError(failing)).message).toBe("502 HTTP_502");
  });
});

describe("hasErrorCode", () => {
  it("matches dotted prefixes on any item", async () => {
    const error = await convert(
      422,
      errorBody(
        { code: "PARAMETER_ERROR.INVALID", status: "422", title: "t", detail: "d" },
        { code: "ENTITY_ERROR.ATTRIBUTE.INVALID", status: "422", title: "t", detail: "d" },
      ),
    );
    expect(hasErrorCode(error, "ENTITY_ERROR")).toBe(true);
    expect(hasErrorCode(error, "ENTITY_ERROR.ATTRIBUTE")).toBe(true);
    expect(hasErrorCode(error, "ENTITY_ERROR.ATTRIBUTE.INVALID")).toBe(true);
    expect(hasErrorCode(error, "ENTITY_ERRORS")).toBe(false);
    expect(hasErrorCode(error, "ENTITY")).toBe(false);
    expect(hasErrorCode(error, "PARAMETER_ERROR")).toBe(true);
  });

  it("matches synthetic codes and refuses other values", async () => {
    expect(hasErrorCode(await convert(502, "<html/>"), "HTTP_502")).toBe(true);
    expect(hasErrorCode(new Error("ENTITY_ERROR"), "ENTITY_ERROR")).toBe(false);
    expect(hasErrorCode(undefined, "ENTITY_ERROR")).toBe(false);
    expect(() => hasErrorCode(undefined, "")).toThrow(TypeError);
  });
});

describe("errorFromBody", () => {
  it("takes the value openapi-fetch parsed", () => {
    const error = errorFromBody(
      { errors: [{ code: "NOT_FOUND", status: "404", title: "Not found", detail: "No such key" }] },
      {
        status: 404,
        method: "get",
        url: `${keysUrl}/x`,
        headers: new Headers({ "x-rate-limit": "user-hour-lim:10;user-hour-rem:9" }),
      },
    );
    expect(error.message).toBe("GET /v1/alternativeDistributionKeys/x: 404 NOT_FOUND: No such key");
    expect(error.rateLimit).toEqual({ "user-hour": { limit: 10, remaining: 9 } });
  });

  it("tells a path App Store Connect does not know from an id it does not have", () => {
    const unknownPath = errorFromBody(
      {
        errors: [
          {
            code: "NOT_FOUND",
            status: "404",
            title: "The specified resource does not exist",
            detail: "The path provided does not match a defined resource type.",
          },
        ],
      },
      { status: 404, method: "get", url: "https://api.appstoreconnect.apple.com/v1/widgets" },
    );
    expect(unknownPath.hint).toMatch(/^App Store Connect does not know this path: check baseUrl/);
    const unknownId = errorFromBody(
      { errors: [{ code: "NOT_FOUND", status: "404", title: "Not found", detail: "No such key" }] },
      { status: 404, method: "get", url: `${keysUrl}/x` },
    );
    expect(unknownId.hint).toMatch(/^No resource has this id/);
  });

  it("takes text and values that are not an ErrorResponse", () => {
    expect(errorFromBody("<html>Bad gateway</html>", { status: 502 }).message).toBe(
      "502 HTTP_502: Bad gateway",
    );
    expect(errorFromBody({ unexpected: true }, { status: 500 }).bodyExcerpt).toBe(
      '{"unexpected":true}',
    );
    expect(errorFromBody(undefined, { status: 500 }).message).toBe("500 HTTP_500");
  });
});

describe("network failures", () => {
  it("have kind network, status 0 and a hint about unknown outcomes", () => {
    const error = new AppStoreConnectError({
      status: 0,
      code: "TIMEOUT",
      detail: "no response within 30000 ms",
      method: "POST",
      url: keysUrl,
    });
    expect(error.kind).toBe("network");
    expect(error.code).toBe("TIMEOUT");
    expect(error.message).toBe(
      "POST /v1/alternativeDistributionKeys: TIMEOUT: no response within 30000 ms",
    );
    expect(error.hint).toMatch(/outcome is unknown, so read the state back/);
    expect(new AppStoreConnectError({ status: 0 }).code).toBe("NETWORK_ERROR");
  });
});
