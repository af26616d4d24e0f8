import type { Notifier } from "../notifier.js";
import type { ResourceRegistry } from "../query.js";
import type { Router } from "../router.js";
import type { SandboxData } from "../state.js";

/** What the sandbox counts, for tests that check what was applied (keys and domains). */
export interface SandboxStats {
  requests: number;
  /** Distinct tokens accepted: how many signatures the clients made. */
  tokens: number;
  creates: number;
  deletes: number;
  faults: number;
  /** Requests for each download link's path (`/assets/<version>/…`), ranges included. */
  assetRequests: Record<string, number>;
}

/** What every resource family's module gets. */
export interface ResourceContext {
  data: SandboxData;
  /** The sandbox's own base URL: every link is built on it. */
  baseUrl: string;
  stats: SandboxStats;
  /** The device classes a new package gets a variant for. */
  installTargets: readonly string[];
  /**
   * Applies a change (`apply` returns how to undo it) and resolves once a save that includes it
   * is durable; when the save fails, the change is undone and the request answers 500.
   */
  commit(apply: () => () => void): Promise<void>;
  /** Adds `item` to `list` as one committed change, counted as a create. */
  insert<T>(list: T[], item: T): Promise<void>;
  /** Removes `item` from `list` as one committed change, counted as a delete. */
  remove<T>(list: T[], item: T): Promise<void>;
  /** Sends what happened to the webhooks that asked for it. */
  notifier: Notifier;
  /** A download link for an asset path, and its expiry, `lifetimeMs` from now. */
  link(path: string, lifetimeMs: number): { url: string; urlExpirationDate: string };
  /** Where each family says how to find its resources by id, for `include`. */
  resources: ResourceRegistry;
}

/** A resource family: adds its routes. A new family is one more module of this shape. */
export type ResourceFamily = (router: Router, context: ResourceContext) => void;
