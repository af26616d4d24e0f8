import { spawn } from "node:child_process";
import { signNotification } from "@asc-kit/notifications";
import { describe, expect, it } from "vitest";
import { bin } from "./test-support/binary.js";

describe("asc-kit notifications listen", () => {
  it("prints each verified notification once, and refuses a forged one", async () => {
    const secret = "a webhook secret";
    const child = spawn(
      process.execPath,
      [bin, "notifications", "listen", "--secret-env", "HOOK_SECRET"],
      {
        env: { PATH: process.env.PATH, HOOK_SECRET: secret },
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    try {
      let stderr = "";
      let stdout = "";
      child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
      const url = await new Promise<string>((resolve) =>
        child.stderr.on("data", (chunk: Buffer) => {
          stderr += chunk.toString();
          const found = /listening on (\S+)/.exec(stderr)?.[1];
          if (found) resolve(found);
        }),
      );
      const body = JSON.stringify({
        data: {
          type: "AppUnavailable",
          id: "n-9",
          attributes: { marketplaceAppId: "1", appId: "6476788026" },
        },
      });
      const send = async (signedWith: string) =>
        (
          await fetch(url, {
            method: "POST",
            headers: { "x-apple-signature": await signNotification(body, signedWith) },
            body,
          })
        ).status;
      expect(await send(secret)).toBe(200);
      expect(await send(secret)).toBe(200);
      expect(await send("not the secret")).toBe(401);
      await new Promise((resolve) => setTimeout(resolve, 100));
      const lines = stdout.trim().split("\n");
      expect(lines).toHaveLength(1);
      expect(JSON.parse(lines[0]!)).toMatchObject({ type: "appUnavailable", id: "n-9" });
      expect(stderr).toMatch(/refused: POST answered 401/);
      expect(stdout + stderr).not.toContain(secret);
    } finally {
      child.kill("SIGTERM");
    }
  });
});
