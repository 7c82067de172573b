/**
 * The DARTS cell space as TE-NAS searches it (docs/algorithm.md §2.1, §2.4, §3): op list, edge order,
 * op masks (JSON text) and genotypes (Python repr or JSON).
 *
 * A cell has two inputs (states 0 = c_{k−2}, 1 = c_{k−1}) and 4 intermediate nodes (states 2..5);
 * node i reads states 0..i+1 through edges `i<-j`. A mask marks, per cell type, which ops of each of
 * the 14 edges are alive; an edge with no alive op is dead and contributes nothing. A genotype keeps
 * 2 (op, input) pairs per node, pairs (2k, 2k+1) feeding node k.
 */
import { TenasInputError } from '../../errors.js';

/** TE-NAS op order (cell_operations.py); indices are the α / mask columns. */
export const DARTS_OPS = [
  'none',
  'skip_connect',
  'sep_conv_3x3',
  'sep_conv_5x5',
  'dil_conv_3x3',
  'dil_conv_5x5',
  'avg_pool_3x3',
  'max_pool_3x3',
] as const;
export type DartsOp = (typeof DARTS_OPS)[number];

export interface DartsEdge {
  /** Row of the α matrix / mask (the released code's keys sorted). */
  index: number;
  /** Intermediate node the edge feeds (0..3, i.e. state node + 2). */
  node: number;
  /** State the edge reads (0, 1 = cell inputs; 2.. = earlier intermediate nodes). */
  from: number;
  /** The released code's edge name, e.g. `2<-3`. */
  key: string;
}

export const DARTS_NODE_COUNT = 4;

function buildEdges(): DartsEdge[] {
  const edges: DartsEdge[] = [];
  for (let node = 0; node < DARTS_NODE_COUNT; node++) {
    for (let from = 0; from < node + 2; from++) edges.push({ index: edges.length, node, from, key: `${node}<-${from}` });
  }
  return edges;
}

/** The 14 edges in index order: 0<-0, 0<-1, 1<-0, 1<-1, 1<-2, 2<-0, …, 3<-4. */
export const DARTS_EDGES: readonly DartsEdge[] = buildEdges();

/** `[start, end)` edge ranges of nodes 0..3 (prune_tenas.py's `edge_groups`). */
export const DARTS_EDGE_GROUPS: readonly (readonly [number, number])[] = [
  [0, 2],
  [2, 5],
  [5, 9],
  [9, 14],
];

export const DARTS_CELL_TYPES = ['normal', 'reduce'] as const;
export type DartsCellType = (typeof DARTS_CELL_TYPES)[number];

/** `mask[edge][op]` = op alive; 14 rows (edge index order) × 8 columns (DARTS_OPS order). */
export type DartsCellMask = boolean[][];

export interface DartsMask {
  normal: DartsCellMask;
  reduce: DartsCellMask;
}

/** Genotype concat list of a 4-node cell; the only one this engine builds. */
const FOUR_NODE_CONCAT = [2, 3, 4, 5] as const;
const PAIRS_PER_CELL = 2 * DARTS_NODE_COUNT;

function opIndexOf(name: string): number {
  return (DARTS_OPS as readonly string[]).indexOf(name);
}

function describeEdge(cell: DartsCellType, edge: DartsEdge): string {
  return `${cell} cell, edge ${edge.index} (${edge.key})`;
}

// ---------------------------------------------------------------------------------------------
// Masks

const MASK_FORM =
  'expected {"normal": [[op names] × 14], "reduce": [[op names] × 14]} with edges in the order ' +
  `${DARTS_EDGES.map((e) => e.key).join(', ')} and ops from ${DARTS_OPS.join(', ')}`;

function maskError(problem: string): TenasInputError {
  return new TenasInputError(`invalid DARTS mask: ${problem}; ${MASK_FORM}`);
}

