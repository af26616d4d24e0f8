/** What a download reports as bytes arrive. */
export interface ProgressUpdate {
  assetPath: string;
  bytes: number;
  total: number;
}

const barWidth = 24;
/** Redraws at most this often: a download reports every piece, a terminal needs ten a second. */
const redrawMs = 100;

/**
 * Progress bars on a terminal, one line per asset, redrawn in place (the cursor moves back up
 * over the lines it drew) and at most ten times a second.
 *
 * @example
 * ```ts
 * const progress = progressBars((text) => process.stderr.write(text));
 * progress.update({ assetPath: "variant/a.ipa", bytes: 512, total: 1024 });
 * progress.finish();
 * ```
 */
export function progressBars(write: (text: string) => void, now: () => number = Date.now) {
  const assets = new Map<string, ProgressUpdate>();
  let drawnLines = 0;
  let drawnAt = Number.NEGATIVE_INFINITY;
  const draw = () => {
    drawnAt = now();
    let text = drawnLines > 0 ? `\u001b[${drawnLines}A` : "";
    for (const asset of assets.values()) text += `\u001b[2K${line(asset)}\n`;
    drawnLines = assets.size;
    write(text);
  };
  return {
    update(progress: ProgressUpdate) {
      const isNew = !assets.has(progress.assetPath);
      assets.set(progress.assetPath, progress);
      if (isNew || now() - drawnAt >= redrawMs) draw();
    },
    /** Draws the final state. */
    finish() {
      if (assets.size > 0) draw();
    },
  };
}

function line({ assetPath, bytes, total }: ProgressUpdate): string {
  const share = total === 0 ? 1 : Math.min(1, bytes / total);
  const filled = Math.round(share * barWidth);
  const megabytes = (value: number) => (value / 1e6).toFixed(1);
  return `${"█".repeat(filled)}${"░".repeat(barWidth - filled)} ${String(Math.floor(share * 100)).padStart(3)}%  ${megabytes(bytes)}/${megabytes(total)} MB  ${assetPath}`;
}
