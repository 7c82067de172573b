import { describe, it, expect } from 'vitest';
import { Rng } from '../src/data/rng.js';
import { plannedCandidateCount, runSearch, type CandidateRunner } from '../src/search/search.js';
import type { CandidateMeasurement, CandidateTask } from '../src/search/scorer.js';
import { resolveSettings } from '../src/search/settings.js';
import { searchSpace } from '../src/spaces/index.js';
import { parseGenotype, genotypeToMask } from '../src/spaces/darts/arch.js';

/**
 * The search loop's bookkeeping (rounds, candidate counts, edge pruning, genotype) under a runner
 * that returns seeded pseudo-measurements instead of scoring networks: the scoring itself is tested
 * against the goldens elsewhere, and a full DARTS search takes minutes.
 */
class SeededMeasurements implements CandidateRunner {
  readonly tasks: CandidateTask[] = [];
  async run(tasks: CandidateTask[], onTaskDone: () => void): Promise<CandidateMeasurement[]> {
    return tasks.map((task) => {
      this.tasks.push(task);
      onTaskDone();
      const rng = Rng.stream(1, 'measurement', task.round, task.index);
      const repeat = () => [0, 1, 2];
      return {
        kappaOrigin: repeat().map(() => 100 + rng.uniform()),
        kappaCandidate: repeat().map(() => 50 + 100 * rng.uniform()),
        regionsOrigin: repeat().map(() => 1000),
        regionsCandidate: repeat().map(() => 900 + rng.int(100)),
      };
    });
  }
}

describe('DARTS search loop', () => {
  for (const [dataset, total] of [['cifar10', 332], ['imagenet-1k', 444]] as const) {
    it(`scores ${total} candidates on ${dataset} and ends in a valid genotype`, async () => {
      const space = searchSpace('darts');
      const settings = resolveSettings({ space: 'darts', dataset });
      expect(plannedCandidateCount(space, settings)).toBe(total);
      const runner = new SeededMeasurements();
      const outcome = await runSearch(space, settings, runner);
      expect(runner.tasks.length).toBe(total);
      expect(outcome.history.reduce((sum, round) => sum + round.candidates.length, 0)).toBe(total);
      const genotype = parseGenotype(outcome.arch);
      expect(genotype.normal).toHaveLength(8);
      expect(genotype.reduce).toHaveLength(8);
      const mask = genotypeToMask(genotype);
      expect([mask.normal, mask.reduce]).toEqual(outcome.mask);
      const edgeRounds = outcome.history.filter((round) => round.stage === 'edge');
      expect(edgeRounds.map((round) => round.pruned.length)).toEqual([1, 2, 3, 1, 2, 3]);
    });
  }

  it('keeps the pre-edge-stage NTK baseline under reference and the current one under paper', async () => {
    const space = searchSpace('darts');
    for (const protocol of ['reference', 'paper'] as const) {
      const runner = new SeededMeasurements();
      await runSearch(space, resolveSettings({ space: 'darts', protocol }), runner);
      const edgeTasks = runner.tasks.filter((task) => task.masks.ntk.origin.flat(2).filter(Boolean).length <= 28);
      const lastGroup = edgeTasks.slice(-5);
      const baselineMatchesCurrent = lastGroup.every((task) => JSON.stringify(task.masks.ntk.origin) === JSON.stringify(task.masks.thin.origin));
      expect(baselineMatchesCurrent).toBe(protocol === 'paper');
    }
  });

  it('draws the reference NTK weights once per op round and once for the whole edge stage', async () => {
    const runner = new SeededMeasurements();
    const outcome = await runSearch(searchSpace('darts'), resolveSettings({ space: 'darts' }), runner);
    const opRounds = outcome.history.filter((round) => round.stage === 'op').length;
    const edgeTasks = runner.tasks.filter((task) => task.round >= opRounds);
    expect(new Set(edgeTasks.map((task) => task.round)).size).toBe(6);
    expect(new Set(edgeTasks.map((task) => task.ntkDrawRound))).toEqual(new Set([opRounds]));
    expect(runner.tasks.filter((task) => task.round < opRounds).every((task) => task.ntkDrawRound === task.round)).toBe(true);
  });
});
