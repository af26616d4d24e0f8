import type { Notifier } from "../notifier.js";
import { ApiError } from "../http.js";
import { ResourceRegistry } from "../query.js";
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

/** What a {@link ResourceContext} is made of. */
export interface ContextParts {
  data: SandboxData;
  /** Saves the state; undefined when it lives in memory only. */
  save: (() => Promise<void>) | undefined;
  stats: SandboxStats;
  notifier: Notifier;
  baseUrl: () => string;
  installTargets: readonly string[];
  link: ResourceContext["link"];
}

/** The context every family gets: changes are answered once saved, and undone if the save fails. */
export function createResourceContext(parts: ContextParts): ResourceContext {
  const { data, save, stats } = parts;
  const context: ResourceContext = {
    data,
    stats,
    notifier: parts.notifier,
    installTargets: parts.installTargets,
    link: parts.link,
    get baseUrl() {
      return parts.baseUrl();
    },
    resources: new ResourceRegistry(),
    async commit(apply) {
      const undo = apply();
      if (!save) return;
      try {
        await save();
      } catch {
        undo();
        throw new ApiError(
          500,
          "UNEXPECTED_ERROR",
          "An unexpected error occurred.",
          "The sandbox could not save the change, so it was not applied.",
        );
      }
    },
    async insert(list, item) {
      await context.commit(() => {
        list.push(item);
        return () => void list.splice(list.indexOf(item), 1);
      });
      stats.creates++;
    },
    async remove(list, item) {
      await context.commit(() => {
        const index = list.indexOf(item);
        list.splice(index, 1);
        return () => void list.splice(index, 0, item);
      });
      stats.deletes++;
    },
  };
  return context;
}
