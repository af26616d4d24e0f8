import type { AppStoreConnectError } from "@asc-kit/errors";
import { settleAs } from "./result.js";
import { callAnswered } from "./retry.js";
import type { Result } from "./result.js";

/** What any openapi-fetch call resolves to. */
interface FetchResult<T> {
  data?: T;
  error?: unknown;
  response: Response;
}

/**
 * Any raw call as a {@link Result}: `data`, or `error` as an `AppStoreConnectError` for every
 * failure the server or the network caused (an HTTP error, an unusable answer, no answer). It
 * throws only for local programming errors (a bad argument, a token that cannot be sent).
 *
 * @example
 * ```ts
 * import { toResult } from "@asc-kit/core";
 *
 * const { data, error } = await toResult(
 *   client.GET("/v1/alternativeDistributionKeys/{id}", { params: { path: { id } } }),
 * );
 * if (error) console.error(error.kind, error.message, error.hint);
 * ```
 */
export function toResult<T>(call: Promise<FetchResult<T>>): Promise<Result<T>> {
  let response: Response | undefined;
  return settleAs(
    () => {
      const answered = response && callAnswered(response);
      return { method: answered?.method, path: response?.url || answered?.url || "" };
    },
    async () => {
      const outcome = await call;
      response = outcome.response;
      return outcome;
    },
  );
}

/**
 * The data of any raw call, or a thrown `AppStoreConnectError`: for code that prefers
 * exceptions, in one line. The data keeps its generated type.
 *
 * @example
 * ```ts
 * import { unwrap } from "@asc-kit/core";
 *
 * const page = await unwrap(client.GET("/v1/alternativeDistributionKeys"));
 * page.data.map((key) => key.id);
 * ```
 */
export async function unwrap<T>(call: Promise<FetchResult<T>>): Promise<T> {
  const result = await toResult(call);
  if (result.error) throw result.error satisfies AppStoreConnectError;
  return result.data;
}
