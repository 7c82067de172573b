import { describe, expect, it } from 'vitest';
import { Rng } from '../src/data/rng.js';
import { ZERO_NTK_KAPPA } from '../src/evaluation/arch-scorer.js';
import { combinedRankScore } from '../src/evaluation/correlation-report.js';
import { CSV_HEADER, csvHeaderOf, formatRow, mergeRows, parseRows, type CorrelationRow } from '../src/evaluation/rows.js';
import { parseShard, selectArchs, shardOf } from '../src/evaluation/selection.js';
import { averageRanks, kendallTau, mean, sampleStd, spearmanRho } from '../src/evaluation/statistics.js';
import { enumerateNb201Archs } from '../src/spaces/nb201/arch.js';

/** Reference values from scipy 1.17 (stats.kendalltau variant 'b', stats.spearmanr). */
const REFERENCE_CASES: { name: string; x: number[]; y: number[]; tau: number; rho: number }[] = [
  { name: 'no ties', x: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10], y: [3, 1, 4, 2, 6, 5, 9, 7, 10, 8], tau: 0.6888888888888888, rho: 0.8666666666666665 },
  { name: 'heavy ties', x: [1, 1, 1, 2, 2, 3, 3, 3, 3, 4, 4, 5], y: [2, 1, 2, 2, 3, 3, 1, 3, 4, 4, 4, 4], tau: 0.6853027025833884, rho: 0.7672372987206784 },
  { name: 'ties in both at once', x: [1, 1, 2, 2, 3, 3, 3, 4], y: [1, 1, 2, 2, 2, 2, 5, 5], tau: 0.8392543274162825, rho: 0.8807048459279794 },
  { name: 'negative, fractional', x: [0.5, 0.25, 0.25, 0.125, 0.0625, 0.0625], y: [10, 20, 30, 30, 40, 50], tau: -0.8894991799933215, rho: -0.9404032585917882 },
  {
    name: 'random with ties',
    x: [3, 2, 2, 3, 2, 3, 3, 0, 0, 1, 1, 3, 3, 0, 1, 3, 0, 3, 0, 1, 3, 1, 1, 1, 2],
    y: [3, 4, 3, 4, 3, 4, 4, 1, 2, 3, 3, 5, 4, 1, 3, 4, 0, 5, 0, 3, 4, 1, 1, 2, 2],
    tau: 0.7855096758053688,
    rho: 0.8722863437001024,
  },
];

/** τ-b straight from its definition, over all n(n−1)/2 pairs. */
function naiveKendallTauB(x: readonly number[], y: readonly number[]): number {
  let concordantMinusDiscordant = 0;
  let untiedX = 0;
  let untiedY = 0;
  for (let i = 0; i < x.length; i++) {
    for (let j = i + 1; j < x.length; j++) {
      const dx = Math.sign(x[i] - x[j]);
      const dy = Math.sign(y[i] - y[j]);
      concordantMinusDiscordant += dx * dy;
      if (dx !== 0) untiedX++;
      if (dy !== 0) untiedY++;
    }
  }
  return concordantMinusDiscordant / Math.sqrt(untiedX * untiedY);
}

