import type { Network } from '../graph/ir.js';

/** Alive ops as α-matrix booleans: `[cellType][edge][op]` (NB201 has one cell type, DARTS two). */
export type CellMasks = boolean[][][];

/** What the search needs from a search space; each space's folder under `spaces/` implements it. */
export interface SearchSpace {
  readonly name: string;
  readonly ops: readonly string[];
  /** Cell type names in α order: `['cell']` or `['normal', 'reduce']`. */
  readonly cellTypes: readonly string[];
  readonly edgeCount: number;
  /** Edge groups of the final edge-pruning stage (DARTS: one per intermediate node); none for NB201. */
  readonly edgeGroups: readonly (readonly [number, number])[];
  /** Round-0 supernet: every op alive except `none`. */
  supernetMask(): CellMasks;
  ntkNetwork(mask: CellMasks, classes: number, inputSize: number): Network;
  thinNetwork(mask: CellMasks, classes: number): Network;
  /** A mask or architecture given as text (arch string, JSON mask, genotype). */
  parseArchitecture(text: string): CellMasks;
  /** The mask as text (extended arch string / JSON mask). */
  formatMask(mask: CellMasks): string;
  /** The final architecture as text (NB201 arch string / DARTS genotype). */
  formatArchitecture(mask: CellMasks): string;
}

export function cloneMasks(mask: CellMasks): CellMasks {
  return mask.map((cell) => cell.map((edge) => [...edge]));
}

export function aliveCount(edge: readonly boolean[]): number {
  return edge.reduce((count, alive) => count + (alive ? 1 : 0), 0);
}
