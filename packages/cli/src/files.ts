import { access, mkdir, readFile, writeFile } from "node:fs/promises";
import { describeErrno, errnoOf, localError, looksLikeSecret, shown } from "./report.js";
import type { Io } from "./output.js";

/** What a file name was given as, for messages: `"--private-key-path"`, `"<file>"`. */
export interface FileRole {
  /** How the user gave it: an option, an argument or a variable. */
  name: string;
  /** What to do instead when the value turns out to be the key itself. */
  insteadOfKey: string;
}

/** The largest file read as a key or a token: such files are a few hundred bytes. */
const maxTextFileBytes = 1024 * 1024;

/**
 * Reads a text file named on the command line. A value that is not a file name but the key
 * itself (a likely mistake with `"$(cat key.p8)"`) is refused without being printed.
 */
export async function readText(path: string, role: FileRole): Promise<string> {
  if (looksLikeSecret(path)) {
    throw localError(
      `${role.name} holds what looks like the key itself, not a file name. ${role.insteadOfKey}`,
      "KEY_GIVEN_AS_PATH",
    );
  }
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    throw fileError("read", path, error);
  }
  if (text.length > maxTextFileBytes) {
    throw localError(
      `${shown(path)} is larger than 1 MiB: it is not a key file.`,
      "FILE_TOO_LARGE",
    );
  }
  return text;
}

/** A key from a file, or from standard input when the name is `-`. */
export async function readKeyInput(file: string, io: Io, role: FileRole): Promise<string> {
  return file === "-" ? io.readStdin() : readText(file, role);
}

/** Creates a folder (and its parents), with a plain message when that is impossible. */
export async function makeFolder(path: string): Promise<void> {
  await mkdir(path, { recursive: true }).catch((error: unknown) => {
    throw fileError("create the folder", path, error);
  });
}

/** Writes a new file, never overwriting one. */
export async function writeNewFile(path: string, text: string, mode = 0o644): Promise<void> {
  await writeFile(path, text, { mode, flag: "wx" }).catch((error: unknown) => {
    throw fileError("write", path, error);
  });
}

export async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}

/** A file-system failure as exit code 1 with a plain message, never a raw errno string. */
export function fileError(action: string, path: string, error: unknown) {
  const errno = errnoOf(error);
  // Node's own messages repeat the value (and temporary names): say it in words instead.
  const reason = errno ? describeErrno(errno) : "it is not a usable file name";
  return localError(`Cannot ${action} ${shown(path)}: ${reason}.`, errno ?? "LOCAL");
}
