/**
 * The NAS-Bench-201 cell space: op list, edge order, arch strings and op masks (docs/algorithm.md §2.3, §3).
 *
 * Text format: nodes 1..3 separated by `+`; node i lists its inputs j = 0..i-1 as `ops~j` between bars:
 * `|a~0|+|b~0|c~1|+|d~0|e~1|f~2|`. In a plain arch string each edge has one op; in the extended mask
 * form an edge lists its alive ops joined by `,` (e.g. `skip_connect,nor_conv_3x3~0`).
 *
 * `none` is always read as "the op `none` is alive", which is what a plain arch string means. The
 * extended form also writes `none` for an edge with no alive op; reading that back as "only `none`
 * alive" is harmless because both make the edge contribute zero. `formatNb201Mask` therefore writes
 * `none` for an empty edge, and parsing never produces an empty edge.
 */
import { TenasInputError } from '../../errors.js';

export const NB201_OPS = ['none', 'skip_connect', 'nor_conv_1x1', 'nor_conv_3x3', 'avg_pool_3x3'] as const;
export type Nb201Op = (typeof NB201_OPS)[number];

export interface Nb201Edge {
  /** Position in the α matrix / edge order (keys sorted lexicographically in the released code). */
  index: number;
  /** Node the edge feeds (1..3). */
  to: number;
  /** Node the edge reads (0..to-1). */
  from: number;
  /** The released code's edge name, e.g. `2<-1`. */
  key: string;
}

function edge(index: number, to: number, from: number): Nb201Edge {
  return { index, to, from, key: `${to}<-${from}` };
}

/** The 6 edges in index order; it coincides with the order of the op tokens in an arch string. */
export const NB201_EDGES: readonly Nb201Edge[] = [
  edge(0, 1, 0),
  edge(1, 2, 0),
  edge(2, 2, 1),
  edge(3, 3, 0),
  edge(4, 3, 1),
  edge(5, 3, 2),
];

const NB201_NODE_COUNT = 4;
const NB201_ARCH_COUNT = NB201_OPS.length ** NB201_EDGES.length;

/** `mask[edge][op]` = op alive on that edge; 6 rows (edge index order) × 5 columns (NB201_OPS order). */
export type Nb201Mask = boolean[][];

function opIndexOf(name: string): number {
  return (NB201_OPS as readonly string[]).indexOf(name);
}

function edgeOf(to: number, from: number): Nb201Edge {
  return NB201_EDGES.find((e) => e.to === to && e.from === from)!;
}

function emptyMask(): Nb201Mask {
  return NB201_EDGES.map(() => NB201_OPS.map(() => false));
}

/** A piece of the input text with its 0-based offset in the original (untrimmed) text. */
interface Span {
  text: string;
  offset: number;
}

function splitSpan(span: Span, separator: string): Span[] {
  const parts: Span[] = [];
  let offset = span.offset;
  for (const text of span.text.split(separator)) {
    parts.push({ text, offset });
    offset += text.length + separator.length;
  }
  return parts;
}

function inputError(source: string, problem: string, offset: number, where?: Nb201Edge): TenasInputError {
  const place = where === undefined ? '' : ` at edge ${where.key} (node ${where.to}, input ${where.from})`;
  return new TenasInputError(
    `invalid NAS-Bench-201 arch string: ${problem}${place}, character ${offset + 1} of "${source}"; ` +
      'expected the form |op~0|+|op~0|op~1|+|op~0|op~1|op~2| with ops from ' +
      `${NB201_OPS.join(', ')} (several alive ops of one edge joined by ",")`,
  );
}

function parseEdgeOps(source: string, opsSpan: Span, where: Nb201Edge): boolean[] {
  const alive = NB201_OPS.map(() => false);
  for (const token of splitSpan(opsSpan, ',')) {
    if (token.text === '') throw inputError(source, 'empty op name', token.offset, where);
    const opIndex = opIndexOf(token.text);
    if (opIndex < 0) throw inputError(source, `unknown op "${token.text}"`, token.offset, where);
    if (alive[opIndex]) throw inputError(source, `duplicate op "${token.text}"`, token.offset, where);
    alive[opIndex] = true;
  }
  return alive;
}

function parseEdgeEntry(source: string, entry: Span, where: Nb201Edge): boolean[] {
  const tilde = entry.text.lastIndexOf('~');
  if (tilde < 0) {
    throw inputError(source, `missing input index "~${where.from}" in "${entry.text}"`, entry.offset, where);
  }
  const inputText = entry.text.slice(tilde + 1);
  if (inputText !== String(where.from)) {
    const problem = `wrong input index "~${inputText}" where "~${where.from}" expected`;
    throw inputError(source, problem, entry.offset + tilde, where);
  }
  return parseEdgeOps(source, { text: entry.text.slice(0, tilde), offset: entry.offset }, where);
}

