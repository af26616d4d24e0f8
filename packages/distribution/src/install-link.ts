/** The parameters of a `marketplace-kit://install` link. */
export interface InstallLinkOptions {
  /** The package's base URL: its host must be the page's. */
  packageUrl: string;
  installVerificationToken: string;
  /** The page the link is on (its URL): the device requires the package on the same host. */
  pageUrl: string;
  /** A one-time token the device exchanges for an access token (`issueLinkToken`). */
  token?: string;
  /** The person's account: groups restore requests, shown at sign-in. */
  account?: string;
  /** A page about the app, for the share sheet. */
  appShareURL?: string;
}

/**
 * Builds the link a page's install button navigates to, every value percent-encoded; refuses a
 * package whose host is not the page's (the device would refuse to install it) with a
 * `TypeError` that says so.
 *
 * @example
 * ```ts
 * import { installLink } from "@asc-kit/distribution";
 *
 * const link = installLink({
 *   packageUrl: "https://apps.example.com/packages/6476788026/1/",
 *   installVerificationToken: "eyJhbGciOiJFUzI1NiJ9.e30.c2ln",
 *   pageUrl: "https://apps.example.com/install",
 * });
 * ```
 */
export function installLink(options: InstallLinkOptions): string {
  const packageUrl = new URL(options.packageUrl);
  const page = new URL(options.pageUrl);
  if (packageUrl.host !== page.host) {
    throw new TypeError(
      `The package is on ${packageUrl.host} and the page on ${page.host}: the device installs only from the page's host.`,
    );
  }
  if (!options.installVerificationToken)
    throw new TypeError("installLink needs the install verification token.");
  const params: Array<[string, string | undefined]> = [
    ["alternativeDistributionPackage", packageUrl.href],
    ["installVerificationToken", options.installVerificationToken],
    ["token", options.token],
    ["account", options.account],
    ["appShareURL", options.appShareURL],
  ];
  const query = params
    .filter((entry): entry is [string, string] => entry[1] !== undefined)
    .map(([name, value]) => `${name}=${encodeURIComponent(value)}`)
    .join("&");
  return `marketplace-kit://install?${query}`;
}
