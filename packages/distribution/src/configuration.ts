/** Where the device renews and creates licenses: the distributor's license service. */
export interface LicenseUrls {
  dynamicLicenseURL: string;
  licenseRenewalURL: string;
  /** A web page; the device shows an alert of its own when it is absent. */
  licenseResolutionURL?: string;
  signingCertificateURL: string;
  encryptionCertificateURL: string;
}

/** What the device reads at `/.well-known/marketplace-kit`. */
export interface MarketplaceKitConfiguration {
  restore: string;
  updates: { url: string; pollingInterval: number };
  license?: LicenseUrls;
  overridesByAppleItemID?: Record<
    string,
    Omit<MarketplaceKitConfiguration, "overridesByAppleItemID">
  >;
}

/** The options of {@link marketplaceKitConfiguration}. */
export interface ConfigurationOptions {
  /** Where devices POST restore requests: an https URL (http on loopback, for trials). */
  restore: string;
  /** Where devices POST updates requests. */
  updatesUrl: string;
  /** Hours between update checks, at least 24 (Apple's floor). Default 24. */
  pollingInterval?: number;
  license?: LicenseUrls;
  /**
   * Complete configurations for some apps, by Apple ID. Whether the device merges a partial
   * override with the defaults is undocumented, so each is written whole: what is not given is
   * taken from the defaults here.
   */
  overridesByAppleItemID?: Record<
    string,
    Partial<Pick<ConfigurationOptions, "restore" | "updatesUrl" | "pollingInterval" | "license">>
  >;
}

/**
 * Builds the `/.well-known/marketplace-kit` document, refusing what a device would not take: a
 * URL that is not https (http is allowed on loopback, for trials), a polling interval under 24
 * hours (it is in hours: 43200 is five years, not twelve hours), license URLs with one missing.
 * Bad options throw a `TypeError` that names the option and says what it must be.
 *
 * @example
 * ```ts
 * import { marketplaceKitConfiguration } from "@asc-kit/distribution";
 *
 * const configuration = marketplaceKitConfiguration({
 *   restore: "https://apps.example.com/marketplace-kit/restore",
 *   updatesUrl: "https://apps.example.com/marketplace-kit/updates",
 *   pollingInterval: 48,
 * });
 * ```
 */
export function marketplaceKitConfiguration(
  options: ConfigurationOptions,
): MarketplaceKitConfiguration {
  const base = single(options, "");
  const overrides = Object.entries(options.overridesByAppleItemID ?? {});
  if (overrides.length === 0) return base;
  const overridesByAppleItemID: NonNullable<MarketplaceKitConfiguration["overridesByAppleItemID"]> =
    {};
  for (const [appleItemId, override] of overrides) {
    if (!/^\d{1,20}$/.test(appleItemId)) {
      throw new TypeError(
        `overridesByAppleItemID keys must be Apple IDs (digits), not ${JSON.stringify(appleItemId.slice(0, 40))}.`,
      );
    }
    overridesByAppleItemID[appleItemId] = single(
      { ...options, ...override },
      `overridesByAppleItemID.${appleItemId}.`,
    );
  }
  return { ...base, overridesByAppleItemID };
}

function single(
  options: ConfigurationOptions,
  where: string,
): Omit<MarketplaceKitConfiguration, "overridesByAppleItemID"> {
  const pollingInterval = options.pollingInterval ?? 24;
  if (!Number.isInteger(pollingInterval) || pollingInterval < 24 || pollingInterval > 24 * 366) {
    throw new TypeError(
      `${where}pollingInterval is in hours, from 24 (Apple's floor) to 8784; got ${String(pollingInterval)}. 43200 would be five years, not twelve hours.`,
    );
  }
  const configuration: Omit<MarketplaceKitConfiguration, "overridesByAppleItemID"> = {
    restore: deviceUrl(options.restore, `${where}restore`),
    updates: { url: deviceUrl(options.updatesUrl, `${where}updatesUrl`), pollingInterval },
  };
  if (options.license) configuration.license = licenseOf(options.license, `${where}license`);
  return configuration;
}

function licenseOf(license: LicenseUrls, where: string): LicenseUrls {
  const required = [
    "dynamicLicenseURL",
    "licenseRenewalURL",
    "signingCertificateURL",
    "encryptionCertificateURL",
  ] as const;
  const checked = {} as LicenseUrls;
  for (const name of required) checked[name] = deviceUrl(license[name], `${where}.${name}`);
  if (license.licenseResolutionURL !== undefined) {
    checked.licenseResolutionURL = deviceUrl(
      license.licenseResolutionURL,
      `${where}.licenseResolutionURL`,
    );
  }
  return checked;
}

/** A URL the device will call: https, or http on a loopback host for trials. */
export function deviceUrl(value: unknown, name: string): string {
  let url: URL;
  try {
    url = new URL(String(value));
  } catch {
    throw new TypeError(`${name} must be an absolute URL, such as https://apps.example.com/path.`);
  }
  if (url.protocol !== "https:" && !(url.protocol === "http:" && isLoopbackHost(url.hostname))) {
    throw new TypeError(
      `${name} must be https (devices use TLS for every call); http only on loopback, for trials.`,
    );
  }
  if (url.username || url.password) throw new TypeError(`${name} must not carry credentials.`);
  return url.href;
}

export function isLoopbackHost(hostname: string): boolean {
  return (
    hostname === "localhost" ||
    hostname === "[::1]" ||
    /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(hostname)
  );
}
