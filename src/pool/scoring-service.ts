import { runBenchmarks, type BenchReport } from '../bench/bench.js';
import { createBackend } from '../engine/create.js';
import { ArchScorer, type ArchScore } from '../evaluation/arch-scorer.js';
import type { IndexedArch } from '../evaluation/selection.js';
import { LinearAlgebra } from '../metrics/linalg.js';
import { CandidateScorer, type CandidateMeasurement, type CandidateTask } from '../search/scorer.js';
import { searchSpace } from '../spaces/index.js';
import type { ScoringService, WorkerBenchOptions, WorkerFault, WorkerSearchContext } from './protocol.js';

/** The worker side of the pool: one backend, one `LinearAlgebra` and one scorer, reused for every task. */
export function createScoringService(exitWorker: () => void): ScoringService {
  let scorer: CandidateScorer | undefined;
  let archScorer: ArchScorer | undefined;
  return {
    async init(context: WorkerSearchContext): Promise<void> {
      if (scorer) throw new Error('this pool worker is already initialised');
      const [backend, linalg] = await Promise.all([createBackend(context.backend), LinearAlgebra.create()]);
      scorer = new CandidateScorer(backend, linalg, searchSpace(context.settings.space), context.settings, context.images);
      if (context.images) archScorer = new ArchScorer(backend, linalg, context.settings, context.images);
    },

    bench(options: WorkerBenchOptions): Promise<BenchReport> {
      return runBenchmarks(options);
    },

    async scoreArch(arch: IndexedArch): Promise<ArchScore> {
      if (!archScorer) throw new Error('scoreArch() needs a worker initialised with images');
      return archScorer.score(arch);
    },

    async score(task: CandidateTask, fault?: WorkerFault): Promise<CandidateMeasurement> {
      if (!scorer) throw new Error('score() called before init()');
      if (fault) injectFault(fault, exitWorker);
      return scorer.score(task);
    },
  };
}

function injectFault(fault: WorkerFault, exitWorker: () => void): void {
  switch (fault) {
    case 'exit':
      exitWorker();
      return;
    case 'uncaught':
      setTimeout(() => {
        throw new Error('injected uncaught error in a pool worker');
      });
      return;
    case 'stall':
      for (;;) {
        // Busy forever, as a worker stuck in a kernel would be: only terminate() ends it.
      }
  }
}
