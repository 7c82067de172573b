/**
 * The searched cell as an SVG graph: nodes joined by edges, and each edge drawn as a bundle of
 * parallel lines, one per op of the supernet. Lines of pruned ops fade; the ops pruned in the round
 * on display are drawn dashed so the change from the previous round stands out.
 */
import { DARTS_EDGES, DARTS_NODE_COUNT } from '../../spaces/darts/arch.js';
import { NB201_EDGES } from '../../spaces/nb201/arch.js';
import type { CellMasks } from '../../spaces/space.js';
import type { SpaceName } from '../../spaces/index.js';
import { element, svgElement } from '../shared/dom.js';

interface LayoutNode {
  readonly label: string;
  readonly x: number;
  readonly y: number;
}

interface LayoutEdge {
  readonly from: number;
  readonly to: number;
  readonly key: string;
}

interface CellLayout {
  readonly width: number;
  readonly height: number;
  readonly nodes: readonly LayoutNode[];
  /** In the space's edge (α row) order. */
  readonly edges: readonly LayoutEdge[];
  /** Distance between the parallel op lines of one edge, and their width. */
  readonly lineSpacing: number;
  readonly lineWidth: number;
}

const NODE_RADIUS = 17;

// NB201's cell is the complete graph on 4 nodes, which is planar: nodes 0, 1, 3 form a triangle
// and node 2 sits inside it, so no edge crosses another.
const NB201_LAYOUT: CellLayout = {
  width: 420,
  height: 300,
  nodes: [
    { label: '0', x: 50, y: 260 },
    { label: '1', x: 210, y: 40 },
    { label: '2', x: 210, y: 185 },
    { label: '3', x: 370, y: 260 },
  ],
  edges: NB201_EDGES.map((edge) => ({ from: edge.from, to: edge.to, key: edge.key })),
  lineSpacing: 5,
  lineWidth: 3,
};

// DARTS: states c_{k-2}, c_{k-1} and intermediate nodes 0..3 on an ellipse; points in convex
// position guarantee that no edge runs through a node it does not join.
function dartsLayout(): CellLayout {
  const width = 420;
  const height = 300;
  const labels = ['c[k-2]', 'c[k-1]', ...Array.from({ length: DARTS_NODE_COUNT }, (_, node) => String(node))];
  const nodes = labels.map((label, index) => {
    const angle = Math.PI * (0.75 + (index * 1.5) / (labels.length - 1));
    return { label, x: width / 2 + 170 * Math.cos(angle), y: height / 2 - 115 * Math.sin(angle) };
  });
  const edges = DARTS_EDGES.map((edge) => ({ from: edge.from, to: edge.node + 2, key: edge.key }));
  // 7 ops on 14 edges: thinner, closer lines keep the supernet legible.
  return { width, height, nodes, edges, lineSpacing: 2.2, lineWidth: 1.6 };
}

const DARTS_LAYOUT = dartsLayout();

/** Okabe–Ito colours (distinguishable with colour-vision deficiencies), with dash patterns as a second cue. */
const OP_STYLES: readonly { colour: string; dash: string }[] = [
  { colour: '#0072b2', dash: '' },
  { colour: '#e69f00', dash: '6 2' },
  { colour: '#009e73', dash: '' },
  { colour: '#cc79a7', dash: '2 2' },
  { colour: '#56b4e9', dash: '' },
  { colour: '#d55e00', dash: '6 2' },
  { colour: '#7a6a00', dash: '' },
  { colour: '#000000', dash: '2 2' },
];

const SHORT_OP_NAMES: Readonly<Record<string, string>> = {
  none: 'none',
  skip_connect: 'skip',
  nor_conv_1x1: 'conv 1×1',
  nor_conv_3x3: 'conv 3×3',
  avg_pool_3x3: 'avg pool',
  sep_conv_3x3: 'sep 3×3',
  sep_conv_5x5: 'sep 5×5',
  dil_conv_3x3: 'dil 3×3',
  dil_conv_5x5: 'dil 5×5',
  max_pool_3x3: 'max pool',
};

export function shortOpName(op: string): string {
  return SHORT_OP_NAMES[op] ?? op;
}

function opStyle(opIndex: number): { colour: string; dash: string } {
  return OP_STYLES[opIndex % OP_STYLES.length];
}

export interface CellGraphInput {
  readonly space: SpaceName;
  readonly ops: readonly string[];
  readonly cellTypes: readonly string[];
  /** states[0]: the supernet; states[k]: the mask after round k − 1. */
  readonly states: readonly CellMasks[];
  /** Which state to draw. */
  readonly step: number;
}

/** The ops drawn: those alive in the supernet (`none` never is). */
function drawnOps(input: CellGraphInput): number[] {
  const supernet = input.states[0];
  return input.ops.map((_, op) => op).filter((op) => supernet.some((cell) => cell.some((edge) => edge[op])));
}

