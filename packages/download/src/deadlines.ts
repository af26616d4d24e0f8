import { DownloadError } from "./errors.js";

/**
 * How long a download request may take: every request gets both, so that no server, however it
 * sends (a head a byte a second, an interim answer every two seconds, a body that trickles),
 * holds a download for longer than a known time. Both end in `ERR_DOWNLOAD_TIMEOUT`, which the
 * download treats as passing: it asks again, resuming after the verified bytes.
 */
export interface Deadlines {
  /** The most the answer's head may take, from the start of the connection. Default 30,000. */
  headMs?: number;
  /**
   * The least the body must average, in bytes a second, over each window: a body that stalls
   * or trickles below it is cut off. Default 16,384 (16 KiB/s).
   */
  minBytesPerSecond?: number;
  /** The window the rate is measured over, in ms. Default 20,000. */
  rateWindowMs?: number;
}

export type Limits = Required<Deadlines>;

export const defaultDeadlines: Limits = {
  headMs: 30_000,
  minBytesPerSecond: 16 * 1024,
  rateWindowMs: 20_000,
};

/** The deadlines given, checked, over the defaults. */
export function limitsOf(deadlines: Deadlines | undefined): Limits {
  const limits = { ...defaultDeadlines, ...deadlines };
  for (const [name, value] of Object.entries(limits)) {
    if (!Number.isFinite(value) || value < 0 || (name !== "minBytesPerSecond" && value === 0)) {
      throw new TypeError(`deadlines.${name} must be a positive number.`);
    }
  }
  return limits;
}

/** The error of a head that took longer than `headMs`. */
export function headTimeout(host: string, limits: Limits): DownloadError {
  return new DownloadError(
    "ERR_DOWNLOAD_TIMEOUT",
    `${host} sent no complete answer within ${limits.headMs / 1000} s.`,
  );
}

/**
 * Watches a body's rate: `add` counts bytes as they arrive; at the end of each window with
 * fewer than the minimum, `onTooSlow` is told once. `stop` ends the watch.
 */
export function watchRate(
  host: string,
  limits: Limits,
  onTooSlow: (error: DownloadError) => void,
): { add(bytes: number): void; stop(): void } {
  let counted = 0;
  const least = (limits.minBytesPerSecond * limits.rateWindowMs) / 1000;
  const timer = setInterval(() => {
    if (counted < least) {
      clearInterval(timer);
      const rate = Math.round((counted * 1000) / limits.rateWindowMs);
      onTooSlow(
        new DownloadError(
          "ERR_DOWNLOAD_TIMEOUT",
          `${host} sent the body at ${rate} bytes/s over ${limits.rateWindowMs / 1000} s, below the minimum of ${limits.minBytesPerSecond} bytes/s.`,
        ),
      );
    }
    counted = 0;
  }, limits.rateWindowMs);
  // The connection keeps the process alive while it is open; the watch need not.
  (timer as { unref?: () => void }).unref?.();
  return {
    add: (bytes) => void (counted += bytes),
    stop: () => clearInterval(timer),
  };
}
