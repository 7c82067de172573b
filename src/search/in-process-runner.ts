import type { CandidateRunner } from './search.js';
import type { CandidateMeasurement, CandidateScorer, CandidateTask } from './scorer.js';

/** Scores a round's candidates one after another on the calling thread. */
export class InProcessRunner implements CandidateRunner {
  constructor(private readonly scorer: CandidateScorer) {}

  async run(tasks: CandidateTask[], onTaskDone: () => void, signal?: AbortSignal): Promise<CandidateMeasurement[]> {
    const results: CandidateMeasurement[] = [];
    for (const task of tasks) {
      results.push(await this.scorer.score(task, signal));
      onTaskDone();
    }
    return results;
  }
}
