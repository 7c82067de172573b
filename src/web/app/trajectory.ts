/**
 * The supernet's trajectory in the (R, κ) plane over the pruning rounds — the paper's Fig. 3B.
 * Each point is one round: the mean over its candidates (and repeats) of the origin network's
 * κ and R, i.e. of the supernet that round started from.
 *
 * Hand-written SVG on purpose: this chart and the cell graph are the only two figures, each a few
 * dozen elements; a charting library would outweigh the whole app and still need custom drawing
 * for the op bundles, while plain SVG is accessible (role, labels, titles) and prints as vectors.
 */
import type { RoundRecord } from '../../search/search.js';
import { field, indicatorFields, INDICATORS } from '../../metrics/indicators.js';
import { formatNumber, svgElement } from '../shared/dom.js';

export interface TrajectoryPoint {
  readonly round: number;
  readonly stage: 'op' | 'edge';
  /** Per indicator of the search, in its order: the round's mean origin value. */
  readonly values: readonly number[];
}

/** The plane: the second indicator across, the first one up (R and κ). */
const [Y, X] = [0, 1];
const [Y_AXIS, X_AXIS] = [INDICATORS[Y], INDICATORS[X]];

function mean(values: readonly number[]): number {
  return values.reduce((sum, value) => sum + value, 0) / values.length;
}

export function trajectoryPoints(history: readonly RoundRecord[]): TrajectoryPoint[] {
  return history
    .filter((round) => round.candidates.length > 0)
    .map((round) => ({
      round: round.round,
      stage: round.stage,
      values: INDICATORS.map((indicator) => mean(round.candidates.map((candidate) => mean(field<number[]>(candidate, indicatorFields(indicator).origin))))),
    }));
}

const describeValues = (p: TrajectoryPoint) => INDICATORS.map((indicator, i) => `${indicator.symbol} ${formatNumber(p.values[i])}`).join(', ');

/** About `count` round-numbered ticks covering [low, high]. */
function niceTicks(low: number, high: number, count = 5): number[] {
  if (low === high) {
    const pad = Math.abs(low) * 0.05 || 1;
    return niceTicks(low - pad, high + pad, count);
  }
  const rough = (high - low) / count;
  const power = 10 ** Math.floor(Math.log10(rough));
  const step = [1, 2, 2.5, 5, 10].map((f) => f * power).find((candidate) => candidate >= rough) ?? rough;
  const ticks: number[] = [];
  for (let tick = Math.floor(low / step) * step; tick <= high + step * 1e-9; tick += step) ticks.push(Number(tick.toPrecision(12)));
  if (ticks[ticks.length - 1] < high) ticks.push(ticks[ticks.length - 1] + step);
  return ticks;
}

export function renderTrajectory(container: HTMLElement, points: readonly TrajectoryPoint[]): void {
  if (points.length === 0) {
    container.replaceChildren('The trajectory appears when a search finishes.');
    return;
  }
  const width = 460;
  const height = 300;
  const margin = { left: 70, right: 20, top: 16, bottom: 48 };
  const xTicks = niceTicks(Math.min(...points.map((p) => p.values[X])), Math.max(...points.map((p) => p.values[X])));
  const yTicks = niceTicks(Math.min(...points.map((p) => p.values[Y])), Math.max(...points.map((p) => p.values[Y])));
  const [xMin, xMax] = [xTicks[0], xTicks[xTicks.length - 1]];
  const [yMin, yMax] = [yTicks[0], yTicks[yTicks.length - 1]];
  const x = (value: number) => margin.left + ((value - xMin) / (xMax - xMin)) * (width - margin.left - margin.right);
  const y = (value: number) => height - margin.bottom - ((value - yMin) / (yMax - yMin)) * (height - margin.top - margin.bottom);

  const svg = svgElement('svg', {
    viewBox: `0 0 ${width} ${height}`,
    role: 'img',
    'aria-label': `Supernet trajectory over ${points.length} rounds: ${points
      .map((p) => `round ${p.round} ${describeValues(p)}`)
      .join('; ')}`,
  });
  const grid = svgElement('g', { class: 'axis' });
  for (const tick of xTicks) {
    grid.append(
      svgElement('line', { x1: x(tick), x2: x(tick), y1: margin.top, y2: height - margin.bottom, class: 'grid' }),
      svgElement('text', { x: x(tick), y: height - margin.bottom + 16, 'text-anchor': 'middle' }, [formatNumber(tick)]),
    );
  }
  for (const tick of yTicks) {
    grid.append(
      svgElement('line', { x1: margin.left, x2: width - margin.right, y1: y(tick), y2: y(tick), class: 'grid' }),
      svgElement('text', { x: margin.left - 6, y: y(tick) + 4, 'text-anchor': 'end' }, [formatNumber(tick)]),
    );
  }
  grid.append(
    svgElement('text', { x: (margin.left + width - margin.right) / 2, y: height - 8, 'text-anchor': 'middle', class: 'axis-title' }, [
      `${X_AXIS.title} ${X_AXIS.symbol} of the supernet (mean over candidates)`,
    ]),
    svgElement('text', { x: 14, y: (margin.top + height - margin.bottom) / 2, 'text-anchor': 'middle', class: 'axis-title', transform: `rotate(-90 14 ${(margin.top + height - margin.bottom) / 2})` }, [
      `${Y_AXIS.title} ${Y_AXIS.symbol}`,
    ]),
  );
  const path = svgElement('polyline', { points: points.map((p) => `${x(p.values[X])},${y(p.values[Y])}`).join(' '), class: 'trajectory' });
  const marks = svgElement('g', { class: 'marks' });
  points.forEach((p, index) => {
    const last = index === points.length - 1;
    marks.append(
      svgElement('circle', { cx: x(p.values[X]), cy: y(p.values[Y]), r: last ? 6 : 4.5, class: `point ${p.stage}${index === 0 ? ' first' : ''}` }, [
        svgElement('title', {}, [`round ${p.round} (${p.stage} pruning): ${describeValues(p)}`]),
      ]),
      svgElement('text', { x: x(p.values[X]) + 8, y: y(p.values[Y]) - 7, class: 'point-label' }, [index === 0 ? `${p.round} supernet` : String(p.round)]),
    );
  });
  svg.append(grid, path, marks);
  container.replaceChildren(svg);
}
