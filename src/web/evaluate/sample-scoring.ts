import type { ImageSet } from '../../data/cifar.js';
import type { BackendName } from '../../engine/backend.js';
import { createBackend } from '../../engine/create.js';
import { throwIfAborted, unlessAborted, yieldThenCheck } from '../../errors.js';
import { ArchScorer, type ArchScore } from '../../evaluation/arch-scorer.js';
import type { IndexedArch } from '../../evaluation/selection.js';
import { LinearAlgebra } from '../../metrics/linalg.js';
import { startArchScoringWorker, type ArchScoringWorker } from '../../pool/index.js';
import type { SearchSettings } from '../../search/settings.js';

export interface ScoredArch {
  readonly arch: IndexedArch;
  readonly score: ArchScore;
  readonly seconds: number;
}

export interface SampleScoringOptions {
  readonly backend: BackendName;
  readonly settings: SearchSettings;
  readonly images: ImageSet;
  readonly archs: readonly IndexedArch[];
  /** Module workers scoring architectures in parallel; 0: on this thread, yielding to the page between architectures. */
  readonly workers: number;
  readonly workerUrl: URL;
  readonly signal: AbortSignal;
  readonly onScored?: (done: number, total: number) => void;
}

/**
 * Scores the sample as `tenas correlate` does (the same `ArchScorer`, the same named random streams),
 * in the pool's module workers or on this thread. Each architecture's streams depend only on it and
 * the settings, so the scores do not depend on the number of workers; they come back in sample order.
 */
export async function scoreSample(options: SampleScoringOptions): Promise<ScoredArch[]> {
  return options.workers > 0 ? scoreInWorkers(options) : scoreOnThisThread(options);
}

async function timed(arch: IndexedArch, score: (arch: IndexedArch) => Promise<ArchScore>): Promise<ScoredArch> {
  const started = performance.now();
  const result = await score(arch);
  return { arch, score: result, seconds: (performance.now() - started) / 1000 };
}

async function scoreOnThisThread({ backend: backendName, settings, images, archs, signal, onScored }: SampleScoringOptions): Promise<ScoredArch[]> {
  const [backend, linalg] = await Promise.all([createBackend(backendName), LinearAlgebra.create()]);
  try {
    const scorer = new ArchScorer(backend, linalg, settings, images);
    const scored: ScoredArch[] = [];
    for (const arch of archs) {
      await yieldThenCheck(signal);
      scored.push(await timed(arch, (next) => scorer.score(next)));
      onScored?.(scored.length, archs.length);
    }
    return scored;
  } finally {
    backend.dispose();
  }
}

async function scoreInWorkers({ backend, settings, images, archs, workers, workerUrl, signal, onScored }: SampleScoringOptions): Promise<ScoredArch[]> {
  const started: Promise<ArchScoringWorker>[] = Array.from({ length: Math.min(workers, archs.length) }, () =>
    startArchScoringWorker({ backend, settings, images, workerUrl }),
  );
  const closeAll = () => Promise.all(started.map((worker) => worker.then((ready) => ready.close(), () => undefined)));
  // Cancelling closes the workers at once: a measurement in progress cannot be interrupted otherwise.
  const onAbort = () => void closeAll();
  signal.addEventListener('abort', onAbort, { once: true });
  try {
    const pool = await unlessAborted(Promise.all(started), signal);
    const scored: ScoredArch[] = new Array(archs.length);
    let next = 0;
    let done = 0;
    await unlessAborted(
      Promise.all(
        pool.map(async (worker) => {
          while (next < archs.length) {
            throwIfAborted(signal);
            const position = next++;
            scored[position] = await timed(archs[position], (arch) => worker.score(arch));
            onScored?.(++done, archs.length);
          }
        }),
      ),
      signal,
    );
    return scored;
  } finally {
    signal.removeEventListener('abort', onAbort);
    await closeAll();
  }
}
