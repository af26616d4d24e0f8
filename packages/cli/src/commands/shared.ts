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
