import { ApiError, notFound, pageOf, parseJsonBody, selfLink } from "../http.js";
import type { StoredDomain } from "../state.js";
import type { ResourceFamily } from "./context.js";

const domainLabel = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;

/** `/v1/alternativeDistributionDomains` and `/v1/alternativeDistributionDomains/{id}`. */
export const domainRoutes: ResourceFamily = (router, context) => {
  const list = (context.data.domains ??= []);
  const resource = (domain: StoredDomain) => ({
    type: "alternativeDistributionDomains",
    id: domain.id,
    attributes: {
      domain: domain.domain,
      referenceName: domain.referenceName,
      createdDate: domain.createdDate,
    },
    links: { self: `${context.baseUrl}/v1/alternativeDistributionDomains/${domain.id}` },
  });
  const find = (id: string) => {
    const domain = list.find((candidate) => candidate.id === id);
    if (!domain) throw notFound("alternativeDistributionDomains", id);
    return domain;
  };

  async function create(body: string) {
    const document = parseJsonBody(body) as {
      data?: { type?: unknown; attributes?: { domain?: unknown; referenceName?: unknown } };
    } | null;
    if (document?.data?.type !== "alternativeDistributionDomains") {
      throw new ApiError(
        400,
        "ENTITY_ERROR.TYPE.INVALID",
        "The resource type is not valid.",
        "The type must be 'alternativeDistributionDomains'.",
        {
          pointer: "/data/type",
        },
      );
    }
    const attributes = document.data.attributes ?? {};
    for (const name of ["domain", "referenceName"] as const) {
      if (typeof attributes[name] !== "string" || attributes[name] === "") {
        throw new ApiError(
          422,
          "ENTITY_ERROR.ATTRIBUTE.REQUIRED",
          "A required attribute is missing.",
          `${name} is required.`,
          {
            pointer: `/data/attributes/${name}`,
          },
        );
      }
    }
    const name = (attributes.domain as string).toLowerCase();
    const labels = name.split(".");
    if (
      name.length > 253 ||
      labels.length < 2 ||
      !labels.every((label) => domainLabel.test(label))
    ) {
      throw new ApiError(
        422,
        "ENTITY_ERROR.ATTRIBUTE.INVALID",
        "An attribute value is invalid.",
        `'${String(attributes.domain).slice(0, 100)}' is not a valid domain name.`,
        {
          pointer: "/data/attributes/domain",
        },
      );
    }
    const existing = list.find((domain) => domain.domain === name);
    if (existing) {
      throw new ApiError(
        409,
        "ENTITY_ERROR.ALREADY_EXISTS",
        "The resource already exists.",
        `The domain ${name} is registered already (${existing.id}).`,
      );
    }
    const domain: StoredDomain = {
      id: crypto.randomUUID(),
      domain: name,
      referenceName: attributes.referenceName as string,
      createdDate: new Date().toISOString(),
    };
    await context.insert(list, domain);
    return {
      data: resource(domain),
      links: { self: `${context.baseUrl}/v1/alternativeDistributionDomains/${domain.id}` },
    };
  }

  router
    .on("GET", "/v1/alternativeDistributionDomains", ({ url }) => [
      200,
      pageOf(url, list, resource),
    ])
    .on("POST", "/v1/alternativeDistributionDomains", async ({ body }) => [201, await create(body)])
    .on("GET", "/v1/alternativeDistributionDomains/{id}", ({ url, params }) => [
      200,
      { data: resource(find(params.id!)), links: { self: selfLink(url) } },
    ])
    .on("DELETE", "/v1/alternativeDistributionDomains/{id}", async ({ params }) => {
      const domain = find(params.id!);
      await context.remove(list, domain);
      return [204];
    });
};
