/** Why a store call failed: the database is unreachable or too slow. Answered 503. */
export class StoreUnavailableError extends Error {
  override readonly name = "StoreUnavailableError";
  readonly code = "ERR_STORE_UNAVAILABLE";
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/**
 * `work`, or a `StoreUnavailableError` once `ms` pass without an answer: a database that stops
 * answering must not hold a device's request for longer than it would wait itself.
 */
export async function withDeadline<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(
      () => reject(new StoreUnavailableError(`${what} did not answer within ${ms / 1000} s.`)),
      ms,
    );
  });
  try {
    return await Promise.race([work, late]);
  } catch (error) {
    if (error instanceof StoreUnavailableError) throw error;
    throw new StoreUnavailableError(`${what} failed: ${(error as Error)?.message ?? error}`, {
      cause: error,
    });
  } finally {
    clearTimeout(timer);
  }
}
