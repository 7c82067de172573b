import { yieldThenCheck } from '../errors.js';
import type { CandidateRunner } from './search.js';
import type { CandidateMeasurement, CandidateScorer, CandidateTask } from './scorer.js';

/**
 * Scores a round's candidates one after another on the calling thread. The WebAssembly backend's
 * promises resolve at once, so it yields to the event loop between candidates: otherwise a SIGINT
 * handler or an AbortController wired to a button would only run after the whole search.
 */
export class InProcessRunner implements CandidateRunner {
  constructor(private readonly scorer: CandidateScorer) {}

  async run(tasks: CandidateTask[], onTaskDone: () => void, signal?: AbortSignal): Promise<CandidateMeasurement[]> {
    const results: CandidateMeasurement[] = [];
    for (const task of tasks) {
      await yieldThenCheck(signal);
      results.push(await this.scorer.score(task, signal));
      onTaskDone();
    }
    return results;
  }
}