function parseNode(source: string, group: Span, node: number, mask: Nb201Mask): void {
  if (!group.text.startsWith('|')) {
    throw inputError(source, `node ${node} does not start with "|"`, group.offset);
  }
  if (group.text.length < 2 || !group.text.endsWith('|')) {
    throw inputError(source, `node ${node} does not end with "|"`, group.offset + group.text.length - 1);
  }
  const inner: Span = { text: group.text.slice(1, -1), offset: group.offset + 1 };
  const entries = splitSpan(inner, '|');
  if (entries.length !== node) {
    const problem = `node ${node} has ${entries.length} input edge(s), expected ${node}`;
    throw inputError(source, problem, group.offset);
  }
  entries.forEach((entry, from) => {
    const where = edgeOf(node, from);
    mask[where.index] = parseEdgeEntry(source, entry, where);
  });
}

/**
 * Parses a plain arch string or an extended mask string into a 6 × 5 mask. Throws a TenasInputError
 * naming the offending token, its edge and its 1-based character position.
 */
export function parseNb201Mask(text: string): Nb201Mask {
  const trimmed = text.trim();
  if (trimmed === '') throw new TenasInputError('invalid NAS-Bench-201 arch string: the text is empty');
  const body: Span = { text: trimmed, offset: text.indexOf(trimmed) };
  const groups = splitSpan(body, '+');
  if (groups.length !== NB201_NODE_COUNT - 1) {
    const problem = `found ${groups.length} node(s) separated by "+", expected ${NB201_NODE_COUNT - 1}`;
    throw inputError(text, problem, body.offset);
  }
  const mask = emptyMask();
  groups.forEach((group, i) => parseNode(text, group, i + 1, mask));
  return mask;
}

function assertMaskShape(mask: Nb201Mask): void {
  const wellFormed =
    Array.isArray(mask) &&
    mask.length === NB201_EDGES.length &&
    mask.every((row) => Array.isArray(row) && row.length === NB201_OPS.length && row.every((v) => typeof v === 'boolean'));
  if (!wellFormed) {
    throw new TenasInputError(
      `invalid NAS-Bench-201 mask: expected ${NB201_EDGES.length} edges × ${NB201_OPS.length} booleans (ops ${NB201_OPS.join(', ')})`,
    );
  }
}

function formatEdgeOps(alive: readonly boolean[]): string {
  const names = NB201_OPS.filter((_, opIndex) => alive[opIndex]);
  return names.length === 0 ? 'none' : names.join(',');
}

/** Writes a mask in the extended form (a plain arch string when every edge has one op). */
export function formatNb201Mask(mask: Nb201Mask): string {
  assertMaskShape(mask);
  const nodes: string[] = [];
  for (let node = 1; node < NB201_NODE_COUNT; node++) {
    const entries = NB201_EDGES.filter((e) => e.to === node).map((e) => `${formatEdgeOps(mask[e.index]!)}~${e.from}|`);
    nodes.push(`|${entries.join('')}`);
  }
  return nodes.join('+');
}

function aliveCount(row: readonly boolean[]): number {
  return row.filter(Boolean).length;
}

/** True when every edge has exactly one alive op (an edge with none is not single-path). */
export function isSinglePath(mask: Nb201Mask): boolean {
  assertMaskShape(mask);
  return mask.every((row) => aliveCount(row) === 1);
}

/** The search's starting supernet: every op alive except `none` (removed up front, docs/algorithm.md §3). */
export function fullSupernetMask(): Nb201Mask {
  return NB201_EDGES.map(() => NB201_OPS.map((op) => op !== 'none'));
}

function assertSinglePath(mask: Nb201Mask, context: string): void {
  assertMaskShape(mask);
  const bad = NB201_EDGES.find((e) => aliveCount(mask[e.index]!) !== 1);
  if (bad !== undefined) {
    const ops = formatEdgeOps(mask[bad.index]!);
    throw new TenasInputError(
      `${context}: edge ${bad.key} has ${aliveCount(mask[bad.index]!)} alive ops (${ops}), a single-path arch needs exactly 1 per edge`,
    );
  }
}

/** Parses a plain (one op per edge) arch string; errors on an extended mask with several ops on an edge. */
export function archToMask(arch: string): Nb201Mask {
  const mask = parseNb201Mask(arch);
  assertSinglePath(mask, `"${arch}" is not a plain NAS-Bench-201 arch string`);
  return mask;
}

/** The plain arch string of a single-path mask; errors if some edge does not have exactly one op. */
export function maskToArch(mask: Nb201Mask): string {
  assertSinglePath(mask, 'mask is not a single-path NAS-Bench-201 arch');
  return formatNb201Mask(mask);
}

/**
 * All 15,625 plain arch strings. Order: base-5 counting over the edges with edge 0 varying slowest
 * and edge 5 fastest (arch i has op ⌊i / 5^(5−e)⌋ mod 5 on edge e). This is NOT the NAS-Bench-201
 * API's index order.
 */
export function enumerateNb201Archs(): string[] {
  const archs: string[] = [];
  for (let archIndex = 0; archIndex < NB201_ARCH_COUNT; archIndex++) {
    const mask = emptyMask();
    let rest = archIndex;
    for (let e = NB201_EDGES.length - 1; e >= 0; e--) {
      mask[e]![rest % NB201_OPS.length] = true;
      rest = Math.floor(rest / NB201_OPS.length);
    }
    archs.push(formatNb201Mask(mask));
  }
  return archs;
}
