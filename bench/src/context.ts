import { execFile } from "node:child_process";
import { promisify } from "node:util";

export const run = promisify(execFile);

/** What every section of the bench is given. */
export interface BenchContext {
  benchDir: string;
  repoRoot: string;
  /** A scratch folder, removed after the run. */
  workDir: string;
  requests: number;
  rounds: number;
  concurrency: number;
  /** Apple's full description, when given, for the codegen figure. */
  appleSpec?: string;
  /** Other Node.js binaries the per-call and throughput figures are measured on too (`--node`). */
  otherNodes: string[];
  /** A throwaway API key for every client. */
  privateKeyPem: string;
  log(message: string): void;
}

/** One figure of the bench: measured for every client in the run, then rendered as Markdown. */
export interface Section<Result> {
  name: string;
  measure(context: BenchContext): Promise<Result>;
  render(result: Result, context: BenchContext): string[];
}

export const median = (numbers: readonly number[]) =>
  [...numbers].sort((a, b) => a - b)[Math.floor(numbers.length / 2)]!;

/** The spread of rounds around their median, as `-a% / +b%`. */
export function spread(numbers: readonly number[]): string {
  const middle = median(numbers);
  const low = Math.min(...numbers);
  const high = Math.max(...numbers);
  const percent = (value: number) => `${Math.round((Math.abs(value - middle) / middle) * 100)}%`;
  return `−${percent(low)} / +${percent(high)}`;
}

/**
 * The rows of the design `balanced` draws from: as many as there are items, twice that for an
 * odd count.
 */
const designRows = (count: number) => (count % 2 === 0 ? count : 2 * count);

/**
 * At least `rounds`, rounded up to whole passes over the rows of `balanced`'s design for `count`
 * items: a pass cut short leaves some clients after one neighbour more often than after another.
 */
export const wholeDesigns = (rounds: number, count: number) =>
  Math.ceil(rounds / designRows(count)) * designRows(count);

/**
 * The order of round `round`: a row of a Williams design. Over its rows (`designRows`) every
 * item takes every position and comes right after every other item equally often. Rotating
 * one order kept each item's neighbours: the client whose blocks followed one peer's (a
 * process of 600 MB whose collector was busy) ran 8-10% slower on Node.js 24, and so did
 * whichever client was put there instead.
 */
export function balanced<T>(items: readonly T[], round: number): T[] {
  const count = items.length;
  // The first row goes 0, 1, n-1, 2, n-2, …; row i adds i to each; an odd count adds their mirrors.
  const first = [0];
  for (let low = 1, high = count - 1; first.length < count;) {
    first.push(first.length % 2 === 1 ? low++ : high--);
  }
  const row = round % designRows(count);
  const order = first.map((index) => items[(index + row) % count]!);
  return row < count ? order : order.reverse();
}

/** Each round starts with another entry, so that none always runs first or last. */
export function rotated<T>(items: readonly T[], round: number): T[] {
  return items.map((_, index) => items[(index + round) % items.length]!);
}

/**
 * The order of a round's blocks: every item once per block, each block in the other direction,
 * so that no item is always first or last after another and drift within the round touches all.
 */
export function* interleaved<T>(order: readonly T[], blocks: number): Generator<T> {
  for (let index = 0; index < blocks; index++) {
    yield* index % 2 ? [...order].reverse() : order;
  }
}

/** Each round's value of `values` against the same round of `base`, combined by `pair`. */
export function paired<R>(
  values: readonly number[],
  base: readonly number[],
  pair: (value: number, base: number) => R,
): R[] {
  return values.map((value, round) => pair(value, base[round]!));
}

/** A number as written in the tables, its minus a minus sign: −3.3 rather than -3.3. */
export const decimal = (value: number, digits = 1) => value.toFixed(digits).replace(/^-/, "−");

/** A difference with its sign: +1.2 or −0.4. */
export const signed = (value: number, digits = 1) =>
  (value >= 0 ? "+" : "") + decimal(value, digits);

export const fileLabel = (name: string) => name.replace(/[^a-z0-9]+/gi, "-");

export const kb = (bytes: number) => `${(bytes / 1024).toFixed(1)} kB`;
export const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(2)} MB`;
export const times = (value: number, base: number) => `${(value / base).toFixed(2)}×`;
