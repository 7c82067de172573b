import type { RankCorrelation } from './correlation-report.js';

export interface ScatterPanel {
  readonly title: string;
  readonly xLabel: string;
  readonly x: readonly number[];
  /** Which points to draw (default: those with a finite x). */
  readonly shown?: readonly boolean[];
  readonly correlation: RankCorrelation;
}

const PANEL_WIDTH = 460;
const PANEL_HEIGHT = 380;
const MARGIN = { left: 62, right: 18, top: 48, bottom: 52 };
const TICKS = 6;

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** Round tick values covering [low, high] (1, 2 or 5 × 10^k apart). */
function niceTicks(low: number, high: number): number[] {
  if (!(high > low)) return [low];
  const rough = (high - low) / TICKS;
  const power = 10 ** Math.floor(Math.log10(rough));
  const step = [1, 2, 5, 10].map((m) => m * power).find((candidate) => candidate >= rough) ?? 10 * power;
  const ticks: number[] = [];
  for (let tick = Math.ceil(low / step) * step; tick <= high + step * 1e-9; tick += step) ticks.push(Number(tick.toPrecision(12)));
  return ticks;
}

function extent(values: readonly number[]): [number, number] {
  let low = Infinity;
  let high = -Infinity;
  for (const value of values.filter(Number.isFinite)) {
    if (value < low) low = value;
    if (value > high) high = value;
  }
  if (!Number.isFinite(low)) return [0, 1];
  if (low === high) return [low - 0.5, high + 0.5];
  const pad = (high - low) * 0.03;
  return [low - pad, high + pad];
}

function formatTick(value: number): string {
  return Number(value.toPrecision(6)).toString();
}

function panel(spec: ScatterPanel, accuracy: readonly number[], yRange: [number, number], offsetX: number): string {
  const plotWidth = PANEL_WIDTH - MARGIN.left - MARGIN.right;
  const plotHeight = PANEL_HEIGHT - MARGIN.top - MARGIN.bottom;
  const drawn = spec.x.map((x, i) => Number.isFinite(x) && Number.isFinite(accuracy[i]) && (spec.shown?.[i] ?? true));
  const [x0, x1] = extent(spec.x.filter((_, i) => drawn[i]));
  const [y0, y1] = yRange;
  const px = (x: number) => offsetX + MARGIN.left + ((x - x0) / (x1 - x0)) * plotWidth;
  const py = (y: number) => MARGIN.top + (1 - (y - y0) / (y1 - y0)) * plotHeight;
  const parts: string[] = [];
  const left = offsetX + MARGIN.left;
  const bottom = MARGIN.top + plotHeight;
  parts.push(`<rect x="${left}" y="${MARGIN.top}" width="${plotWidth}" height="${plotHeight}" fill="none" stroke="#444"/>`);
  for (const tick of niceTicks(x0, x1)) {
    const x = px(tick).toFixed(1);
    parts.push(`<line x1="${x}" y1="${bottom}" x2="${x}" y2="${bottom + 5}" stroke="#444"/>`);
    parts.push(`<text x="${x}" y="${bottom + 18}" text-anchor="middle">${formatTick(tick)}</text>`);
  }
  for (const tick of niceTicks(y0, y1)) {
    const y = py(tick).toFixed(1);
    parts.push(`<line x1="${left - 5}" y1="${y}" x2="${left}" y2="${y}" stroke="#444"/>`);
    parts.push(`<text x="${left - 8}" y="${y}" text-anchor="end" dominant-baseline="middle">${formatTick(tick)}</text>`);
  }
  const points = spec.x.flatMap((x, i) => (drawn[i] ? [`<circle cx="${px(x).toFixed(1)}" cy="${py(accuracy[i]).toFixed(1)}" r="2.2"/>`] : []));
  parts.push(`<g fill="#1f5fa8" fill-opacity="0.45">${points.join('')}</g>`);
  const tau = Number.isFinite(spec.correlation.kendallTau) ? spec.correlation.kendallTau.toFixed(3) : 'n/a';
  const rho = Number.isFinite(spec.correlation.spearmanRho) ? spec.correlation.spearmanRho.toFixed(3) : 'n/a';
  parts.push(`<text x="${left + plotWidth / 2}" y="${MARGIN.top - 22}" text-anchor="middle" font-weight="bold">${escapeXml(spec.title)}</text>`);
  parts.push(`<text x="${left + plotWidth / 2}" y="${MARGIN.top - 7}" text-anchor="middle">Kendall τ-b ${tau}, Spearman ρ ${rho}</text>`);
  parts.push(`<text x="${left + plotWidth / 2}" y="${bottom + 38}" text-anchor="middle">${escapeXml(spec.xLabel)}</text>`);
  return parts.join('\n');
}

/** A standalone SVG with one scatter panel per score, sharing the accuracy axis. */
export function scatterSvg(panels: readonly ScatterPanel[], accuracy: readonly number[], accuracyLabel: string): string {
  const width = PANEL_WIDTH * panels.length;
  const yRange = extent(accuracy);
  const plotHeight = PANEL_HEIGHT - MARGIN.top - MARGIN.bottom;
  const body = panels.map((spec, i) => {
    const yLabelX = i * PANEL_WIDTH + 16;
    const yLabelY = MARGIN.top + plotHeight / 2;
    const yLabel = `<text x="${yLabelX}" y="${yLabelY}" text-anchor="middle" transform="rotate(-90 ${yLabelX} ${yLabelY})">${escapeXml(accuracyLabel)}</text>`;
    return `${panel(spec, accuracy, yRange, i * PANEL_WIDTH)}\n${yLabel}`;
  });
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${PANEL_HEIGHT}" viewBox="0 0 ${width} ${PANEL_HEIGHT}" ` +
    'font-family="sans-serif" font-size="12">\n' +
    `<rect width="${width}" height="${PANEL_HEIGHT}" fill="white"/>\n${body.join('\n')}\n</svg>\n`
  );
}
