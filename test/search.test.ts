import { describe, it, expect, beforeAll } from 'vitest';
import { Engine, type SearchResult } from '../src/api.js';
import { loadEmbeddedCifar } from '../src/data/embedded.js';
import type { ImageSet } from '../src/data/cifar.js';
import { rankCandidates, selectPruned } from '../src/search/ranking.js';
import { candidateDeltas, numpyMean } from '../src/search/search.js';
import { NB201_OPS } from '../src/spaces/nb201/arch.js';
import { isSinglePath, parseNb201Mask } from '../src/spaces/nb201/arch.js';

let engine: Engine;
let images: ImageSet;
const small = { space: 'nb201' as const, ntkBatch: 8, repeats: 2, regionPatches: 200, seed: 7 };

beforeAll(async () => {
  engine = await Engine.create({ backend: 'wasm' });
  images = await loadEmbeddedCifar();
});

function timeless(result: SearchResult) {
  return JSON.parse(JSON.stringify({ ...result, timings: undefined, history: result.history.map((r) => ({ ...r, seconds: 0 })) }));
}

describe('NB201 search (small settings)', () => {
  let first: SearchResult;
  it('prunes to a single-path cell in three rounds with 24 + 18 + 12 candidates', async () => {
    const progress: number[] = [];
    first = await engine.search({ ...small, images, onProgress: (p) => progress.push(p.done) });
    expect(first.history.map((round) => round.candidates.length)).toEqual([24, 18, 12]);
    expect(isSinglePath(parseNb201Mask(first.arch))).toBe(true);
    expect(first.arch).not.toContain('none');
    expect(progress.at(-1)).toBe(54);
  });

  it('records deltas and ranks that reproduce its pruning decisions', () => {
    for (const round of first.history) {
      const scored = round.candidates.map((c) => ({ cellType: 0, edge: c.edge, op: NB201_OPS.indexOf(c.op as never), deltas: candidateDeltas(c) }));
      scored.forEach((s, i) => {
        expect(s.deltas).toEqual([round.candidates[i].deltaKappa, round.candidates[i].deltaRegions]);
      });
      const ranking = rankCandidates(scored);
      expect(ranking.ranks[0]).toEqual(round.candidates.map((c) => c.rankKappa));
      expect(ranking.ranks[1]).toEqual(round.candidates.map((c) => c.rankRegions));
      const pruned = selectPruned(scored, ranking, round.pruneNumber).map((p) => ({ cell: 'cell', edge: p.edge, op: NB201_OPS[p.op] }));
      expect(pruned).toEqual(round.pruned);
    }
  });

  it('gives the identical result for the same seed', async () => {
    const again = await engine.search({ ...small, images });
    expect(timeless(again)).toEqual(timeless(first));
  });

  it('stops with an AbortError when cancelled', async () => {
    const controller = new AbortController();
    const pending = engine.search({ ...small, images, signal: controller.signal, onProgress: (p) => p.done === 2 && controller.abort() });
    await expect(pending).rejects.toMatchObject({ name: 'AbortError' });
  });
});

describe('numpyMean', () => {
  it('matches NumPy for short vectors', () => {
    expect(numpyMean([0.1, 0.2, 0.3])).toBe((0.1 + 0.2 + 0.3) / 3);
    expect(numpyMean([1, 2, 3, 4, 5, 6, 7, 8, 9])).toBe(5);
  });
});