describe('rank statistics', () => {
  for (const { name, x, y, tau, rho } of REFERENCE_CASES) {
    it(`match scipy: ${name}`, () => {
      expect(kendallTau(x, y)).toBeCloseTo(tau, 12);
      expect(spearmanRho(x, y)).toBeCloseTo(rho, 12);
      expect(kendallTau(y, x)).toBeCloseTo(tau, 12);
    });
  }

  it('O(n log n) τ-b equals the O(n²) definition on random data with many ties', () => {
    for (let trial = 0; trial < 20; trial++) {
      const rng = Rng.stream(trial, 'kendall-test');
      const n = 2 + rng.int(300);
      const levels = 1 + rng.int(12);
      const x = Array.from({ length: n }, () => rng.int(levels));
      const y = x.map((value) => (rng.uniform() < 0.3 ? rng.int(levels) : value + rng.int(3)));
      const expected = naiveKendallTauB(x, y);
      if (Number.isNaN(expected)) expect(kendallTau(x, y)).toBeNaN();
      else expect(kendallTau(x, y)).toBeCloseTo(expected, 12);
    }
  });

  it('ranks −∞ (a proxy of a network without signal) last and ties it with other −∞, and refuses NaN', () => {
    const scores = [-Infinity, 0.5, -Infinity, 2, 1];
    const accuracies = [10, 60, 20, 90, 70];
    expect(kendallTau(scores, accuracies)).toBeCloseTo(kendallTau([-9, 0.5, -9, 2, 1], accuracies), 15);
    expect(spearmanRho(scores, accuracies)).toBeCloseTo(spearmanRho([-9, 0.5, -9, 2, 1], accuracies), 15);
    expect(() => kendallTau([Number.NaN, 1], [1, 2])).toThrow(/NaN at index 0/);
  });

  it('handles perfect, reversed and constant samples', () => {
    const x = [5, 1, 4, 2, 3];
    expect(kendallTau(x, x)).toBe(1);
    expect(kendallTau(x, x.map((v) => -v))).toBe(-1);
    expect(spearmanRho(x, x)).toBeCloseTo(1, 15);
    expect(kendallTau(x, [2, 2, 2, 2, 2])).toBeNaN();
    expect(spearmanRho(x, [2, 2, 2, 2, 2])).toBeNaN();
    expect(kendallTau([1], [1])).toBeNaN();
    expect(() => kendallTau([1, 2], [1])).toThrow(RangeError);
    expect(() => kendallTau([1, Number.NaN], [1, 2])).toThrow(RangeError);
  });

  it('average ranks share the mean rank among ties (scipy rankdata)', () => {
    expect(Array.from(averageRanks([3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5]))).toEqual([4.5, 1.5, 6, 1.5, 8, 11, 3, 10, 8, 4.5, 8]);
  });

  it('mean and sample std (ddof = 1)', () => {
    const accuracies = [93.76, 94.37, 93.1, 94.0];
    expect(mean(accuracies)).toBeCloseTo(93.8075, 12);
    expect(sampleStd(accuracies)).toBeCloseTo(0.5342518132865851, 12);
    expect(sampleStd([93.9])).toBeNaN();
    expect(mean([])).toBeNaN();
  });

  it('the combined score ranks κ ascending and R descending (lower sum = better)', () => {
    const kappa = [10, 1000, 100, ZERO_NTK_KAPPA];
    const regions = [900, 100, 500, 1];
    expect(Array.from(combinedRankScore({ kappa, regions }))).toEqual([2, 6, 4, 8]);
  });
});

describe('selection and sharding', () => {
  it('parses 1-based K/N shards', () => {
    expect(parseShard('2/5')).toEqual({ index: 2, count: 5 });
    for (const bad of ['0/2', '3/2', '1/0', '1', 'a/b', '-1/2']) expect(() => parseShard(bad)).toThrow(/--shard/);
  });

  it('--all is the enumeration order', () => {
    const all = selectArchs({ seed: 3 });
    expect(all).toHaveLength(15_625);
    expect(all.map((a) => a.arch)).toEqual(enumerateNb201Archs());
  });

  it('a sample depends only on the seed; a smaller sample is a prefix of a larger one', () => {
    const big = selectArchs({ sample: 200, seed: 11 });
    expect(selectArchs({ sample: 200, seed: 11 })).toEqual(big);
    expect(selectArchs({ sample: 50, seed: 11 })).toEqual(big.slice(0, 50));
    expect(new Set(big.map((a) => a.archIndex)).size).toBe(200);
    expect(selectArchs({ sample: 200, seed: 12 })).not.toEqual(big);
    const archs = enumerateNb201Archs();
    for (const { archIndex, arch } of big) expect(archs[archIndex]).toBe(arch);
  });

  it('shards computed independently partition the same sample', () => {
    const shardCount = 4;
    const selection = selectArchs({ sample: 103, seed: 5 });
    // Each shard re-derives the sample on its own, as separate jobs do.
    const shards = Array.from({ length: shardCount }, (_, k) => shardOf(selectArchs({ sample: 103, seed: 5 }), { index: k + 1, count: shardCount }));
    expect(shards.map((shard) => shard.length)).toEqual([26, 26, 26, 25]);
    const union = shards.flat().map((a) => a.archIndex).sort((a, b) => a - b);
    expect(union).toEqual(selection.map((a) => a.archIndex).sort((a, b) => a - b));
    expect(shards[1][0]).toEqual(selection[1]);
    expect(shards[1][1]).toEqual(selection[1 + shardCount]);
    const all = shardOf(selectArchs({ seed: 0 }), { index: 3, count: 7 });
    expect(all.every((a) => a.archIndex % 7 === 2)).toBe(true);
  });
});

function row(archIndex: number, kappa: number, regions: number, overrides: Partial<CorrelationRow> = {}): CorrelationRow {
  return {
    archIndex,
    arch: enumerateNb201Archs()[archIndex],
    kappa,
    regions,
    dataset: 'cifar10',
    protocol: 'reference',
    seed: 0,
    batch: 72,
    repeats: 1,
    patches: 1000,
    backend: 'wasm',
    seconds: 1.5,
    ...overrides,
  };
}

