import { inspectKey, toPublicKeyPem } from "@asc-kit/pem";
import { ApiError, notFound, pageOf, parameterError, parseJsonBody, selfLink } from "../http.js";
import type { StoredDistributionKey } from "../state.js";
import type { ResourceContext, ResourceFamily } from "./context.js";
import { requireAccountApp } from "./validation.js";

/** A key as App Store Connect returns it. */
export function keyResource(context: ResourceContext, key: StoredDistributionKey) {
  return {
    type: "alternativeDistributionKeys",
    id: key.id,
    attributes: { publicKey: key.publicKey },
    links: { self: `${context.baseUrl}/v1/alternativeDistributionKeys/${key.id}` },
  };
}

/** One key with `links.self`, for GET by id and the app's related key. */
export function singleKey(context: ResourceContext, key: StoredDistributionKey, url: URL) {
  return {
    data: keyResource(context, key),
    links: { self: selfLink(url) },
  };
}

/** `/v1/alternativeDistributionKeys` and `/v1/alternativeDistributionKeys/{id}`. */
export const keyRoutes: ResourceFamily = (router, context) => {
  const { data } = context;
  const find = (id: string) => {
    const key = data.keys.find((candidate) => candidate.id === id);
    if (!key) throw notFound("alternativeDistributionKeys", id);
    return key;
  };

  router
    .on("GET", "/v1/alternativeDistributionKeys", ({ url }) => {
      // The excerpt declares no values for `exists[app]`: a boolean, as Apple documents.
      const existsApp = url.searchParams.get("exists[app]");
      if (existsApp !== null && existsApp !== "true" && existsApp !== "false") {
        throw parameterError(
          "exists[app]",
          `'${existsApp}' is not a valid value for 'exists[app]'; use true or false.`,
        );
      }
      const matching = data.keys.filter(
        (key) => existsApp === null || (existsApp === "true") === (key.appId !== undefined),
      );
      return [200, pageOf(url, matching, (key) => keyResource(context, key))];
    })
    .on("POST", "/v1/alternativeDistributionKeys", async ({ body }) => {
      const { publicKey, appId } = await readCreateRequest(context, body);
      const existing = data.keys.find((key) => key.appId === appId);
      if (existing) {
        throw new ApiError(
          409,
          "ENTITY_ERROR.ALREADY_EXISTS",
          "The resource already exists.",
          appId
            ? `The app ${appId} already has an alternative distribution key (${existing.id}).`
            : `The account already has an alternative distribution key (${existing.id}).`,
        );
      }
      const key: StoredDistributionKey = {
        id: crypto.randomUUID(),
        publicKey,
        ...(appId ? { appId } : {}),
      };
      await context.insert(data.keys, key);
      const self = `${context.baseUrl}/v1/alternativeDistributionKeys/${key.id}`;
      return [201, { data: keyResource(context, key), links: { self } }];
    })
    .on("GET", "/v1/alternativeDistributionKeys/{id}", ({ url, params }) => [
      200,
      singleKey(context, find(params.id!), url),
    ])
    .on("DELETE", "/v1/alternativeDistributionKeys/{id}", async ({ params }) => {
      const key = find(params.id!);
      await context.remove(data.keys, key);
      return [204];
    });
};

async function readCreateRequest(context: ResourceContext, body: string) {
  const document = parseJsonBody(body);
  const resourceData = (document as { data?: unknown } | null)?.data as
    Record<string, unknown> | undefined;
  if (typeof resourceData !== "object" || resourceData === null) {
    throw new ApiError(
      422,
      "ENTITY_ERROR.ATTRIBUTE.REQUIRED",
      "A required value is missing.",
      "The request body must have a data object.",
      { pointer: "/data" },
    );
  }
  if (resourceData.type !== "alternativeDistributionKeys") {
    throw new ApiError(
      400,
      "ENTITY_ERROR.TYPE.INVALID",
      "The resource type is not valid.",
      `The type '${String(resourceData.type).slice(0, 100)}' is not 'alternativeDistributionKeys'.`,
      { pointer: "/data/type" },
    );
  }
  const attributes = resourceData.attributes as { publicKey?: unknown } | undefined;
  if (typeof attributes?.publicKey !== "string") {
    throw new ApiError(
      422,
      "ENTITY_ERROR.ATTRIBUTE.REQUIRED",
      "A required attribute is missing.",
      "publicKey is required.",
      { pointer: "/data/attributes/publicKey" },
    );
  }
  const publicKey = await acceptPublicKey(attributes.publicKey);
  if (resourceData.relationships === undefined) return { publicKey, appId: undefined };
  const app = (
    resourceData.relationships as { app?: { data?: { type?: unknown; id?: unknown } } } | null
  )?.app?.data;
  if (app?.type !== "apps" || typeof app.id !== "string") {
    throw new ApiError(
      400,
      "ENTITY_ERROR.RELATIONSHIP.INVALID",
      "The relationship is not valid.",
      "relationships.app.data must be { type: 'apps', id }.",
      { pointer: "/data/relationships/app/data" },
    );
  }
  requireAccountApp(context.data.apps, app.id);
  return { publicKey, appId: app.id };
}

const pemPublicKey = /^\s*-----BEGIN PUBLIC KEY-----([\s\S]*?)-----END PUBLIC KEY-----\s*$/;
/** An uncompressed P-256 SubjectPublicKeyInfo is 91 bytes of DER. */
const uncompressedSpkiBytes = 91;

/**
 * What App Store Connect takes: an EC P-256 public key as SPKI PEM, on one line or several (as
 * Apple's own sample has it), with an uncompressed point. Bare base64, base64 of a whole PEM,
 * a private key and a compressed point are refused, although @asc-kit/pem reads them all.
 */
async function acceptPublicKey(value: string): Promise<string> {
  const invalid = (detail: string) =>
    new ApiError(422, "ENTITY_ERROR.ATTRIBUTE.INVALID", "An attribute value is invalid.", detail, {
      pointer: "/data/attributes/publicKey",
    });
  const body = pemPublicKey.exec(value.replace(/\\n/g, "\n"))?.[1];
  if (body === undefined) {
    throw invalid(
      "publicKey must be a public key as PEM SubjectPublicKeyInfo, from '-----BEGIN PUBLIC KEY-----' to '-----END PUBLIC KEY-----'.",
    );
  }
  const base64 = body.replace(/\s/g, "");
  const bytes = Math.floor((base64.length * 3) / 4) - (base64.match(/=+$/)?.[0].length ?? 0);
  try {
    const info = await inspectKey(value);
    if (info.type !== "EC" || info.curve !== "P-256")
      throw invalid("publicKey must be an EC key on P-256.");
    if (bytes !== uncompressedSpkiBytes)
      throw invalid("publicKey must have an uncompressed point (91 bytes of DER).");
    return await toPublicKeyPem(value);
  } catch (error) {
    if (error instanceof ApiError) throw error;
    throw invalid(`publicKey is not a valid public key: ${(error as Error).message}`);
  }
}
