import { dartsNtkNetwork, dartsThinNetwork } from './networks.js';
import {
  DARTS_EDGE_GROUPS,
  DARTS_EDGES,
  DARTS_OPS,
  formatDartsMask,
  formatGenotype,
  fullDartsSupernetMask,
  genotypeToMask,
  maskToGenotype,
  parseDartsMask,
  parseGenotype,
  type DartsMask,
} from './arch.js';
import type { CellMasks, SearchSpace } from '../space.js';

const toCells = (mask: DartsMask): CellMasks => [mask.normal, mask.reduce];
const fromCells = (mask: CellMasks): DartsMask => ({ normal: mask[0], reduce: mask[1] });

/** A genotype (Python repr or JSON with `normal_concat`) or a JSON op mask. */
function parseDartsArchitecture(text: string): CellMasks {
  const looksLikeGenotype = /Genotype\s*\(|normal_concat/.test(text);
  return toCells(looksLikeGenotype ? genotypeToMask(parseGenotype(text)) : parseDartsMask(text));
}

export const dartsSpace: SearchSpace = {
  name: 'darts',
  ops: DARTS_OPS,
  cellTypes: ['normal', 'reduce'],
  edgeCount: DARTS_EDGES.length,
  edgeGroups: DARTS_EDGE_GROUPS,
  supernetMask: () => toCells(fullDartsSupernetMask()),
  ntkNetwork: (mask, classes, inputSize) => dartsNtkNetwork({ mask: fromCells(mask), classes, inputSize }),
  thinNetwork: (mask, classes) => dartsThinNetwork({ mask: fromCells(mask), classes }),
  parseArchitecture: parseDartsArchitecture,
  formatMask: (mask) => formatDartsMask(fromCells(mask)),
  formatArchitecture: (mask) => formatGenotype(maskToGenotype(fromCells(mask))),
};
