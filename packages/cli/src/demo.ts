import {
  addAlternativeDistributionKey,
  createAlternativeDistributionPackage,
  createAppStoreConnectClient,
  getAlternativeDistributionPackageVersion,
  listAlternativeDistributionPackageVersions,
  getAlternativeDistributionKey,
  paginate,
  removeAlternativeDistributionKey,
} from "@asc-kit/core";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { downloadPackageVersion } from "@asc-kit/download";
import { PemError, fingerprint, generateKeyPair } from "@asc-kit/pem";
import { createInstallTokenSigner, verifyInstallVerificationToken } from "@asc-kit/install-token";
import { startSandbox } from "@asc-kit/sandbox";
import { demoServing } from "./demo-serve.js";
import { palette } from "./output.js";
import type { Io } from "./output.js";

/** The damaged key of Apple's "Add an alternative distribution key" page (its DER does not parse). */
const appleCorruptSample =
  "-----BEGIN PUBLIC KEY-----MFkwEwYHKoZIzj0CAQYIKoZIzj0DA7021gAEFQUkD1YB67wg3e0VD/2c3N3Wf92nuQqDgFZuYG/NcYLwT3Zdw77s6//8XSI2NYv7WNgUONxMj+j65Qijq4/fhw==-----END PUBLIC KEY-----";
const demoApp = "6476788026";

/**
 * Walks the alternative distribution key lifecycle against a sandbox started in this process,
 * through the public APIs only, and prints what happens at each step.
 */
