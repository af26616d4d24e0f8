import { AppStoreConnectError, errorFromBody } from "@asc-kit/errors";
import { InvalidTokenError } from "./token.js";

/**
 * What the typed helpers return, like openapi-fetch: `data` on success, otherwise `error`, an
 * `AppStoreConnectError` (HTTP errors, and `kind: "network"` when no response came).
 * `response` is the last HTTP response, when there was one.
 */
export type Result<T> =
  | { data: T; error?: undefined; response: Response | undefined }
  | { data?: undefined; error: AppStoreConnectError; response: Response | undefined };

/** Runs one openapi-fetch call and folds every outcome into a {@link Result}. */
export function settle<T>(
  method: string,
  path: string,
  call: () => Promise<{ data?: T; error?: unknown; response: Response }>,
): Promise<Result<T>> {
  return settleAs(() => ({ method, path }), call);
}

/**
 * {@link settle} for a call whose method and path are known only once it has answered
 * (`toResult` over a raw call): `where` is asked after the call.
 */
export async function settleAs<T>(
  where: () => { method: string | undefined; path: string },
  call: () => Promise<{ data?: T; error?: unknown; response: Response }>,
): Promise<Result<T>> {
  let outcome: { data?: T; error?: unknown; response: Response };
  try {
    outcome = await call();
  } catch (error) {
    const { method, path } = where();
    return { error: asAppStoreConnectError(error, method, path), response: undefined };
  }
  const { data, error, response } = outcome;
  const { method, path } = where();
  const request = { ...(method ? { method } : {}), url: response.url || path };
  if (response.ok && data !== undefined) return { data, response };
  if (response.ok) {
    return {
      error: new AppStoreConnectError({
        status: response.status,
        code: "INVALID_RESPONSE",
        detail: `The ${response.status} response has no body where App Store Connect sends a JSON document.`,
        ...request,
      }),
      response,
    };
  }
  return {
    error: errorFromBody(error, { status: response.status, headers: response.headers, ...request }),
    response,
  };
}

export function asAppStoreConnectError(
  error: unknown,
  method: string | undefined,
  path: string,
): AppStoreConnectError {
  if (AppStoreConnectError.is(error)) return error;
  if (error instanceof Error && error.name === "AbortError") throw error;
  // A token that cannot go into a header is a local programming error: thrown, not reported.
  if (error instanceof InvalidTokenError) throw error;
  return new AppStoreConnectError({
    status: 0,
    detail: error instanceof Error ? error.message : String(error),
    ...(method ? { method } : {}),
    url: path,
    cause: error,
  });
}

export function outcomeUnknown(error: AppStoreConnectError): boolean {
  return error.kind === "network" || error.kind === "server" || error.kind === "invalid-response";
}

/**
 * The one check of every id that goes into a path: a single segment that is not `.` or `..`
 * (which a URL would resolve to the collection or its parent), with no `/ ? # %`, whitespace or
 * control character. Throws a TypeError, a local programming error.
 */
export function requireId(value: unknown, name: string): asserts value is string {
  if (
    typeof value !== "string" ||
    value === "" ||
    value.length > 200 ||
    /^\.+$/.test(value) ||
    /[/?#%\\\s\x00-\x1f\x7f]/.test(value)
  ) {
    throw new TypeError(
      `${name} must be a resource id such as "52c5cb04-1163-4a30-ad4f-a3433cd6a4f6" (one path segment: not "." or "..", no "/", "?", "#", "%" or spaces).`,
    );
  }
}

/**
 * Runs a DELETE; when its outcome is unknown (no answer, or a 5xx), reads the resource back
 * and reports the removal as done if it is gone (by default: the read back is a 404).
 */
export async function removeConfirmed<T>(
  path: string,
  remove: () => Promise<{ error?: unknown; response: Response }>,
  readBack: () => Promise<Result<T>>,
  isGone: (after: Result<T>) => boolean = (after) => after.error?.kind === "not-found",
): Promise<Result<null>> {
  const result = await settle("DELETE", path, async () => {
    const { error, response } = await remove();
    return error === undefined ? { data: null, response } : { error, response };
  });
  if (!result.error || !outcomeUnknown(result.error)) return result;
  const after = await readBack();
  return isGone(after) ? { data: null, response: after.response } : result;
}
