// The runtime smoke test: what every runtime the library packages claim must do, through the
// published packages only. Plain JavaScript, so that each runtime runs it as it is.
import { createAppStoreConnectClient, listAlternativeDistributionKeys } from "@asc-kit/core";
import { createInstallTokenSigner, verifyInstallVerificationToken } from "@asc-kit/install-token";
import { generateKeyPair, normalizePem, toPublicKeyPem } from "@asc-kit/pem";
import { createSandbox } from "@asc-kit/sandbox/web";

/**
 * Normalizes a PEM, generates a key pair, makes an authenticated list call against the
 * sandbox on loopback and copies its response's headers, signs and verifies an install
 * verification token, times out a late answer, lets a caller cancel one, and runs the
 * sandbox's own fetch handler in this runtime.
 * Resolves to a one-line summary; rejects with what failed.
 */
export async function smoke({ url, keyId, issuerId, privateKey }) {
  const escaped = privateKey.replace(/\n/g, "\\n");
  if (normalizePem(escaped) !== normalizePem(privateKey)) throw new Error("normalizePem");
  const pair = await generateKeyPair();
  const client = createAppStoreConnectClient({
    keyId,
    issuerId,
    privateKey: escaped,
    baseUrl: url,
  });
  const listed = await listAlternativeDistributionKeys(client);
  if (listed.error) throw listed.error;
  // The sandbox's answers are chunked: their headers, given the length read, copy whole when
  // nothing was asked of them yet (each answer's own: a Date or X-Rate-Limit may differ).
  const answered = async () => (await client.GET("/v1/alternativeDistributionKeys")).response;
  const names = (headers) => [...headers].map(([name]) => name).join();
  const listedNames = names((await answered()).headers);
  if (!listedNames.includes("content-length") || !listedNames.includes("content-type")) {
    throw new Error(`headers: ${listedNames}`);
  }
  const copies = {
    "new Headers": new Headers((await answered()).headers),
    "new Response with headers": new Response(null, { headers: (await answered()).headers })
      .headers,
  };
  for (const [how, copy] of Object.entries(copies)) {
    if (names(copy) !== listedNames) throw new Error(`headers copied (${how}): ${names(copy)}`);
  }
  // workerd makes a Response from a Response out of the headers fetch gave it, without the
  // length read; every other header is there.
  const remade = names(new Response(null, await answered()).headers);
  if (remade.replace("content-length,", "") !== listedNames.replace("content-length,", "")) {
    throw new Error(`headers copied (new Response from a response): ${remade}`);
  }
  // Bun's Headers count their entries, with a getter that must see the copy too.
  const counted = (await answered()).headers;
  if ("count" in counted && counted.count !== listedNames.split(",").length) {
    throw new Error(`headers counted: ${counted.count}`);
  }
  const token = await createInstallTokenSigner({
    privateKey: pair.privateKeyPem,
    keyId: "SMOKE",
    appleItemId: "6476788026",
  }).sign({ bundleId: "com.example.app", downloadType: "download" });
  const claims = await verifyInstallVerificationToken(
    token,
    await toPublicKeyPem(pair.privateKeyPem),
  );
  // A server that answers after the timeout: the attempt's deadline must fire in this runtime.
  const late = createAppStoreConnectClient({
    token: "smoke",
    timeoutMs: 50,
    retry: false,
    fetch: (_request, init) =>
      new Promise((resolve, reject) => {
        const answer = setTimeout(() => resolve(new Response("{}")), 5000);
        init.signal.addEventListener("abort", () => {
          clearTimeout(answer);
          reject(init.signal.reason);
        });
      }),
  });
  const timedOut = await late.GET("/v1/alternativeDistributionKeys").then(
    () => "answered",
    (error) => error.code,
  );
  if (timedOut !== "TIMEOUT") throw new Error(`timeout: ${timedOut}`);
  // The caller's own signal stops an attempt under way: the attempt listens for it.
  const caller = new AbortController();
  const reason = new Error("cancelled by the caller");
  const cancelling = late.GET("/v1/alternativeDistributionKeys", { signal: caller.signal }).then(
    () => "answered",
    (error) => (error === reason ? "cancelled" : String(error)),
  );
  setTimeout(() => caller.abort(reason), 5);
  const cancelled = await cancelling;
  if (cancelled !== "cancelled") throw new Error(`cancel: ${cancelled}`);
  const local = await createSandbox();
  const inProcess = createAppStoreConnectClient({ ...local.credentials, fetch: local.fetch });
  const localList = await listAlternativeDistributionKeys(inProcess);
  if (localList.error) throw localList.error;
  return `listed ${listed.data.length} keys (X-Rate-Limit ${client.rateLimit ? "seen" : "missing"}), install token for ${claims.bid}, timed out at 50 ms, cancelled by the caller, sandbox handler in process`;
}