describe('rows', () => {
  it('round-trip through CSV and JSONL, including the zero-NTK κ', () => {
    const rows = [row(4283, 48.31223012926925, 123), row(0, ZERO_NTK_KAPPA, 1), row(15_624, 4 / 3, 2999.5, { repeats: 2 })];
    for (const format of ['csv', 'jsonl'] as const) {
      const text = (format === 'csv' ? CSV_HEADER : '') + rows.map((r) => formatRow(r, format)).join('');
      const parsed = parseRows(text, format, 'test');
      expect(parsed.rows).toEqual(rows);
      expect(parsed.truncatedTail).toBe(false);
    }
  });

  it('round-trip rows of any indicators with the evaluation network columns', () => {
    const withProxy = (archIndex: number, synflow: number) => ({ ...row(archIndex, 3, 4), synflow, channels: 8, cells: 1, evalBatch: 16 });
    const rows: CorrelationRow[] = [withProxy(3, 1.5e42), withProxy(7, 0)];
    expect(csvHeaderOf(rows[0])).toBe('arch_index,arch,kappa,regions,synflow,dataset,protocol,seed,batch,repeats,patches,backend,seconds,channels,cells,eval_batch\n');
    for (const format of ['csv', 'jsonl'] as const) {
      const text = (format === 'csv' ? csvHeaderOf(rows[0]) : '') + rows.map((r) => formatRow(r, format)).join('');
      expect(parseRows(text, format, 'test').rows).toEqual(rows);
    }
    const proxyOnly: CorrelationRow = { ...withProxy(5, 2) };
    delete (proxyOnly as Record<string, unknown>).kappa;
    delete (proxyOnly as Record<string, unknown>).regions;
    const text = csvHeaderOf(proxyOnly) + formatRow(proxyOnly, 'csv');
    expect(text.startsWith('arch_index,arch,synflow,dataset')).toBe(true);
    expect(parseRows(text, 'csv', 'test').rows).toEqual([proxyOnly]);
    expect(() => parseRows(text.replace(',2,cifar10', ',-2,cifar10'), 'csv', 'test')).toThrow("test line 2: column synflow holds '-2', expected a finite synflow score ≥ 0");
    // Rows of other indicators or another evaluation network do not merge.
    expect(() => mergeRows([{ row: rows[0], source: 'a' }, { row: proxyOnly, source: 'b' }])).toThrow(/different settings: a has indicators kappa,regions,synflow, .* but b has indicators synflow, /);
    expect(() => mergeRows([{ row: rows[0], source: 'a' }, { row: { ...rows[1], cells: 2 }, source: 'b' }])).toThrow(/eval net C 8 N 1 batch 16 but b has .*eval net C 8 N 2 batch 16/);
  });

  it('reject values no scoring produces, naming the line', () => {
    const line = (overrides: Partial<CorrelationRow>) => CSV_HEADER + formatRow(row(1, 2, 3), 'csv') + formatRow(row(2, 3, 4, overrides), 'csv');
    expect(() => parseRows(line({ kappa: -5 }), 'csv', 'test')).toThrow("test line 3: column kappa holds '-5', expected an NTK condition number κ ≥ 1");
    expect(() => parseRows(line({ regions: 2.5 }), 'csv', 'test')).toThrow("test line 3: column regions holds '2.5', expected a count of linear regions (a whole number)");
    expect(parseRows(line({ regions: 2.5, repeats: 2 }), 'csv', 'test').rows[1].regions).toBe(2.5);
    expect(() => parseRows(line({ protocol: 'other' }), 'csv', 'test')).toThrow("test line 3: column protocol holds 'other', expected reference or paper");
  });

  it('ignore an incomplete last line and reject a foreign header', () => {
    const text = CSV_HEADER + formatRow(row(1, 2, 3), 'csv') + formatRow(row(2, 3, 4), 'csv').slice(0, 20);
    const parsed = parseRows(text, 'csv', 'test');
    expect(parsed.rows).toEqual([row(1, 2, 3)]);
    expect(parsed.truncatedTail).toBe(true);
    expect(parsed.completeLength).toBe(text.lastIndexOf('\n') + 1);
    expect(() => parseRows('a,b,c\n', 'csv', 'x.csv')).toThrow(/header/);
    expect(() => parseRows(`${CSV_HEADER}1,2\n`, 'csv', 'x.csv')).toThrow(/x\.csv line 2/);
  });

  it('merge shards: dedupe identical rows, sort by arch, reject conflicts and mixed settings', () => {
    const shard1 = [row(9, 10, 100), row(3, 30, 300)].map((r) => ({ row: r, source: 'a.csv' }));
    const shard2 = [row(5, 50, 500), row(9, 10, 100, { seconds: 9, backend: 'webgpu' })].map((r) => ({ row: r, source: 'b.csv' }));
    expect(mergeRows([...shard1, ...shard2]).map((r) => r.archIndex)).toEqual([3, 5, 9]);
    expect(() => mergeRows([...shard1, { row: row(9, 10.5, 100), source: 'c.csv' }])).toThrow(/conflicting rows for arch 9.*a\.csv.*c\.csv/);
    expect(() => mergeRows([...shard1, { row: row(7, 1, 1, { batch: 8 }), source: 'c.csv' }])).toThrow(/different settings/);
  });
});