function drawCell(input: CellGraphInput, cellType: number, layout: CellLayout): SVGSVGElement {
  const { states, step, ops } = input;
  const now = states[step][cellType];
  const before = step > 0 ? states[step - 1][cellType] : undefined;
  const origin = states[0][cellType];
  const opsOnEdges = drawnOps(input);
  const name = input.cellTypes.length > 1 ? `${input.cellTypes[cellType]} cell` : 'cell';
  const svg = svgElement('svg', {
    viewBox: `0 0 ${layout.width} ${layout.height}`,
    role: 'img',
    'aria-label': `${name}: ${layout.edges
      .map((edge, index) => {
        const alive = ops.filter((_, op) => now[index][op]);
        return `edge ${edge.key} ${alive.length === 0 ? 'removed' : alive.join(', ')}`;
      })
      .join('; ')}`,
  });
  const edgesGroup = svgElement('g', { class: 'edges' });
  const labelsGroup = svgElement('g', { class: 'edge-labels' });
  layout.edges.forEach((edge, edgeIndex) => {
    const from = layout.nodes[edge.from];
    const to = layout.nodes[edge.to];
    const dx = to.x - from.x;
    const dy = to.y - from.y;
    const length = Math.hypot(dx, dy);
    const [ux, uy] = [dx / length, dy / length];
    const [nx, ny] = [-uy, ux];
    const lines = opsOnEdges.filter((op) => origin[edgeIndex][op]);
    lines.forEach((op, position) => {
      const offset = (position - (lines.length - 1) / 2) * layout.lineSpacing;
      const alive = now[edgeIndex][op];
      const prunedNow = !alive && before !== undefined && before[edgeIndex][op];
      const style = opStyle(op);
      const state = alive ? 'alive' : prunedNow ? 'pruned-now' : 'pruned';
      const line = svgElement(
        'line',
        {
          x1: from.x + ux * NODE_RADIUS + nx * offset,
          y1: from.y + uy * NODE_RADIUS + ny * offset,
          x2: to.x - ux * NODE_RADIUS + nx * offset,
          y2: to.y - uy * NODE_RADIUS + ny * offset,
          stroke: style.colour,
          'stroke-width': layout.lineWidth,
          'stroke-dasharray': prunedNow ? '3 3' : style.dash,
          class: `op-line ${state}`,
        },
        [svgElement('title', {}, [`${edge.key}: ${ops[op]} (${alive ? 'alive' : prunedNow ? 'pruned in this round' : 'pruned'})`])],
      );
      edgesGroup.appendChild(line);
    });
    const alive = ops.filter((_, op) => now[edgeIndex][op]);
    // Names only once an edge is down to one or two ops; before that the colours say more.
    if (alive.length > 2) return;
    const text = alive.length === 0 ? 'removed' : alive.map(shortOpName).join(' · ');
    // The label sits beside the middle of the bundle, on the side away from the cell's centre.
    const side = (layout.width / 2 - (from.x + to.x) / 2) * nx + (layout.height / 2 - (from.y + to.y) / 2) * ny > 0 ? -1 : 1;
    const distance = (lines.length * layout.lineSpacing) / 2 + 9;
    labelsGroup.appendChild(
      svgElement(
        'text',
        {
          x: (from.x + to.x) / 2 + nx * distance * side,
          y: (from.y + to.y) / 2 + ny * distance * side + 4,
          'text-anchor': 'middle',
          class: `edge-label${alive.length === 0 ? ' removed' : ''}`,
        },
        [text],
      ),
    );
  });
  const nodesGroup = svgElement('g', { class: 'nodes' });
  for (const node of layout.nodes) {
    nodesGroup.appendChild(svgElement('circle', { cx: node.x, cy: node.y, r: NODE_RADIUS, class: 'node' }));
    nodesGroup.appendChild(
      svgElement('text', { x: node.x, y: node.y + 4, 'text-anchor': 'middle', class: `node-label${node.label.length > 2 ? ' small' : ''}` }, [node.label]),
    );
  }
  svg.append(edgesGroup, labelsGroup, nodesGroup);
  return svg;
}

/** Replaces the container's content with the cell(s) at `input.step`, and a legend of the ops. */
export function renderCellGraph(container: HTMLElement, input: CellGraphInput): void {
  const layout = input.space === 'nb201' ? NB201_LAYOUT : DARTS_LAYOUT;
  const figures = input.cellTypes.map((cellType, index) =>
    element('figure', { class: 'cell' }, [
      drawCell(input, index, layout),
      input.cellTypes.length > 1 ? element('figcaption', {}, [`${cellType} cell`]) : null,
    ]),
  );
  const legend = element(
    'ul',
    { class: 'legend', 'aria-label': 'ops' },
    drawnOps(input).map((op) => {
      const style = opStyle(op);
      const swatch = svgElement('svg', { width: 28, height: 10, 'aria-hidden': 'true' }, [
        svgElement('line', { x1: 1, y1: 5, x2: 27, y2: 5, stroke: style.colour, 'stroke-width': 3, 'stroke-dasharray': style.dash }),
      ]);
      return element('li', {}, [swatch, ` ${input.ops[op]}`]);
    }),
  );
  legend.appendChild(
    element('li', { class: 'legend-note' }, ['faint: pruned earlier · short dashes: pruned in the round shown · edges run from the lower to the higher node']),
  );
  container.replaceChildren(element('div', { class: 'cells' }, figures), legend);
}
