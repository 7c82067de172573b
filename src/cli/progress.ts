import type { SearchProgress } from '../search/search.js';
import { formatClock } from './output.js';

export interface ProgressReporter {
  update(progress: SearchProgress): void;
  /** Removes a redrawn bar so that what follows starts on a clean line. */
  finish(): void;
}

interface Stream {
  write(text: string): unknown;
  columns?: number;
}

const REDRAW_INTERVAL_MS = 100;
const BAR_WIDTH = 24;

function overallPercent(progress: SearchProgress): number {
  return progress.total > 0 ? (100 * progress.done) / progress.total : 0;
}

/** A one-line bar redrawn in place with `\r` (for a terminal). */
export class ProgressBar implements ProgressReporter {
  private lastDraw = 0;
  private drawn = false;

  constructor(private readonly stream: Stream) {}

  update(progress: SearchProgress): void {
    const now = Date.now();
    const roundDone = progress.candidate === progress.candidates;
    if (!roundDone && now - this.lastDraw < REDRAW_INTERVAL_MS) return;
    this.lastDraw = now;
    const fraction = progress.total > 0 ? progress.done / progress.total : 0;
    const filled = Math.round(fraction * BAR_WIDTH);
    const bar = '#'.repeat(filled) + '-'.repeat(BAR_WIDTH - filled);
    const eta = progress.etaSeconds === undefined ? '--:--' : formatClock(progress.etaSeconds);
    let line =
      `round ${progress.round} (${progress.stage}) [${bar}] candidate ${progress.candidate}/${progress.candidates}` +
      ` | ${overallPercent(progress).toFixed(0)}% | elapsed ${formatClock(progress.elapsedSeconds)} | ETA ${eta}`;
    const columns = this.stream.columns;
    if (columns !== undefined && columns > 10 && line.length > columns - 1) line = line.slice(0, columns - 1);
    this.stream.write(`\r${line}\x1b[K`);
    this.drawn = true;
  }

  finish(): void {
    if (this.drawn) this.stream.write('\r\x1b[K');
    this.drawn = false;
  }
}

/** One plain line per finished round (for logs and pipes). */
export class ProgressLines implements ProgressReporter {
  constructor(private readonly stream: Stream) {}

  update(progress: SearchProgress): void {
    const eta = progress.etaSeconds === undefined ? '' : `, ETA ${formatClock(progress.etaSeconds)}`;
    // Without a terminal there is no bar, so say early how long the search will take.
    if (progress.done === 1 && progress.candidate === 1) {
      this.stream.write(`scoring ${progress.total} candidates; the first took ${formatClock(progress.elapsedSeconds)}${eta}\n`);
    }
    if (progress.candidate !== progress.candidates) return;
    this.stream.write(
      `round ${progress.round} (${progress.stage}): ${progress.candidates} candidates scored; ` +
        `${progress.done}/${progress.total} overall (${overallPercent(progress).toFixed(0)}%), elapsed ${formatClock(progress.elapsedSeconds)}${eta}\n`,
    );
  }

  finish(): void {}
}

export const silentProgress: ProgressReporter = { update() {}, finish() {} };