export async function runDemo(io: Io): Promise<void> {
  const colors = palette(io);
  let step = 0;
  const say = (title: string) => io.stdout(`\n${colors.bold(`${++step}. ${title}`)}\n`);
  const note = (text: string) => io.stdout(`   ${text}\n`);
  const fail = (text: string): never => {
    throw new Error(`demo: ${text}`);
  };

  const sandbox = await startSandbox();
  try {
    io.stdout(
      `${colors.bold("asc-kit demo")}: the alternative distribution key lifecycle, against a local sandbox at ${sandbox.url}\n`,
    );
    io.stdout(
      colors.dim(
        "No Apple account is involved: the sandbox checks tokens and requests the way App Store Connect does.\n",
      ),
    );
    const client = createAppStoreConnectClient({ ...sandbox.credentials, baseUrl: sandbox.url });

    say("Generate a P-256 key pair");
    const pair = await generateKeyPair();
    note(
      `private key: PKCS#8, stays on this machine; fingerprint ${(await fingerprint(pair.privateKeyPem)).slice(0, 16)}…`,
    );

    say("Add it as the account-wide key, pasted as single-line PEM");
    const singleLine = pair.publicKeyPem.replace(/\n/g, "");
    note(`input:   ${singleLine.slice(0, 60)}…`);
    const added = await addAlternativeDistributionKey(client, { publicKey: singleLine });
    if (added.error) fail(added.error.message);
    const accountKeyId = added.data!.data.id;
    note(`added:   ${accountKeyId} (normalized to canonical PEM before upload)`);

    say("Try a second account-wide key");
    const second = await addAlternativeDistributionKey(client, {
      publicKey: (await generateKeyPair()).publicKeyPem,
    });
    if (!second.error) fail("a second account-wide key was accepted");
    note(`${colors.red("refused:")} ${second.error!.message}`);
    note(`${colors.dim("hint:")}    ${second.error!.hint}`);

    say(`Add an app-specific key for app ${demoApp}`);
    const appKey = await addAlternativeDistributionKey(client, {
      publicKey: (await generateKeyPair()).publicKeyPem,
      appId: demoApp,
    });
    if (appKey.error) fail(appKey.error.message);
    const appKeyId = appKey.data!.data.id;
    note(`added:   ${appKeyId}`);

    say("List the keys, one per page to show paging");
    let pageNumber = 0;
    for await (const page of paginate(client, "/v1/alternativeDistributionKeys", {
      params: { query: { limit: 1 } },
    })) {
      pageNumber++;
      for (const key of page.data)
        note(`page ${pageNumber}: ${key.id}${page.links.next ? "  (then links.next)" : ""}`);
    }

    say("Read one key back");
    const read = await getAlternativeDistributionKey(client, accountKeyId);
    if (read.error) fail(read.error.message);
    const matches =
      (await fingerprint(read.data!.data.attributes!.publicKey!)) ===
      (await fingerprint(pair.privateKeyPem));
    note(
      `${read.data!.data.id}: its fingerprint ${matches ? "matches" : "does NOT match"} the local private key`,
    );

    say("Refuse Apple's corrupt sample key, locally, before any request");
    const requestsBefore = sandbox.stats.requests;
    try {
      await addAlternativeDistributionKey(client, { publicKey: appleCorruptSample });
      fail("the corrupt sample key was accepted");
    } catch (error) {
      if (!(error instanceof PemError)) throw error;
      note(`${colors.red(error.code)}: ${error.message}`);
      note(`requests sent: ${sandbox.stats.requests - requestsBefore}`);
    }

    say(`Create the alternative distribution package of app ${demoApp}'s approved version`);
    const appStoreVersionId = `${demoApp}-1.0`;
    const created = await createAlternativeDistributionPackage(client, { appStoreVersionId });
    if (created.error) fail(created.error.message);
    const versions = await listAlternativeDistributionPackageVersions(
      client,
      created.data!.data.id,
    );
    const current = versions.data?.[0];
    if (!current) fail("the package has no COMPLETED version");
    const contents = await getAlternativeDistributionPackageVersion(client, current!.id);
    if (contents.error) fail(contents.error.message);
    note(`package: ${created.data!.data.id} for App Store version ${appStoreVersionId}`);
    note(
      `version: ${current!.attributes?.version} ${current!.attributes?.state}, ${contents.data!.variants.length} variants, ${contents.data!.deltas.length} deltas, URLs valid until ${current!.attributes?.urlExpirationDate}`,
    );

    say("Download it, verify every chunk against the manifest, and lay it out to serve");
    const folder = await mkdtemp(join(tmpdir(), "asc-kit-demo-"));
    let served = 0;
    try {
      const laidOut = await downloadPackageVersion(client, current!.id, {
        out: join(folder, "package"),
      });
      const bytes = laidOut.assets.reduce((sum, asset) => sum + asset.bytes, 0);
      note(
        `layout:  manifest.json, signature, ${laidOut.assets.length} variants under variant/ (${bytes} bytes, every chunk verified)`,
      );
      note(`secrets: ${laidOut.assets.length} key blobs beside the folder, mode 0600, never in it`);
      served = await demoServing({
        say,
        note,
        sandbox,
        client,
        folder,
        appleItemId: demoApp,
        packageId: created.data!.data.id,
        versionId: current!.id,
        keys: pair,
        keyId: accountKeyId,
      });
    } finally {
      await rm(folder, { recursive: true, force: true });
    }

    say("Sign an install verification token with the uploaded key, and verify it");
    const signer = createInstallTokenSigner({
      privateKey: pair.privateKeyPem,
      keyId: accountKeyId,
      appleItemId: demoApp,
    });
    const installToken = await signer.sign({
      bundleId: "com.example.marketplace.app",
      downloadType: "download",
    });
    note(
      `token:   ${installToken.slice(0, 40)}… (kid ${accountKeyId.slice(0, 8)}…, aud AppleDownloadVerification-v1)`,
    );
    const claims = await verifyInstallVerificationToken(
      installToken,
      read.data!.data.attributes!.publicKey!,
      {
        keyId: accountKeyId,
        bundleId: "com.example.marketplace.app",
      },
    );
    note(
      `verified with the public key App Store Connect returns: bid=${claims.bid} dtype=${claims.dtype} nonce=${claims.nonce}`,
    );

    say("Remove the keys");
    for (const id of [appKeyId, accountKeyId]) {
      const removed = await removeAlternativeDistributionKey(client, id);
      if (removed.error) fail(removed.error.message);
      note(`removed: ${id}`);
    }

    const budget = client.rateLimit?.["user-hour"];
    io.stdout(
      `\n${colors.green("Done.")} ${sandbox.stats.requests} requests on ${sandbox.stats.tokens} API token${sandbox.stats.tokens === 1 ? "" : "s"}, ${served + 1} install verification tokens signed, ${budget?.remaining ?? "?"} of ${budget?.limit ?? "?"} requests left this hour.\n`,
    );
  } finally {
    await sandbox.stop();
  }
}
