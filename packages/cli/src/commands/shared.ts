import type { Result } from "@asc-kit/core";
import { ExitCode } from "../exit-codes.js";
import type { Io } from "../output.js";
import { Exit, usageError } from "../report.js";

/** The data of a helper's result; its error is thrown for the reporter. */
export function unwrap<T>(result: Result<T>): T {
  if (result.error) throw result.error;
  return result.data as T;
}

/** Asks on a terminal; elsewhere insists on --yes. Declining ends the command with success. */
export async function confirm(io: Io, yes: boolean | undefined, question: string): Promise<void> {
  if (yes) return;
  if (!io.isTty) throw usageError("Refusing to remove without confirmation: pass --yes.");
  if (!(await io.confirm(question))) throw new Exit(ExitCode.ok);
}

/** What an environment variable's name may be: what a shell can export. */
const variableName = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;

/**
 * The secret in the environment variable named by `--secret-env`. The name is never repeated
 * in a message: a common slip is to give the secret itself there.
 */
export function secretFromEnv(io: Io, name: string): string {
  if (!variableName.test(name)) {
    throw usageError(
      "--secret-env takes the name of an environment variable (letters, digits and _), not the secret itself.",
      "export WEBHOOK_SECRET=… and pass --secret-env WEBHOOK_SECRET.",
    );
  }
  const secret = io.env[name];
  if (!secret) {
    throw usageError(
      "The variable named by --secret-env is not set or is empty: put the webhook's secret in it.",
    );
  }
  return secret;
}

/** Resolves once SIGINT or SIGTERM has arrived and `stop` has finished: a server's lifetime. */
export function untilStopped(stop: () => Promise<unknown>): Promise<void> {
  return new Promise<void>((resolve) => {
    const onSignal = () => {
      process.off("SIGINT", onSignal);
      process.off("SIGTERM", onSignal);
      void stop().then(() => resolve());
    };
    process.on("SIGINT", onSignal);
    process.on("SIGTERM", onSignal);
  });
}
