import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it, expect } from 'vitest';
import { AZ_NAS_PROXIES, argmaxFirst, azNasAggregate, rankSum } from '../src/metrics/aggregation.js';
import { proxyGoldenRoot } from './support/golden-proxies.js';

interface AggregationExample {
  name: string;
  N: number;
  /** null stands for −∞ (JSON has no −inf). */
  scores: Record<string, (number | null)[]>;
  ranks: Record<string, number[]>;
  log_terms: Record<string, number[]>;
  aggregated: number[];
  argmax: number;
}

const golden = JSON.parse(readFileSync(path.join(proxyGoldenRoot, 'az_aggregation_example.json'), 'utf8')) as { proxy_order: string[]; examples: AggregationExample[] };
const scoresOf = (example: AggregationExample, proxy: string) => example.scores[proxy].map((value) => value ?? -Infinity);

describe('AZ-NAS aggregation against az_aggregation_example.json', () => {
  it('sums the proxies in the reference order', () => {
    expect([...AZ_NAS_PROXIES]).toEqual(golden.proxy_order);
  });

  it.each(golden.examples.map((example) => [example.name, example] as const))('%s: ranks, log terms, aggregate and argmax', (_, example) => {
    for (const proxy of AZ_NAS_PROXIES) {
      const single = azNasAggregate([scoresOf(example, proxy)]);
      expect(Array.from(single, (term) => Math.exp(term) * example.N).map((rank) => Math.round(rank * 2) / 2), `${proxy} ranks`).toEqual(example.ranks[proxy]);
      Array.from(single).forEach((term, i) => expect(Math.abs(term - example.log_terms[proxy][i]), `${proxy} log term ${i}`).toBeLessThanOrEqual(1e-15));
    }
    const aggregated = azNasAggregate(AZ_NAS_PROXIES.map((proxy) => scoresOf(example, proxy)));
    Array.from(aggregated).forEach((value, i) => expect(Math.abs(value - example.aggregated[i]), `aggregate ${i}`).toBeLessThanOrEqual(1e-14));
    expect(argmaxFirst(aggregated)).toBe(example.argmax);
  });

  it('ranks NaN as −∞, tied with every −∞, and picks the first of tied maxima', () => {
    const terms = azNasAggregate([[Number.NaN, -Infinity, 1, 0]]);
    expect(Array.from(terms)).toEqual([1.5, 1.5, 4, 3].map((rank) => Math.log(rank / 4)));
    expect(argmaxFirst([-1, 0, 0, -2])).toBe(1);
  });

  it('refuses indicators measured on different numbers of architectures', () => {
    expect(() => azNasAggregate([[1, 2], [1, 2, 3]])).toThrow(/different numbers of architectures/);
  });
});

describe('rank sum of any indicators', () => {
  it('ranks each best first (average ranks for ties) and adds the ranks', () => {
    const sums = rankSum([
      { values: [3, 1, 2, 2], higherIsBetter: false },
      { values: [10, 30, 20, 30], higherIsBetter: true },
    ]);
    // lower-is-better ranks 4, 1, 2.5, 2.5; higher-is-better ranks 4, 1.5, 3, 1.5.
    expect(Array.from(sums)).toEqual([8, 2.5, 5.5, 4]);
  });
});
