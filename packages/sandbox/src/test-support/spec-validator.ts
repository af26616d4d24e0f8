import { readFileSync } from "node:fs";
import { Ajv } from "ajv";
import addFormats from "ajv-formats";
import { parse } from "yaml";

interface Operation {
  responses: Record<string, { content?: { "application/json"?: { schema: object } } }>;
}

const spec = parse(
  readFileSync(new URL("../../../../spec/app-store-connect.yaml", import.meta.url), "utf8"),
) as {
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, { enum?: unknown[] }> };
};

/** The values of one of the excerpt's enum schemas, such as `WebhookEventType`. */
export function excerptEnum(schema: string): unknown[] {
  const values = spec.components.schemas[schema]?.enum;
  if (!values) throw new Error(`${schema} is not an enum schema of the excerpt`);
  return values;
}
const ajv = new Ajv({ strict: false, allErrors: true });
(addFormats as unknown as (ajv: Ajv) => void)(ajv);
ajv.addSchema({ ...spec, $id: "spec" });

/** The excerpt's path template that matches a concrete path, e.g. /v1/alternativeDistributionKeys/{id}. */
function templateOf(pathname: string): string | undefined {
  return Object.keys(spec.paths).find((template) =>
    new RegExp(`^${template.replace(/\{[^}]+\}/g, "[^/]+")}$`).test(pathname),
  );
}

/**
 * Checks a sandbox response against the excerpt: the status must be one the operation
 * declares, and a JSON body must match the declared schema. Throws with ajv's errors.
 */
export function assertMatchesSpec(
  method: string,
  pathname: string,
  status: number,
  body: unknown,
): void {
  const template = templateOf(pathname);
  if (!template) throw new Error(`${pathname} is not a path of the excerpt`);
  const operation = spec.paths[template]?.[method.toLowerCase()];
  if (!operation) throw new Error(`${method} ${template} is not an operation of the excerpt`);
  // Apple's description declares no 5xx; such answers must still be ErrorResponse JSON.
  const declared =
    operation.responses[String(status)] ??
    (status >= 500
      ? {
          content: {
            "application/json": { schema: { $ref: "#/components/schemas/ErrorResponse" } },
          },
        }
      : undefined);
  if (!declared) throw new Error(`${method} ${template} does not declare status ${status}`);
  const schema = declared.content?.["application/json"]?.schema as { $ref?: string } | undefined;
  if (!schema) {
    if (body !== undefined)
      throw new Error(`${method} ${template} ${status} declares no body, but one came`);
    return;
  }
  const validate = ajv.getSchema(`spec${schema.$ref}`);
  if (!validate) throw new Error(`no schema for ${schema.$ref}`);
  if (!validate(body)) {
    throw new Error(
      `${method} ${template} ${status} body does not match ${schema.$ref}: ${ajv.errorsText(validate.errors)}`,
    );
  }
}