function parseEdgeRow(cell: DartsCellType, edge: DartsEdge, row: unknown): boolean[] {
  if (!Array.isArray(row)) throw maskError(`${describeEdge(cell, edge)} is ${JSON.stringify(row)}, not a list of op names`);
  const isBooleanRow = row.length === DARTS_OPS.length && row.every((v) => typeof v === 'boolean');
  if (isBooleanRow) return [...(row as boolean[])];
  const alive = DARTS_OPS.map(() => false);
  for (const name of row) {
    const opIndex = typeof name === 'string' ? opIndexOf(name) : -1;
    if (opIndex < 0) throw maskError(`${describeEdge(cell, edge)} has unknown op ${JSON.stringify(name)}`);
    if (alive[opIndex]) throw maskError(`${describeEdge(cell, edge)} lists op "${name}" twice`);
    alive[opIndex] = true;
  }
  return alive;
}

function parseCell(cell: DartsCellType, rows: unknown): DartsCellMask {
  if (!Array.isArray(rows)) throw maskError(`"${cell}" is missing or not a list`);
  if (rows.length !== DARTS_EDGES.length) {
    throw maskError(`the ${cell} cell has ${rows.length} edge(s), expected ${DARTS_EDGES.length}`);
  }
  return DARTS_EDGES.map((edge) => parseEdgeRow(cell, edge, rows[edge.index]));
}

/**
 * Reads a mask from its JSON text (or the already-parsed object). Each edge lists its alive op
 * names (`[]` = dead edge); a row of 8 booleans in op order (the goldens' `alive.mask`) is also
 * accepted. Every intermediate node must keep at least one live edge.
 */
