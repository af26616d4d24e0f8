/**
 * Where delivered notification ids are remembered, to discard duplicates (App Store Connect
 * sends some). `add` resolves `false` when the id was there already (an insert into a table
 * with a unique key does this atomically); `remove` forgets an id whose handling failed. Bring
 * a store that outlives the process in production.
 */
export interface DeliveryStore {
  add(id: string): Promise<boolean>;
  /** Forgets an id whose handling failed, so that the next delivery is handled again. */
  remove(id: string): Promise<void>;
}

/**
 * An in-memory store for tests and single-process receivers: remembers the last `capacity`
 * ids (default 10,000).
 *
 * @example
 * ```ts
 * import { memoryDeliveryStore } from "@asc-kit/notifications";
 *
 * const store = memoryDeliveryStore();
 * await store.add("n-1"); // true
 * await store.add("n-1"); // false: a duplicate
 * ```
 */
export function memoryDeliveryStore(capacity = 10_000): DeliveryStore {
  const seen = new Set<string>();
  return {
    async add(id) {
      if (seen.has(id)) return false;
      seen.add(id);
      // Sets keep insertion order: the first is the oldest.
      if (seen.size > capacity) seen.delete(seen.values().next().value!);
      return true;
    },
    async remove(id) {
      seen.delete(id);
    },
  };
}
