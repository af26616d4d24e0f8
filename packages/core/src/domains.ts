import type { Client } from "openapi-fetch";
import type { components, paths } from "./generated/app-store-connect.js";
import { collectItems } from "./paginate.js";
import { outcomeUnknown, removeConfirmed, requireId, settle } from "./result.js";
import type { Result } from "./result.js";

export type AlternativeDistributionDomain = components["schemas"]["AlternativeDistributionDomain"];
export type AlternativeDistributionDomainResponse =
  components["schemas"]["AlternativeDistributionDomainResponse"];

type AnyClient = Client<paths>;

/**
 * Checks and normalizes a domain name as web distribution needs it: a host name of two or more
 * labels, lower case, without scheme, port or path. Throws a `TypeError` that says what to pass.
 *
 * @example
 * ```ts
 * normalizeDomainName("Downloads.Example.COM"); // "downloads.example.com"
 * normalizeDomainName("https://example.com/"); // TypeError: pass the host name alone
 * ```
 */
export function normalizeDomainName(value: unknown): string {
  if (typeof value !== "string")
    throw new TypeError('domain must be a host name such as "downloads.example.com".');
  const shown = JSON.stringify(value.length > 100 ? `${value.slice(0, 100)}…` : value);
  const domain = value.trim().toLowerCase().replace(/\.$/, "");
  if (/[/:@?#]/.test(domain)) {
    throw new TypeError(
      `domain must be the host name alone, such as "downloads.example.com", without a scheme, port or path: got ${shown}.`,
    );
  }
  if (/[^\x20-\x7e]/.test(domain)) {
    const ascii = asciiHostName(domain);
    throw new TypeError(
      `${shown} has characters outside ASCII: register the domain's ASCII (punycode) form${ascii ? `, "${ascii}"` : ""}, as DNS holds it.`,
    );
  }
  const labels = domain.split(".");
  const validLabel = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;
  if (
    domain.length > 253 ||
    labels.length < 2 ||
    !labels.every((label) => validLabel.test(label)) ||
    /^\d+$/.test(labels.at(-1)!)
  ) {
    throw new TypeError(
      `${shown} is not a valid domain name: use two or more labels of letters, digits and inner hyphens, such as "downloads.example.com".`,
    );
  }
  return domain;
}

/** The punycode form of an internationalized host name (WHATWG URL does IDNA), if it has one. */
function asciiHostName(domain: string): string | undefined {
  try {
    const { hostname } = new URL(`http://${domain}/`);
    return hostname && hostname !== domain ? hostname : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Registers a web domain for alternative distribution. The name is checked locally first;
 * after an uncertain outcome (no answer, or a 5xx) the domains are read back, so a retry
 * never registers it twice.
 *
 * @example
 * ```ts
 * import { addAlternativeDistributionDomain } from "@asc-kit/core";
 *
 * const { data, error } = await addAlternativeDistributionDomain(client, { domain: "downloads.example.com", referenceName: "Main site" });
 * ```
 */
export async function addAlternativeDistributionDomain(
  client: AnyClient,
  input: { domain: string; referenceName: string },
): Promise<Result<AlternativeDistributionDomainResponse>> {
  if (typeof input !== "object" || input === null)
    throw new TypeError("addAlternativeDistributionDomain needs { domain, referenceName }.");
  const domain = normalizeDomainName(input.domain);
  if (typeof input.referenceName !== "string" || input.referenceName.trim() === "") {
    throw new TypeError(
      "referenceName must be a non-empty name for the domain, as shown in App Store Connect.",
    );
  }
  const result = await settle("POST", "/v1/alternativeDistributionDomains", () =>
    client.POST("/v1/alternativeDistributionDomains", {
      body: {
        data: {
          type: "alternativeDistributionDomains",
          attributes: { domain, referenceName: input.referenceName },
        },
      },
    }),
  );
  if (!result.error || !outcomeUnknown(result.error)) return result;
  const listed = await listAlternativeDistributionDomains(client);
  const stored = listed.data?.find((candidate) => candidate.attributes?.domain === domain);
  return stored
    ? { data: { data: stored, links: { self: stored.links?.self ?? "" } }, response: undefined }
    : result;
}

/**
 * Lists the account's web distribution domains, paging through all of them.
 *
 * @example
 * ```ts
 * const { data: domains } = await listAlternativeDistributionDomains(client);
 * ```
 */
export async function listAlternativeDistributionDomains(
  client: AnyClient,
  options: { limit?: number } = {},
): Promise<Result<AlternativeDistributionDomain[]>> {
  const limit = options.limit ?? 200;
  if (!Number.isInteger(limit) || limit < 1 || limit > 200)
    throw new TypeError("limit must be a whole number from 1 to 200.");
  return collectItems(client, "/v1/alternativeDistributionDomains", {
    params: { query: { limit } },
  });
}

/**
 * Reads one web distribution domain.
 *
 * @example
 * ```ts
 * const { data } = await getAlternativeDistributionDomain(client, id);
 * ```
 */
export async function getAlternativeDistributionDomain(
  client: AnyClient,
  id: string,
): Promise<Result<AlternativeDistributionDomainResponse>> {
  requireId(id, "id");
  return settle("GET", `/v1/alternativeDistributionDomains/${id}`, () =>
    client.GET("/v1/alternativeDistributionDomains/{id}", { params: { path: { id } } }),
  );
}

/**
 * Removes a web distribution domain; after an uncertain outcome it reads the domain back and
 * reports the removal as done when it is gone.
 *
 * @example
 * ```ts
 * const { error } = await removeAlternativeDistributionDomain(client, id);
 * ```
 */
export async function removeAlternativeDistributionDomain(
  client: AnyClient,
  id: string,
): Promise<Result<null>> {
  requireId(id, "id");
  return removeConfirmed(
    `/v1/alternativeDistributionDomains/${id}`,
    () => client.DELETE("/v1/alternativeDistributionDomains/{id}", { params: { path: { id } } }),
    () => getAlternativeDistributionDomain(client, id),
  );
}
