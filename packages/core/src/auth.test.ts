import { generateKeyPairSync } from "node:crypto";
import createClient from "openapi-fetch";
import { afterEach, describe, expect, it } from "vitest";
import {
  authMiddleware,
  authenticatedFetch,
  createTokenProvider,
  tokenProviderFrom,
} from "./index.js";
import type { paths } from "./index.js";
import { errorJson, keyResource, sendJson, startTestServer } from "./test-support/server.js";
import type { Handler } from "./test-support/server.js";

const pair = generateKeyPairSync("ec", { namedCurve: "P-256" });
const privateKey = pair.privateKey.export({ type: "pkcs8", format: "pem" }).toString();
const publicKeyPem = pair.publicKey.export({ type: "spki", format: "pem" }).toString();
const credentials = {
  keyId: "2X9R4HXF34",
  issuerId: "57246542-96fe-1a63-e053-0824d011072a",
  privateKey,
};
const body = {
  data: { type: "alternativeDistributionKeys" as const, attributes: { publicKey: "pem" } },
};

let stop: (() => Promise<void>) | undefined;
afterEach(async () => {
  await stop?.();
  stop = undefined;
});

/** Refuses the first token it sees with a 401, then answers 201. */
function refuseFirstToken(): Handler {
  let refused: string | undefined;
  return (request, response) => {
    if (refused === undefined) {
      refused = request.token;
      return sendJson(response, 401, errorJson(401, "NOT_AUTHORIZED", "expired"));
    }
    sendJson(response, 201, { data: keyResource("k1", "pem", ""), links: { self: "x" } });
  };
}

describe("authMiddleware, on an openapi-fetch client of one's own", () => {
  it("sets a verified token, and answers a 401 once with a fresh token and the same body", async () => {
    const server = await startTestServer(publicKeyPem, refuseFirstToken());
    stop = server.stop;
    const client = createClient<paths>({ baseUrl: server.url });
    client.use(authMiddleware(createTokenProvider(credentials)));
    const { response } = await client.POST("/v1/alternativeDistributionKeys", { body });
    expect(response.status).toBe(201);
    expect(server.seen).toHaveLength(2);
    expect(server.seen.every((request) => request.tokenError === undefined)).toBe(true);
    expect(server.seen[1]!.token).not.toBe(server.seen[0]!.token);
    expect(server.seen.map((request) => JSON.parse(request.body))).toEqual([body, body]);
  });

  it("does not resend with a fixed token that cannot change", async () => {
    const server = await startTestServer(publicKeyPem, refuseFirstToken());
    stop = server.stop;
    const client = createClient<paths>({ baseUrl: server.url });
    client.use(authMiddleware(tokenProviderFrom("fixed")));
    const { response } = await client.GET("/v1/alternativeDistributionKeys");
    expect(response.status).toBe(401);
    expect(server.seen).toHaveLength(1);
  });
});

describe("authenticatedFetch", () => {
  it("asks a token function again after a 401", async () => {
    const server = await startTestServer(publicKeyPem, refuseFirstToken());
    stop = server.stop;
    const tokens = createTokenProvider(credentials);
    let asked = 0;
    const send = authenticatedFetch(
      tokenProviderFrom(async () => {
        asked++;
        tokens.invalidate();
        return tokens.getToken();
      }),
    );
    const response = await send(
      new Request(`${server.url}/v1/alternativeDistributionKeys`, {
        method: "POST",
        body: JSON.stringify(body),
      }),
    );
    expect(response.status).toBe(201);
    expect(asked).toBe(2);
    expect(server.seen[1]!.body).toBe(JSON.stringify(body));
  });
});
