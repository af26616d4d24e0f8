import { readBounded } from "@asc-kit/errors";
import type { createApi } from "./api.js";
import type { assetServer } from "./assets.js";
import { controlPrefix } from "./control.js";
import type { controlRoutes } from "./control.js";
import { cdnError, faultAnswer } from "./faults.js";
import type { FaultKind, faultSource } from "./faults.js";
import type { createGate } from "./gate.js";
import { ApiError } from "./http.js";
import type { SandboxStats } from "./resources/context.js";
import type { RouteResult } from "./router.js";

/** What one request came to: a response, or a connection fault for the transport to act out. */
export type Outcome =
  | { kind: "response"; response: Response }
  | { kind: "reset" }
  | { kind: "truncated"; response: Response };

const maximumBodyBytes = 64 * 1024;

/** What the responder puts together. */
export interface ResponderParts {
  api: ReturnType<typeof createApi>;
  /** The test controls, served under `/sandbox/` (see control.ts). */
  controls: ReturnType<typeof controlRoutes>;
  gate: ReturnType<typeof createGate>;
  faults: ReturnType<typeof faultSource>;
  assets: ReturnType<typeof assetServer>;
  stats: SandboxStats;
  baseUrl: () => string;
  /** Answer with CORS headers (any origin). */
  cors: boolean;
}

/**
 * How the sandbox answers one request: the target rebased on its own origin, download links
 * as a CDN (no token), OPTIONS without a token, then faults, the gate and the API's route.
 * `target` is the request target when the transport has it raw (the node server).
 */
export function createResponder(parts: ResponderParts) {
  const { api, controls, gate, faults, assets, stats, baseUrl } = parts;
  const cors: Record<string, string> = parts.cors
    ? {
        "access-control-allow-origin": "*",
        "access-control-expose-headers": "x-rate-limit, retry-after",
      }
    : {};

  /** The API's routes, or the test controls' under `/sandbox/`. */
  const routesOf = (url: URL) => (url.pathname.startsWith(controlPrefix) ? controls : api);

  /** Authentication, rate limit, faults that answer, then the route. */
  async function serve(request: Request, url: URL, fault: FaultKind | undefined) {
    const headers: Record<string, string> = {};
    try {
      const apiKey = await gate.admit(request, url, headers, fault);
      const faulted = faultAnswer(fault, cors);
      if (faulted) return faulted;
      gate.authorize(apiKey);
      const body = await readBody(request);
      return answer(request.method, await routesOf(url).handle(request.method, url, body), headers);
    } catch (error) {
      return answer(request.method, errorResult(error), {
        ...headers,
        ...(error instanceof ApiError ? error.headers : {}),
      });
    }
  }

  function answer(method: string, [status, payload]: RouteResult, headers: Record<string, string>) {
    const text = payload === undefined ? undefined : JSON.stringify(payload);
    return new Response(method === "HEAD" ? null : (text ?? null), {
      status,
      headers: {
        ...(text === undefined ? {} : { "content-type": "application/json" }),
        ...headers,
        ...cors,
      },
    });
  }

  async function respond(request: Request, target?: string): Promise<Outcome> {
    stats.requests++;
    let url: URL;
    try {
      url = rebase(baseUrl(), target ?? pathAndQuery(request.url));
    } catch (error) {
      return { kind: "response", response: answer(request.method, errorResult(error), {}) };
    }
    // Download links are the CDN's, not the API's: no token, no rate limit, no preflight.
    const asset = url.pathname.startsWith("/assets/");
    if (asset) stats.assetRequests[url.pathname] = (stats.assetRequests[url.pathname] ?? 0) + 1;
    if (!asset && request.method === "OPTIONS") {
      const allow = routesOf(url).methodsOf(url).join(", ");
      return { kind: "response", response: preflight(allow, cors) };
    }
    if (faults.current.latencyMs) await delay(faults.current.latencyMs);
    const fault = faults.next(asset && url.pathname.endsWith(".ipa"));
    if (fault) stats.faults++;
    if (fault === "reset-before") return { kind: "reset" };
    if (fault === "slow") await delay(faults.current.slowMs ?? 5000);
    const response = asset
      ? (cdnError(fault) ??
        (await assets.serve(request, url, fault === "corrupt")) ??
        new Response(null, { status: 404 }))
      : await serve(request, url, fault);
    if (fault === "reset-after") return { kind: "reset" };
    if (fault === "truncated") return { kind: "truncated", response };
    return { kind: "response", response };
  }

  return respond;
}

function errorResult(error: unknown): RouteResult {
  // Anything but an ApiError is the sandbox's own fault: say so without its internals.
  const failure =
    error instanceof ApiError
      ? error
      : new ApiError(
          500,
          "UNEXPECTED_ERROR",
          "An unexpected error occurred.",
          "The sandbox failed to handle this request.",
        );
  return [
    failure.status,
    {
      errors: [
        {
          id: crypto.randomUUID(),
          status: String(failure.status),
          code: failure.code,
          title: failure.title,
          detail: failure.detail,
          ...(failure.source ? { source: failure.source } : {}),
        },
      ],
    },
  ];
}

function preflight(allow: string, cors: Record<string, string>): Response {
  return new Response(null, {
    status: 204,
    headers: {
      allow,
      ...(Object.keys(cors).length > 0
        ? {
            ...cors,
            "access-control-allow-methods": allow,
            "access-control-allow-headers": "authorization, content-type, user-agent",
            "access-control-max-age": "600",
          }
        : {}),
    },
  });
}

/** The request body as text, refused with 413 past 64 KiB and 415 when it is not JSON. */
async function readBody(request: Request): Promise<string> {
  if (!request.body) return "";
  const type = request.headers.get("content-type");
  if (type !== null && !/^application\/([\w.+-]+\+)?json\s*(;|$)/i.test(type)) {
    await request.body.cancel().catch(() => undefined);
    throw new ApiError(
      415,
      "UNSUPPORTED_MEDIA_TYPE",
      "The request entity has an unsupported media type.",
      "Send the request body as JSON, with Content-Type: application/json.",
    );
  }
  const { bytes, complete } = await readBounded(request.body, maximumBodyBytes);
  if (!complete) {
    throw new ApiError(
      413,
      "ENTITY_ERROR.TOO_LARGE",
      "The request entity is too large.",
      `The request body is larger than ${maximumBodyBytes} bytes.`,
    );
  }
  return new TextDecoder().decode(bytes);
}

/** A request target (`/v1/…?…`) on the sandbox's own origin: never the Host header's. */
function rebase(origin: string, target: string): URL {
  if (!target.startsWith("/")) throw badRequest("The request target must be a path.");
  try {
    // As a client would resolve it (`//[` is an invalid host there), then on our own origin.
    new URL(target, origin);
    return new URL(`${origin}${target}`);
  } catch {
    throw badRequest("The request target is not a valid path.");
  }
}

function pathAndQuery(url: string): string {
  const parsed = new URL(url);
  return `${parsed.pathname}${parsed.search}`;
}

function badRequest(detail: string): ApiError {
  return new ApiError(400, "BAD_REQUEST", "The request could not be understood.", detail);
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
