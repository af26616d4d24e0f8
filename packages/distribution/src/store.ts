import type { DownloadType } from "@asc-kit/install-token";

/** A package version the server can hand out: what its manifest says, and where it is served. */
export interface VersionRecord {
  /** The app's Apple ID (digits, as a string). */
  appleItemId: string;
  /** The version's Apple ID (digits, as a string). */
  appleVersionId: string;
  bundleId: string;
  shortVersionString: string;
  /** `CFBundleVersion`: what orders the versions of an app, newest last. */
  bundleVersion: string;
  /** The platforms the version runs on, from the manifest (`iOS`, `iPadOS`). */
  platforms: string[];
  /** The oldest OS version per platform, from the manifest. */
  minimumSystemVersions: Record<string, string>;
  /** The base URL the layout (`manifest.json`, `signature`, `variant/`, `delta/`) is served at. */
  packageUrl: string;
}

/** A registered version, with whether it may be handed out. */
export interface StoredVersion extends VersionRecord {
  /** False once the version, or its app, is withdrawn. */
  available: boolean;
  /** When it was first registered (ISO 8601, UTC). */
  registeredAt: string;
}

/**
 * Where the distribution handler keeps what must outlive a process: the versions it serves, and
 * which account has had which app (for `dtype`). One interface, one contract test suite, two
 * adapters with the same SQL: the embedded store (`@asc-kit/distribution/pglite`, no server)
 * and PostgreSQL (`@asc-kit/distribution/postgres`, for many server instances).
 *
 * Every method either does all it says, durably, or rejects: a rejection is answered 503.
 */
export interface DistributionStore {
  /**
   * Records a version, or updates where it is served. A version withdrawn before stays
   * withdrawn: registering the same layouts again after a restart brings nothing back.
   * `options.available` is the availability a version new to the store starts with (default
   * true), so that a version whose package was withdrawn before it arrived is never handed out.
   */
  registerVersion(record: VersionRecord, options?: { available?: boolean }): Promise<void>;
  /**
   * Withdraws (`available: false`) or brings back one version, or a whole app when
   * `appleVersionId` is not given. Resolves with how many versions or apps it changed.
   */
  setAvailability(
    available: boolean,
    appleItemId: string,
    appleVersionId?: string,
  ): Promise<number>;
  /** Every registered version of these apps, each with whether it (and its app) is available. */
  versionsOf(appleItemIds: readonly string[]): Promise<StoredVersion[]>;
  /** The Apple IDs of every app with a registered version, in order (for the search catalog). */
  apps(): Promise<string[]>;
  /**
   * Records that `account` gets these apps, atomically: `download` for an app the account never
   * had from this server, `redownload` after. Of any number of concurrent calls for one account
   * and app, exactly one answers `download`. Resolves only once the record is durable.
   */
  claimInstalls(
    account: string,
    appleItemIds: readonly string[],
  ): Promise<Map<string, DownloadType>>;
  /**
   * Keeps a one-time secret of sign-in (an install link's token, an authorization code, a
   * refresh token) by its SHA-256, never the secret itself, until `expiresAt`.
   */
  saveGrant(grant: Grant): Promise<void>;
  /**
   * Takes a one-time secret by its hash: returns and deletes it in one statement, so that of any
   * number of callers one alone gets it. `undefined` when it is unknown, taken or expired.
   */
  takeGrant(kind: GrantKind, hash: string): Promise<Pick<Grant, "account" | "data"> | undefined>;
  /** Closes connections; the store is not used after. */
  close(): Promise<void>;
}

/** What a one-time secret of sign-in is for. */
export type GrantKind = "link" | "code" | "refresh";

/** A one-time secret of sign-in, as the store keeps it. */
export interface Grant {
  kind: GrantKind;
  /** The secret's SHA-256, base64url. */
  hash: string;
  account: string;
  /** What else must match when it is used (a code's PKCE challenge and client). */
  data: Record<string, string>;
  expiresAt: Date;
}
