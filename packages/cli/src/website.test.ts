import { existsSync } from "node:fs";
import { chromium } from "playwright-core";
import { describe, expect, it } from "vitest";
import { runBinary } from "./test-support/binary.js";
import { app, distributor, keyId, layoutsOnDisk, serve } from "./test-support/layouts.js";

/** Debian's chromium (`.ci/run` installs it), or another on the usual paths. */
const browserPath = [
  process.env.CHROMIUM_PATH,
  "/usr/bin/chromium",
  "/usr/bin/chromium-browser",
  "/usr/bin/google-chrome",
].find((path): path is string => path !== undefined && existsSync(path));
if (!browserPath && !process.env.CI)
  console.warn("Chromium is not installed: the website walk-through in a browser is SKIPPED.");

describe.skipIf(!browserPath && !process.env.CI)(
  "web distribution, from the install button to the device",
  () => {
    it("a page in Chromium, the button pressed, the link installed; a refused token, PKCE, retry", async () => {
      const layouts = await layoutsOnDisk();
      const server = await serve(layouts.root, layouts.privateKey, [
        "--trial-account",
        "frida@example.com",
      ]);
      const browser = await chromium.launch({
        executablePath: browserPath!,
        args: ["--no-sandbox"],
      });
      try {
        const page = await browser.newPage();
        const links: string[] = [];
        page.on("request", (request) => {
          if (request.url().startsWith("marketplace-kit:")) links.push(request.url());
        });
        await page.goto(`${server.url}/install/${app}`);
        expect(links).toEqual([]);
        await page.click("#install");
        await expect.poll(() => links.length).toBe(1);
        const device = (...more: string[]) =>
          runBinary([
            "--json",
            ...["device", "install", "--origin", server.url, "--app", app, ...more],
            ...[
              "--public-key",
              layouts.publicKey,
              "--distribution-key-id",
              keyId,
              "--apple-id",
              distributor,
            ],
          ]);
        const installed = await device("--link", links[0]!);
        expect(installed.code, installed.stderr).toBe(0);
        const steps = installed.stdout
          .trim()
          .split("\n")
          .map((line) => JSON.parse(line) as Record<string, any>);
        expect(steps.filter((step) => step.step).map((step) => step.step)).toEqual([
          "configuration",
          "link",
          "sign-in",
          "restore",
          "token",
          "package-host",
          "manifest",
          "signature",
          "variant",
        ]);
        expect(steps.at(-1)).toMatchObject({ ok: true, installed: { downloadType: "redownload" } });
        // The same link again: its token was single-use, so the device signs in with PKCE instead.
        const replayed = await device("--link", links[0]!);
        expect(replayed.code).toBe(1);
        expect(JSON.parse(replayed.stderr)).toMatchObject({
          message: expect.stringMatching(/^The sign-in step failed: the link's token was refused/),
        });
        const refused = await device("--token", "not-a-token");
        expect(refused.code, refused.stderr).toBe(0);
        const names = refused.stdout
          .trim()
          .split("\n")
          .map((line) => JSON.parse(line) as Record<string, any>);
        expect(
          names
            .filter((step) => step.step)
            .slice(1, 4)
            .map((step) => `${step.step}:${step.detail}`),
        ).toEqual([
          "restore:403: signing in again",
          "sign-in:signed in with an authorization code and PKCE S256",
          expect.stringMatching(/^restore:version \d+ at /),
        ]);
      } finally {
        await browser.close();
        await server.stop();
      }
    }, 90_000);
  },
);
