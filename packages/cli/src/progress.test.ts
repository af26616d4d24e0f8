import { describe, expect, it } from "vitest";
import { progressBars } from "./progress.js";

describe("progressBars", () => {
  it("draws one bar per asset, redraws in place at most every 100 ms, and ends at 100%", () => {
    let clock = 0;
    const output: string[] = [];
    const progress = progressBars(
      (text) => output.push(text),
      () => clock,
    );
    progress.update({ assetPath: "variant/a.ipa", bytes: 0, total: 2_000_000 });
    progress.update({ assetPath: "variant/b.ipa", bytes: 0, total: 1_000_000 });
    expect(output).toHaveLength(2);
    // Within 100 ms of the last drawing, updates of known assets draw nothing.
    progress.update({ assetPath: "variant/a.ipa", bytes: 500_000, total: 2_000_000 });
    expect(output).toHaveLength(2);
    clock = 150;
    progress.update({ assetPath: "variant/a.ipa", bytes: 1_000_000, total: 2_000_000 });
    expect(output).toHaveLength(3);
    // The cursor goes back up over the two lines drawn before.
    expect(output[2]).toMatch(/^\u001b\[2A/);
    expect(output[2]).toContain(" 50%  1.0/2.0 MB  variant/a.ipa");
    progress.update({ assetPath: "variant/a.ipa", bytes: 2_000_000, total: 2_000_000 });
    progress.update({ assetPath: "variant/b.ipa", bytes: 1_000_000, total: 1_000_000 });
    progress.finish();
    const last = output.at(-1)!;
    expect(last.match(/100%/g)).toHaveLength(2);
    expect(last).toContain("█".repeat(24));
  });

  it("draws nothing when nothing was downloaded", () => {
    const output: string[] = [];
    progressBars((text) => output.push(text)).finish();
    expect(output).toEqual([]);
  });
});

describe("asc-kit packages download on a terminal", () => {
  it("draws progress bars on standard error, and none with --json", async () => {
    const { startSandbox } = await import("@asc-kit/sandbox");
    const { mkdtemp } = await import("node:fs/promises");
    const { tmpdir } = await import("node:os");
    const { join } = await import("node:path");
    const { run } = await import("./cli.js");
    const sandbox = await startSandbox({ installTargets: ["iPhone"] });
    try {
      const folder = await mkdtemp(join(tmpdir(), "asc-kit-progress-"));
      const invoke = async (args: string[]) => {
        const output = { stdout: "", stderr: "" };
        // Commander reads options' variables from the process: pass the credentials as flags.
        const credentials = [
          "--key-id",
          sandbox.credentials.keyId,
          "--issuer-id",
          sandbox.credentials.issuerId,
          "--private-key",
          sandbox.credentials.privateKey,
          "--base-url",
          sandbox.url,
        ];
        const code = await run([...credentials, ...args], {
          stdout: (text) => void (output.stdout += text),
          stderr: (text) => void (output.stderr += text),
          readStdin: async () => "",
          env: { NO_COLOR: "1" },
          isTty: false,
          stderrIsTty: true,
          confirm: async () => false,
        });
        return { code, ...output };
      };
      const created = await invoke([
        "--json",
        "packages",
        "create",
        "--app-store-version",
        sandbox.appStoreVersions()[0]!.id,
      ]);
      const { id } = JSON.parse(created.stdout) as { id: string };
      const versions = await invoke(["--json", "packages", "versions", id]);
      const [version] = JSON.parse(versions.stdout) as Array<{ id: string }>;
      const shown = await invoke(["packages", "download", version!.id, "--out", join(folder, "a")]);
      expect(shown.code).toBe(0);
      expect(shown.stderr).toMatch(/█{24} 100% {2}0\.2\/0\.2 MB {2}variant\/\S+\.ipa\n$/);
      const quiet = await invoke([
        "--json",
        "packages",
        "download",
        version!.id,
        "--out",
        join(folder, "b"),
      ]);
      expect(quiet.code).toBe(0);
      expect(quiet.stderr).toBe("");
    } finally {
      await sandbox.stop();
    }
  });
});
