/**
 * pnpm lint:spec: Redocly's recommended rules over the excerpt. Quiet when the excerpt is clean;
 * everything Redocly said when it is not. Redocly's banners (such as its notice about Node.js 20)
 * are not findings about the excerpt and are left out.
 */
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const spec = "spec/app-store-connect.yaml";
const result = spawnSync(
  "redocly",
  ["lint", spec, "--config", "spec/redocly.yaml", "--format", "stylish"],
  {
    cwd: root,
    encoding: "utf8",
    env: { ...process.env, REDOCLY_TELEMETRY: "off", REDOCLY_SUPPRESS_UPDATE_NOTICE: "true" },
  },
);
if (result.error) throw result.error;
const said = `${result.stdout}${result.stderr}`
  .split("\n")
  .filter((line) => !/^\s*[╔║╚]/.test(line))
  .join("\n")
  .trim();
const clean = result.status === 0 && /Your API description is valid/.test(said);
if (clean && !/warning/i.test(said)) {
  console.log(`${spec}: valid under Redocly's recommended rules.`);
} else {
  console.log(said);
  process.exitCode = result.status === 0 ? 0 : (result.status ?? 1);
}
