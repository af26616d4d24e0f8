import { generateKeyPairSync } from "node:crypto";
import { execFile } from "node:child_process";

/** The built binary, run as users run it. */
export const bin = new URL("../../dist/bin.js", import.meta.url).pathname;

export interface Ran {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `asc-kit` with exactly this environment (plus PATH and NO_COLOR). */
export function runBinary(
  args: readonly string[],
  options: { env?: Record<string, string | undefined>; stdin?: string; cwd?: string } = {},
): Promise<Ran> {
  const env = { PATH: process.env.PATH, NO_COLOR: "1", ...options.env };
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      [bin, ...args],
      { env: env as NodeJS.ProcessEnv, ...(options.cwd ? { cwd: options.cwd } : {}) },
      (error, stdout, stderr) => {
        resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr });
      },
    );
    child.stdin?.end(options.stdin ?? "");
  });
}

/** A fresh EC P-256 public key as SPKI PEM, for `keys add`. */
export const newPublicKey = () =>
  generateKeyPairSync("ec", { namedCurve: "P-256" })
    .publicKey.export({ type: "spki", format: "pem" })
    .toString();
