import { ApiError } from "./http.js";

/**
 * A failure the sandbox can inject. `reset-*` drop the connection; `slow` waits `slowMs`;
 * `truncated` cuts the body off half-way; `corrupt` flips a byte in the middle of an asset.
 */
export type FaultKind =
  | "500"
  | "502"
  | "503"
  | "504"
  | "429"
  | "html"
  | "truncated"
  | "reset-before"
  | "reset-after"
  | "slow"
  | "corrupt";

/** Fault injection, all off by default. */
export interface FaultOptions {
  /** Added to every response, in ms. */
  latencyMs?: number;
  /** Share (0 to 1) of requests answered with a 500, 502 or 503 before anything is applied. */
  serverErrorRate?: number;
  /** Share of requests whose connection is reset before anything is applied. */
  resetBeforeRate?: number;
  /** Share of requests whose connection is reset after the request was applied. */
  resetAfterRate?: number;
  /** How long a `slow` fault waits, in ms. Default 5,000. */
  slowMs?: number;
  /** The random source of the rates. Default `Math.random`. */
  random?: () => number;
}

/** A fault that answers in place of App Store Connect: an HTML gateway page or a 5xx. */
export function faultAnswer(
  fault: FaultKind | undefined,
  cors: Record<string, string>,
): Response | undefined {
  if (fault === "html") {
    return new Response("<html><body><h1>502 Bad Gateway</h1></body></html>", {
      status: 502,
      headers: { "content-type": "text/html", ...cors },
    });
  }
  if (fault === "500" || fault === "502" || fault === "503" || fault === "504") {
    throw new ApiError(
      Number(fault),
      "UNEXPECTED_ERROR",
      "An unexpected error occurred.",
      "Injected server error.",
    );
  }
  return undefined;
}

/** A download's answer to a status fault: what a CDN sends, XML and no JSON:API document. */
export function cdnError(fault: FaultKind | undefined): Response | undefined {
  if (fault === undefined || !/^\d{3}$/.test(fault)) return undefined;
  return new Response("<Error><Code>ServiceUnavailable</Code></Error>", {
    status: Number(fault),
    headers: { "content-type": "application/xml" },
  });
}

export function faultSource(initial: FaultOptions) {
  const source = {
    current: initial,
    queue: [] as FaultKind[],
    /** Faults for the next variant and delta downloads only. */
    assetQueue: [] as FaultKind[],
    next(assetDownload: boolean): FaultKind | undefined {
      const queued =
        (assetDownload ? source.assetQueue.shift() : undefined) ?? source.queue.shift();
      if (queued) return queued;
      const rates = source.current;
      const random = rates.random ?? Math.random;
      if (rates.resetBeforeRate && random() < rates.resetBeforeRate) return "reset-before";
      if (rates.serverErrorRate && random() < rates.serverErrorRate) {
        return (["500", "502", "503"] as const)[Math.floor(random() * 3)];
      }
      if (rates.resetAfterRate && random() < rates.resetAfterRate) return "reset-after";
      return undefined;
    },
  };
  return source;
}
