/** Where a command writes, so that tests and the demo can capture it. */
export interface Io {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  /** Reads all of standard input (for `-` as a file name). */
  readStdin: () => Promise<string>;
  env: Record<string, string | undefined>;
  /** Whether standard output/error are terminals (colors, prompts). */
  isTty: boolean;
  /** Whether standard error is a terminal (progress bars); default `isTty`. */
  stderrIsTty?: boolean;
  /** Asks a yes/no question on the terminal. */
  confirm: (question: string) => Promise<boolean>;
}

/** Colors for terminals, off when NO_COLOR is set or output is not a terminal. */
export function palette(io: Io) {
  const enabled = io.isTty && !("NO_COLOR" in io.env && io.env.NO_COLOR !== "");
  const wrap = (code: number) => (text: string) =>
    enabled ? `\u001b[${code}m${text}\u001b[0m` : text;
  return { red: wrap(31), green: wrap(32), yellow: wrap(33), dim: wrap(2), bold: wrap(1) };
}

/** A plain text table with a header row, columns padded to their widest cell. */
export function table(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = headers.map((header, column) =>
    Math.max(header.length, ...rows.map((row) => (row[column] ?? "").length)),
  );
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, column) =>
        column === cells.length - 1 ? cell : cell.padEnd(widths[column] ?? 0),
      )
      .join("  ")
      .trimEnd();
  return [line(headers), ...rows.map(line)].join("\n") + "\n";
}

export function json(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}
