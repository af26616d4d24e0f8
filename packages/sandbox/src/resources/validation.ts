import { ApiError, parseJsonBody } from "../http.js";

/**
 * Reading a JSON:API request document as App Store Connect does: 400 for the wrong `type`,
 * 422 for a missing or invalid attribute or relationship, each naming its pointer.
 */
export function readDocument(body: string, type: string): Record<string, unknown> {
  const document = parseJsonBody(body) as { data?: Record<string, unknown> } | null;
  if (typeof document?.data !== "object" || document.data === null || document.data.type !== type) {
    throw new ApiError(
      400,
      "ENTITY_ERROR.TYPE.INVALID",
      "The resource type is not valid.",
      `The type must be '${type}'.`,
      { pointer: "/data/type" },
    );
  }
  return document.data;
}

export function attributesOf(data: Record<string, unknown>): Record<string, unknown> {
  const attributes = data.attributes ?? {};
  if (typeof attributes !== "object" || attributes === null || Array.isArray(attributes)) {
    throw invalidAttribute("attributes", "attributes must be an object.");
  }
  return attributes as Record<string, unknown>;
}

/** The id of a to-one relationship `name` of `type`, or a 422 naming it. */
export function relatedId(data: Record<string, unknown>, name: string, type: string): string {
  const related = (
    data.relationships as Record<string, { data?: { type?: unknown; id?: unknown } }>
  )?.[name]?.data;
  if (related?.type !== type || typeof related.id !== "string" || related.id === "") {
    throw new ApiError(
      422,
      "ENTITY_ERROR.RELATIONSHIP.REQUIRED",
      "A required relationship is missing.",
      `relationships.${name}.data must be { type: '${type}', id }.`,
      { pointer: `/data/relationships/${name}` },
    );
  }
  return related.id;
}

export function requiredAttribute(attributes: Record<string, unknown>, name: string): void {
  if (attributes[name] === undefined || attributes[name] === null) {
    throw new ApiError(
      422,
      "ENTITY_ERROR.ATTRIBUTE.REQUIRED",
      "A required attribute is missing.",
      `${name} is required.`,
      { pointer: `/data/attributes/${name}` },
    );
  }
}

export function invalidAttribute(name: string, detail: string): ApiError {
  return new ApiError(
    422,
    "ENTITY_ERROR.ATTRIBUTE.INVALID",
    "An attribute value is invalid.",
    detail,
    {
      pointer: name === "attributes" ? "/data/attributes" : `/data/attributes/${name}`,
    },
  );
}

/** A string attribute (1 to `max` characters) when present. */
export function textAttribute(
  attributes: Record<string, unknown>,
  name: string,
  max = 1000,
): string | undefined {
  const value = attributes[name];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "string" || value === "" || value.length > max) {
    throw invalidAttribute(name, `${name} must be a string of 1 to ${max} characters.`);
  }
  return value;
}

/** An http(s) URL attribute when present; `https` required unless the host is loopback. */
export function urlAttribute(
  attributes: Record<string, unknown>,
  name: string,
  isLoopback: (url: string) => boolean,
): string | undefined {
  const value = textAttribute(attributes, name, 2000);
  if (value === undefined) return undefined;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw invalidAttribute(name, `${name} must be an absolute URL, not '${value.slice(0, 100)}'.`);
  }
  if (url.protocol !== "https:" && !(url.protocol === "http:" && isLoopback(value))) {
    throw invalidAttribute(
      name,
      `${name} must be an https URL (http is accepted for loopback receivers in the sandbox only).`,
    );
  }
  return url.href;
}

/** The id in a PATCH body, which must be the path's. */
export function sameId(data: Record<string, unknown>, id: string): void {
  if (data.id !== id) {
    throw new ApiError(
      409,
      "ENTITY_ERROR.ID.INVALID",
      "The id in the request body does not match the id in the path.",
      `data.id must be '${id}'.`,
      { pointer: "/data/id" },
    );
  }
}

/**
 * A related app must be one of the account's. The excerpt declares no 404 for these POSTs: an
 * unknown related app is an invalid entity (422).
 */
export function requireAccountApp(apps: readonly string[], appId: string): string {
  if (!apps.includes(appId)) {
    throw new ApiError(
      422,
      "ENTITY_ERROR.RELATIONSHIP.INVALID",
      "The relationship is not valid.",
      `There is no app with id '${appId.slice(0, 100)}' in this account.`,
      { pointer: "/data/relationships/app/data/id" },
    );
  }
  return appId;
}
