export { readBounded } from "./body.js";
export type { BoundedBody } from "./body.js";
export { AppStoreConnectError, hasErrorCode } from "./error.js";
export type { ApiErrorItem, AppStoreConnectErrorInit, AppStoreConnectErrorKind } from "./error.js";
export { parseRateLimit, parseRetryAfter } from "./headers.js";
export type { RateLimit, RateLimitWindow } from "./headers.js";
export {
  bodyExcerptLength,
  errorFromBody,
  throwOnError,
  toAppStoreConnectError,
} from "./response.js";
export { redact } from "./scrub.js";
export type { ThrowOnErrorMiddleware } from "./response.js";