export function parseDartsMask(json: string | unknown): DartsMask {
  let value: unknown = json;
  if (typeof json === 'string') {
    try {
      value = JSON.parse(json);
    } catch (error) {
      throw maskError(`the text is not JSON (${(error as Error).message})`);
    }
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw maskError('not a JSON object');
  const unknownKeys = Object.keys(value).filter((key) => !(DARTS_CELL_TYPES as readonly string[]).includes(key));
  if (unknownKeys.length > 0) throw maskError(`unknown key(s) ${unknownKeys.map((k) => `"${k}"`).join(', ')}`);
  const object = value as Record<string, unknown>;
  const mask: DartsMask = { normal: parseCell('normal', object.normal), reduce: parseCell('reduce', object.reduce) };
  assertDartsMask(mask);
  return mask;
}

/**
 * Checks shape (2 cells × 14 edges × 8 booleans) and that every intermediate node has a live edge
 * (a node fed only by dead edges has no value).
 */
export function assertDartsMask(mask: DartsMask): void {
  for (const cell of DARTS_CELL_TYPES) {
    const rows = mask?.[cell];
    const wellFormed =
      Array.isArray(rows) &&
      rows.length === DARTS_EDGES.length &&
      rows.every((row) => Array.isArray(row) && row.length === DARTS_OPS.length && row.every((v) => typeof v === 'boolean'));
    if (!wellFormed) {
      throw new TenasInputError(
        `invalid DARTS mask: the ${cell} cell must be ${DARTS_EDGES.length} edges × ${DARTS_OPS.length} booleans (ops ${DARTS_OPS.join(', ')})`,
      );
    }
    DARTS_EDGE_GROUPS.forEach(([start, end], node) => {
      if (rows.slice(start, end).some((row) => row.some(Boolean))) return;
      const keys = DARTS_EDGES.slice(start, end).map((e) => e.key).join(', ');
      throw new TenasInputError(
        `invalid DARTS mask: node ${node} of the ${cell} cell has no live edge (edges ${start}..${end - 1}: ${keys} are all empty); keep at least one op alive on one of them`,
      );
    });
  }
}

function aliveNames(row: readonly boolean[]): DartsOp[] {
  return DARTS_OPS.filter((_, opIndex) => row[opIndex]);
}

/** The JSON text of a mask, op names in op-list order (`[]` for a dead edge). */
export function formatDartsMask(mask: DartsMask): string {
  assertDartsMask(mask);
  return JSON.stringify({ normal: mask.normal.map(aliveNames), reduce: mask.reduce.map(aliveNames) });
}

/** The search's starting supernet: every op alive except `none` on all 28 edges (docs/algorithm.md §3). */
export function fullDartsSupernetMask(): DartsMask {
  const cell = (): DartsCellMask => DARTS_EDGES.map(() => DARTS_OPS.map((op) => op !== 'none'));
  return { normal: cell(), reduce: cell() };
}

// ---------------------------------------------------------------------------------------------
// Genotypes

export interface Genotype {
  normal: [string, number][];
  normal_concat: number[];
  reduce: [string, number][];
  reduce_concat: number[];
}

const GENOTYPE_FORM =
  "expected Genotype(normal=[('op', input) × 8], normal_concat=[2, 3, 4, 5], reduce=[...], reduce_concat=[2, 3, 4, 5]) " +
  'or the JSON {"normal": [["op", input] × 8], "normal_concat": [2, 3, 4, 5], "reduce": [...], "reduce_concat": [2, 3, 4, 5]}';

function genotypeError(problem: string, context = 'invalid DARTS genotype'): TenasInputError {
  return new TenasInputError(`${context}: ${problem}; ${GENOTYPE_FORM}`);
}

const GENOTYPE_FIELDS = ['normal', 'normal_concat', 'reduce', 'reduce_concat'] as const;

function isIntegerList(value: unknown): value is number[] {
  return Array.isArray(value) && value.every((v) => Number.isInteger(v));
}

/**
 * Validates a genotype-shaped value (parsed JSON or Python repr) and returns a normalised copy.
 * `context` prefixes every message (e.g. the genotype's name).
 */
function validateGenotype(value: unknown, context: string): Genotype {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw genotypeError('not an object', context);
  const object = value as Record<string, unknown>;
  const unknownKeys = Object.keys(object).filter((key) => !(GENOTYPE_FIELDS as readonly string[]).includes(key));
  if (unknownKeys.length > 0) throw genotypeError(`unknown field(s) ${unknownKeys.join(', ')}`, context);
  for (const field of GENOTYPE_FIELDS) {
    if (!Array.isArray(object[field])) throw genotypeError(`field "${field}" is missing or not a list`, context);
  }
  for (const cell of DARTS_CELL_TYPES) {
    const pairs = object[cell] as unknown[];
    const concat = object[`${cell}_concat`];
    const isFiveNode = pairs.length === 10 || (isIntegerList(concat) && concat.some((v) => v > 5));
    if (isFiveNode) {
      throw new TenasInputError(
        `${context}: the ${cell} cell has 5 intermediate nodes (${pairs.length} pairs, ${cell}_concat ${JSON.stringify(concat)}), ` +
          'like NASNet or AmoebaNet; this engine builds DARTS cells with 4 intermediate nodes only (8 pairs, concat [2, 3, 4, 5])',
      );
    }
    if (pairs.length !== PAIRS_PER_CELL) {
      throw genotypeError(`the ${cell} cell has ${pairs.length} (op, input) pair(s), expected exactly ${PAIRS_PER_CELL} (2 per intermediate node)`, context);
    }
  }
  const cells = DARTS_CELL_TYPES.map((cell) => {
    const pairs = (object[cell] as unknown[]).map((pair, k): [string, number] => {
      const where = `${cell} pair ${k} (feeding node ${(k >> 1) + 2})`;
      if (!Array.isArray(pair) || pair.length !== 2 || typeof pair[0] !== 'string' || !Number.isInteger(pair[1])) {
        throw genotypeError(`${where} is ${JSON.stringify(pair)}, expected (op name, input index)`, context);
      }
      const [op, input] = pair as [string, number];
      const opIndex = opIndexOf(op);
      if (opIndex <= 0) {
        const why = op === 'none' ? '"none" cannot be a chosen op' : `unknown op "${op}"`;
        throw genotypeError(`${where}: ${why}; ops are ${DARTS_OPS.slice(1).join(', ')}`, context);
      }
      const inputLimit = (k >> 1) + 2;
      if (input < 0 || input >= inputLimit) {
        throw genotypeError(`${where}: input ${input} out of range, node ${(k >> 1) + 2} reads inputs 0..${inputLimit - 1}`, context);
      }
      return [op, input];
    });
    const concat = object[`${cell}_concat`];
    if (!isIntegerList(concat) || concat.join(',') !== FOUR_NODE_CONCAT.join(',')) {
      throw genotypeError(`${cell}_concat is ${JSON.stringify(concat)}, expected [2, 3, 4, 5] (all 4 intermediate nodes)`, context);
    }
    return pairs;
  });
  return { normal: cells[0], normal_concat: [...FOUR_NODE_CONCAT], reduce: cells[1], reduce_concat: [...FOUR_NODE_CONCAT] };
}

// A small reader for the Python repr: `[Name =] Genotype(key=value, ...)` where a value is a list,
// tuple, string, integer or `range(a, b[, step])`.

type PyToken = { kind: 'name' | 'string' | 'number' | 'punct'; text: string; offset: number };
type PyValue = string | number | PyValue[];

function tokenizePython(text: string): PyToken[] {
  const tokens: PyToken[] = [];
  let i = 0;
  while (i < text.length) {
    const ch = text[i];
    if (/\s/.test(ch)) {
      i++;
    } else if ('()[],='.includes(ch)) {
      tokens.push({ kind: 'punct', text: ch, offset: i++ });
    } else if (ch === "'" || ch === '"') {
      const end = text.indexOf(ch, i + 1);
      if (end < 0) throw genotypeError(`unterminated string starting at character ${i + 1}`);
      tokens.push({ kind: 'string', text: text.slice(i + 1, end), offset: i });
      i = end + 1;
    } else {
      const match = /^(-?\d+|[A-Za-z_][A-Za-z0-9_.]*)/.exec(text.slice(i));
      if (!match) throw genotypeError(`unexpected character "${ch}" at character ${i + 1}`);
      tokens.push({ kind: /^-?\d/.test(match[0]) ? 'number' : 'name', text: match[0], offset: i });
      i += match[0].length;
    }
  }
  return tokens;
}

class PythonReprReader {
  private position = 0;
  constructor(private readonly tokens: PyToken[]) {}

  private peek(): PyToken | undefined {
    return this.tokens[this.position];
  }

  private where(token: PyToken | undefined): string {
    return token === undefined ? 'at the end of the text' : `at character ${token.offset + 1} ("${token.text}")`;
  }

  private expect(text: string): void {
    const token = this.tokens[this.position];
    if (token?.kind !== 'punct' || token.text !== text) throw genotypeError(`expected "${text}" ${this.where(token)}`);
    this.position++;
  }

  private accept(text: string): boolean {
    const token = this.peek();
    if (token?.kind === 'punct' && token.text === text) {
      this.position++;
      return true;
    }
    return false;
  }

  /** Comma-separated values up to `close`, trailing comma allowed. */
  private sequence(close: string): PyValue[] {
    const values: PyValue[] = [];
    while (!this.accept(close)) {
      values.push(this.value());
      if (!this.accept(',')) {
        this.expect(close);
        break;
      }
    }
    return values;
  }

  private value(): PyValue {
    const token = this.peek();
    if (token === undefined) throw genotypeError('the text ends in the middle of a value');
    this.position++;
    if (token.kind === 'string') return token.text;
    if (token.kind === 'number') return Number(token.text);
    if (token.kind === 'punct' && token.text === '[') return this.sequence(']');
    if (token.kind === 'punct' && token.text === '(') return this.sequence(')');
    if (token.kind === 'name' && token.text === 'range') {
      this.expect('(');
      const args = this.sequence(')');
      if (args.length < 1 || args.length > 3 || !args.every((a) => Number.isInteger(a))) {
        throw genotypeError(`range() takes 1 to 3 integers ${this.where(token)}`);
      }
      const [start, stop, step] = args.length === 1 ? [0, args[0] as number, 1] : [args[0] as number, args[1] as number, (args[2] as number | undefined) ?? 1];
      if (step === 0) throw genotypeError(`range() step must not be zero ${this.where(token)}`);
      const values: number[] = [];
      for (let v = start; step > 0 ? v < stop : v > stop; v += step) values.push(v);
      return values;
    }
    throw genotypeError(`unexpected ${this.where(token)}`);
  }

  /** `[Name =] Genotype(args)` → an object keyed by the Genotype fields. */
  genotype(): Record<string, PyValue> {
    const tokens = this.tokens;
    if (tokens[0]?.kind === 'name' && tokens[1]?.text === '=' && tokens[2]?.kind === 'name') this.position = 2;
    const head = this.peek();
    if (head?.kind !== 'name' || !/(^|\.)Genotype$/.test(head.text)) {
      throw genotypeError(`expected "Genotype(" ${this.where(head)}`);
    }
    this.position++;
    this.expect('(');
    const fields: Record<string, PyValue> = {};
    let positional = 0;
    while (!this.accept(')')) {
      const token = this.peek();
      let field: string;
      if (token?.kind === 'name' && this.tokens[this.position + 1]?.text === '=') {
        field = token.text;
        this.position += 2;
      } else {
        if (positional >= GENOTYPE_FIELDS.length) throw genotypeError(`too many arguments ${this.where(token)}`);
        field = GENOTYPE_FIELDS[positional++];
      }
      if (field in fields) throw genotypeError(`field "${field}" given twice`);
      fields[field] = this.value();
      if (!this.accept(',')) {
        this.expect(')');
        break;
      }
    }
    if (this.position < tokens.length) throw genotypeError(`unexpected text after the closing ")" ${this.where(this.peek())}`);
    return fields;
  }
}

/**
 * Reads a genotype from the Python repr (`Genotype(normal=[('sep_conv_3x3', 0), ...],
 * normal_concat=range(2, 6), ...)`, single or double quotes, list or `range` concat, optionally
 * `NAME = ` in front) or from JSON (`{"normal": [["sep_conv_3x3", 0], ...], ...}`). Only 4-node
 * cells are accepted: 8 pairs per cell, pair k reading an input below ⌊k/2⌋ + 2, ops other than
 * `none`, concat [2, 3, 4, 5].
 */
export function parseGenotype(text: string): Genotype {
  const trimmed = text.trim();
  if (trimmed === '') throw genotypeError('the text is empty');
  if (trimmed.startsWith('{')) {
    let value: unknown;
    try {
      value = JSON.parse(trimmed);
    } catch (error) {
      throw genotypeError(`the text is not valid JSON (${(error as Error).message})`);
    }
    return validateGenotype(value, 'invalid DARTS genotype');
  }
  const fields = new PythonReprReader(tokenizePython(trimmed)).genotype();
  return validateGenotype(fields, 'invalid DARTS genotype');
}

/** The Python repr of a genotype, as `print(genotype)` writes it with list concats. */
export function formatGenotype(genotype: Genotype): string {
  const checked = validateGenotype(genotype, 'cannot format DARTS genotype');
  const pairs = (list: [string, number][]) => `[${list.map(([op, input]) => `('${op}', ${input})`).join(', ')}]`;
  const concat = (list: number[]) => `[${list.join(', ')}]`;
  return (
    `Genotype(normal=${pairs(checked.normal)}, normal_concat=${concat(checked.normal_concat)}, ` +
    `reduce=${pairs(checked.reduce)}, reduce_concat=${concat(checked.reduce_concat)})`
  );
}

/**
 * The single-path mask of a genotype: node k's two pairs become the alive op on edge
 * (group start + input). Two pairs of one node on the same input cannot be expressed (a mask edge
 * with two ops averages them, while the genotype sums them), so that is an error.
 */
export function genotypeToMask(genotype: Genotype): DartsMask {
  const checked = validateGenotype(genotype, 'cannot convert DARTS genotype to a mask');
  const cellMask = (cell: DartsCellType): DartsCellMask => {
    const rows = DARTS_EDGES.map(() => DARTS_OPS.map(() => false));
    checked[cell].forEach(([op, input], k) => {
      const node = k >> 1;
      const edgeIndex = DARTS_EDGE_GROUPS[node][0] + input;
      if (rows[edgeIndex].some(Boolean)) {
        throw new TenasInputError(
          `cannot convert DARTS genotype to a mask: in the ${cell} cell both pairs of node ${node + 2} read input ${input}; ` +
            'a TE-NAS mask holds one op per edge, so each node needs two different inputs',
        );
      }
      rows[edgeIndex][opIndexOf(op)] = true;
    });
    return rows;
  };
  return { normal: cellMask('normal'), reduce: cellMask('reduce') };
}

/**
 * The genotype of a fully pruned mask: every node must have exactly 2 live edges, each with exactly
 * one alive op other than `none`. Pairs of a node are listed in increasing input order, which is
 * what TE-NAS's genotype derivation yields after pruning (docs/algorithm.md §2.4).
 */
export function maskToGenotype(mask: DartsMask): Genotype {
  assertDartsMask(mask);
  const cellPairs = (cell: DartsCellType): [string, number][] => {
    const rows = mask[cell];
    return DARTS_EDGE_GROUPS.flatMap(([start, end], node) => {
      const live = DARTS_EDGES.slice(start, end).filter((edge) => rows[edge.index].some(Boolean));
      if (live.length !== 2) {
        throw new TenasInputError(
          `cannot derive a genotype: node ${node} of the ${cell} cell has ${live.length} live edge(s) ` +
            `(${live.map((e) => e.key).join(', ') || 'none'}), a derived cell needs exactly 2 per node; finish edge pruning first`,
        );
      }
      return live.map((edge): [string, number] => {
        const ops = aliveNames(rows[edge.index]);
        if (ops.length !== 1 || ops[0] === 'none') {
          throw new TenasInputError(
            `cannot derive a genotype: ${describeEdge(cell, edge)} has alive ops [${ops.join(', ')}], a derived cell needs exactly one op other than none per kept edge; finish op pruning first`,
          );
        }
        return [ops[0], edge.from];
      });
    });
  };
  return { normal: cellPairs('normal'), normal_concat: [...FOUR_NODE_CONCAT], reduce: cellPairs('reduce'), reduce_concat: [...FOUR_NODE_CONCAT] };
}

export interface NamedGenotypes {
  /** Genotypes this engine can build (4-node cells, DARTS ops), by name, in file order. */
  readonly compatible: Map<string, Genotype>;
  /** Entries that cannot be used, each with the reason (e.g. a 5-node NASNet cell). */
  readonly incompatible: { name: string; reason: string }[];
}

/**
 * Reads a `{name: {normal, normal_concat, reduce, reduce_concat}}` file such as
 * data/darts/genotypes.json (JSON text or the parsed object); keys starting with `_` (e.g.
 * `_PRIMITIVES`) are metadata and skipped.
 */
export function loadNamedGenotypes(json: string | unknown): NamedGenotypes {
  let value: unknown = json;
  if (typeof json === 'string') {
    try {
      value = JSON.parse(json);
    } catch (error) {
      throw new TenasInputError(`invalid genotype collection: the text is not JSON (${(error as Error).message}); expected {"name": {"normal": [...], ...}, ...}`);
    }
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new TenasInputError('invalid genotype collection: expected a JSON object {"name": {"normal": [...], "normal_concat": [...], ...}, ...}');
  }
  const compatible = new Map<string, Genotype>();
  const incompatible: { name: string; reason: string }[] = [];
  for (const [name, entry] of Object.entries(value)) {
    if (name.startsWith('_')) continue;
    try {
      compatible.set(name, validateGenotype(entry, `genotype "${name}"`));
    } catch (error) {
      if (!(error instanceof TenasInputError)) throw error;
      incompatible.push({ name, reason: error.message });
    }
  }
  return { compatible, incompatible };
}
