import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { run } from "@asc-kit/cli";
import type { Io } from "@asc-kit/cli";
import {
  addAlternativeDistributionKey,
  createAppStoreConnectClient,
  createTokenProvider,
  getAlternativeDistributionKey,
  listAlternativeDistributionKeys,
  paginate,
  removeAlternativeDistributionKey,
} from "@asc-kit/core";
import { toAppStoreConnectError } from "@asc-kit/errors";
import { generateKeyPair } from "@asc-kit/pem";
import { startSandbox } from "@asc-kit/sandbox";
import { describe, expect, it } from "vitest";

/** Everything an error exposes to a log or a screen. */
function exposed(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const parts = [error.message, error.stack ?? "", safeJson(error)];
  let cause = (error as { cause?: unknown }).cause;
  for (let depth = 0; cause instanceof Error && depth < 5; depth++) {
    parts.push(cause.message, cause.stack ?? "");
    cause = (cause as { cause?: unknown }).cause;
  }
  for (const key of ["hint", "bodyExcerpt", "url"] as const)
    parts.push(String((error as unknown as Record<string, unknown>)[key]));
  return parts.join("\n");
}

function safeJson(value: unknown): string {
  try {
    return JSON.stringify(value);
  } catch {
    return "";
  }
}

describe("secrets", () => {
  it("no error of core, the errors package or the CLI contains the private key or a token", async () => {
    const sandbox = await startSandbox({ hourlyRequestLimit: 40 });
    const { privateKeyPem } = await generateKeyPair();
    const apiKeyBody = sandbox.credentials.privateKey.split("\n").slice(1, -2).join("");
    const ownKeyBody = privateKeyPem.split("\n").slice(1, -2).join("");
    const token = await createTokenProvider(sandbox.credentials).getToken();
    const forbidden = [
      apiKeyBody,
      apiKeyBody.slice(0, 40),
      ownKeyBody.slice(0, 40),
      token,
      token.split(".")[2]!,
    ];
    const said: string[] = [];
    const collect = (error: unknown) => said.push(exposed(error));
    try {
      const client = createAppStoreConnectClient({
        ...sandbox.credentials,
        baseUrl: sandbox.url,
        retry: { baseDelayMs: 1 },
      });
      const wrongKey = createAppStoreConnectClient({
        ...sandbox.credentials,
        privateKey: privateKeyPem,
        baseUrl: sandbox.url,
      });
      const withToken = createAppStoreConnectClient({ token, baseUrl: sandbox.url });
      const offline = createAppStoreConnectClient({
        ...sandbox.credentials,
        baseUrl: "http://127.0.0.1:9",
        retry: false,
      });
      const paths: Array<() => Promise<unknown>> = [
        async () => (await listAlternativeDistributionKeys(wrongKey)).error, // 401
        async () => (await getAlternativeDistributionKey(client, "missing")).error, // 404
        async () =>
          (await addAlternativeDistributionKey(client, { publicKey: privateKeyPem })).error, // created
        async () =>
          (
            await addAlternativeDistributionKey(client, {
              publicKey: (await generateKeyPair()).publicKeyPem,
            })
          ).error, // 409
        async () =>
          (
            await withToken.POST("/v1/alternativeDistributionKeys", {
              body: {
                data: { type: "alternativeDistributionKeys", attributes: { publicKey: "x" } },
              },
            })
          ).error, // 422
        async () => (await removeAlternativeDistributionKey(offline, "x")).error, // network
        async () =>
          addAlternativeDistributionKey(client, { publicKey: privateKeyPem.replace("MIG", "M!G") }), // PemError
        async () =>
          createAppStoreConnectClient({
            ...sandbox.credentials,
            privateKey: privateKeyPem.slice(0, 120),
          }), // PemError
        async () => createAppStoreConnectClient({ ...sandbox.credentials, issuerId: "no" }), // TypeError
        async () => {
          for await (const _page of paginate(wrongKey, "/v1/alternativeDistributionKeys"));
        },
        async () =>
          toAppStoreConnectError(
            new Response(`<html>echo: Authorization: Bearer ${token}\n${privateKeyPem}</html>`, {
              status: 502,
            }),
            new Request(`${sandbox.url}/v1/x`, { headers: { Authorization: `Bearer ${token}` } }),
          ),
      ];
      for (const path of paths) {
        try {
          collect(await path());
        } catch (error) {
          collect(error);
        }
      }
      // Spend the rate limit, for the 429 path.
      let limited: unknown;
      for (let index = 0; index < 45 && !limited; index++) {
        limited = (
          await getAlternativeDistributionKey(
            createAppStoreConnectClient({
              ...sandbox.credentials,
              baseUrl: sandbox.url,
              retry: false,
            }),
            "x",
          )
        ).error;
        if ((limited as { kind?: string } | undefined)?.kind !== "rate-limited")
          limited = undefined;
      }
      expect(limited).toBeDefined();
      collect(limited);

      // The CLI, in-process, through its error paths.
      const folder = await mkdtemp(join(tmpdir(), "asc-kit-secrets-"));
      const keyFile = join(folder, "key.pem");
      await writeFile(keyFile, privateKeyPem);
      const cliOutput: string[] = [];
      const io = (env: Record<string, string | undefined>): Io => ({
        stdout: (text) => cliOutput.push(text),
        stderr: (text) => cliOutput.push(text),
        readStdin: async () => privateKeyPem,
        env,
        isTty: false,
        confirm: async () => false,
      });
      const credentials = {
        ASC_KEY_ID: sandbox.credentials.keyId,
        ASC_ISSUER_ID: sandbox.credentials.issuerId,
        ASC_PRIVATE_KEY: privateKeyPem,
        ASC_BASE_URL: sandbox.url,
      };
      const commands = [
        ["keys", "list"],
        ["keys", "get", "x"],
        ["--json", "keys", "list"],
        ["keys", "add", keyFile],
        ["keys", "remove", "x", "--yes"],
        ["keys", "check", "-"],
      ];
      const previous = { ...process.env };
      try {
        Object.assign(process.env, credentials);
        for (const args of commands) await run(args, io(process.env));
      } finally {
        for (const name of Object.keys(credentials)) delete process.env[name];
        Object.assign(process.env, previous);
      }

      const everything = [...said, ...cliOutput].join("\n");
      let hits = 0;
      for (const secret of forbidden) if (everything.includes(secret)) hits++;
      console.log(
        `secrets: ${said.length} core errors and ${commands.length} CLI runs scanned (${everything.length} characters): ${hits} hits`,
      );
      expect(hits).toBe(0);
      expect(said.length).toBeGreaterThanOrEqual(paths.length);
    } finally {
      await sandbox.stop();
    }
  });
});
