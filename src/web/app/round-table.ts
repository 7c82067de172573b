/** The candidates of one round: each indicator of the search on origin and candidate, its delta and rank, the combination; pruned rows marked. */
import type { CandidateRecord, RoundRecord } from '../../search/search.js';
import { DARTS_EDGES } from '../../spaces/darts/arch.js';
import { NB201_EDGES } from '../../spaces/nb201/arch.js';
import type { SpaceName } from '../../spaces/index.js';
import type { Indicator } from '../../metrics/indicator.js';
import { field, indicatorFields } from '../../metrics/indicators.js';
import type { CombineMethod } from '../../search/settings.js';
import { element, formatNumber } from '../shared/dom.js';

function mean(values: readonly number[]): number {
  return values.reduce((sum, value) => sum + value, 0) / values.length;
}

export function edgeName(space: SpaceName, edge: number): string {
  const key = space === 'nb201' ? NB201_EDGES[edge]?.key : DARTS_EDGES[edge]?.key;
  return key === undefined ? String(edge) : `${edge} (${key})`;
}

function isPruned(round: RoundRecord, candidate: CandidateRecord): boolean {
  return round.pruned.some((p) => p.cell === candidate.cell && p.edge === candidate.edge && p.op === candidate.op);
}

export function roundLabel(round: RoundRecord): string {
  const what = round.stage === 'op' ? `op pruning, ${round.pruneNumber} op(s) per edge` : 'edge pruning, keep 2 inputs';
  return `Round ${round.round} (${what}, ${round.candidates.length} candidates)`;
}

/**
 * How the ranks combine: TE-NAS's rank sum (rank 0 most prunable, the lowest sum pruned) or AZ-NAS's
 * Σ ln(rank / n) (rank n most prunable, the highest aggregate pruned).
 */
const COMBINATIONS: Record<CombineMethod, { header: string; value: (ranks: readonly number[], candidates: number) => number; caption: string }> = {
  ranksum: {
    header: 'rank sum',
    value: (ranks) => ranks.reduce((sum, rank) => sum + rank, 0),
    caption: 'Rank 0 is the most prunable on each score; the lowest rank sum is pruned (ties broken as in the released code).',
  },
  az: {
    header: 'Σ ln(rank/n)',
    value: (ranks, candidates) => ranks.reduce((sum, rank) => sum + Math.log(rank / candidates), 0),
    caption: 'Rank n is the most prunable on each score (ties share the mean rank); the highest Σ ln(rank/n) is pruned (AZ-NAS).',
  },
};

export function renderRoundTable(container: HTMLElement, space: SpaceName, round: RoundRecord, indicators: readonly Indicator[], combine: CombineMethod): void {
  const showCell = space === 'darts';
  const combination = COMBINATIONS[combine];
  const fields = indicators.map((indicator) => ({ indicator, ...indicatorFields(indicator) }));
  const headers = [
    ...(showCell ? ['Cell'] : []),
    'Edge',
    'Op removed',
    ...fields.flatMap(({ indicator: { symbol } }) => [`${symbol} origin`, `${symbol} candidate`, `Δ${symbol}`]),
    ...fields.map(({ indicator }) => `rank ${indicator.symbol}`),
    combination.header,
    'Result',
  ];
  const rows = round.candidates.map((candidate) => {
    const pruned = isPruned(round, candidate);
    const ranks = fields.map((f) => field<number>(candidate, f.rank));
    const cells = [
      ...(showCell ? [candidate.cell] : []),
      edgeName(space, candidate.edge),
      candidate.op,
      ...fields.flatMap((f) => [mean(field<number[]>(candidate, f.origin)), mean(field<number[]>(candidate, f.candidate)), field<number>(candidate, f.delta)].map(formatNumber)),
      ...ranks.map(formatNumber),
      formatNumber(combination.value(ranks, round.candidates.length)),
      pruned ? 'pruned' : 'kept',
    ];
    return element(
      'tr',
      { class: pruned ? 'pruned' : '' },
      cells.map((text, index) => element(index < (showCell ? 3 : 2) ? 'th' : 'td', index < (showCell ? 3 : 2) ? { scope: 'row' } : {}, [text])),
    );
  });
  const table = element('table', { class: 'rounds' }, [
    element('caption', {}, [
      `${roundLabel(round)}, ${round.seconds.toFixed(1)} s. `,
      `${indicators.map((indicator) => `Δ${indicator.symbol}`).join(', ')}: relative change when the op is removed, mean over repeats. `,
      combination.caption,
    ]),
    element('thead', {}, [element('tr', {}, headers.map((header) => element('th', { scope: 'col' }, [header])))]),
    element('tbody', {}, rows),
  ]);
  container.replaceChildren(element('div', { class: 'table-scroll', tabindex: '0', role: 'region', 'aria-label': 'candidates of the round' }, [table]));
}
