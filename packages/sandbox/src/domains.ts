import { randomUUID } from "node:crypto";
import {
  ApiError,
  allowQuery,
  methodNotAllowed,
  notFound,
  parseJsonBody,
  pick,
  readFields,
  selfLink,
} from "./http.js";
import type { PageOf } from "./http.js";
import type { StoredDomain } from "./state.js";

const domainFields = ["domain", "referenceName", "createdDate"] as const;
const domainLabel = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;

/** The alternative distribution domain endpoints, over the sandbox's list of domains. */
export function domainRoutes(context: {
  list: StoredDomain[];
  baseUrl: () => string;
  persist: () => Promise<void>;
  pageOf: PageOf;
  /** Counts applied creates and deletes, as for keys. */
  stats: { creates: number; deletes: number };
}) {
  const { list } = context;
  const resource = (domain: StoredDomain, fields: ReadonlySet<string> = new Set(domainFields)) => ({
    type: "alternativeDistributionDomains",
    id: domain.id,
    attributes: pick(
      {
        domain: domain.domain,
        referenceName: domain.referenceName,
        createdDate: domain.createdDate,
      },
      fields,
    ),
    links: { self: `${context.baseUrl()}/v1/alternativeDistributionDomains/${domain.id}` },
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
        `'${String(attributes.domain)}' is not a valid domain name.`,
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
      id: randomUUID(),
      domain: name,
      referenceName: attributes.referenceName as string,
      createdDate: new Date().toISOString(),
    };
    list.push(domain);
    context.stats.creates++;
    await context.persist();
    return {
      data: resource(domain),
      links: { self: `${context.baseUrl()}/v1/alternativeDistributionDomains/${domain.id}` },
    };
  }

  return {
    async route(
      method: string,
      url: URL,
      id: string | undefined,
      body: string,
    ): Promise<[number, unknown]> {
      if (id === undefined) {
        if (method === "GET") {
          allowQuery(url, ["fields[alternativeDistributionDomains]", "limit", "cursor"]);
          const fields = readFields(url, "alternativeDistributionDomains", domainFields);
          return [200, context.pageOf(url, list, (domain) => resource(domain, fields))];
        }
        if (method === "POST") return [201, await create(body)];
      } else {
        if (method === "GET") {
          allowQuery(url, ["fields[alternativeDistributionDomains]"]);
          const fields = readFields(url, "alternativeDistributionDomains", domainFields);
          return [200, { data: resource(find(id), fields), links: { self: selfLink(url) } }];
        }
        if (method === "DELETE") {
          allowQuery(url, []);
          list.splice(list.indexOf(find(id)), 1);
          context.stats.deletes++;
          await context.persist();
          return [204, undefined];
        }
      }
      throw methodNotAllowed(method, url);
    },
  };
}
