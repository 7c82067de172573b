import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it, expect } from 'vitest';
import { repoRoot, goldenCases } from './support/golden.js';
import { TenasInputError } from '../src/errors.js';
import {
  DARTS_EDGES,
  DARTS_EDGE_GROUPS,
  DARTS_OPS,
  formatDartsMask,
  formatGenotype,
  fullDartsSupernetMask,
  genotypeToMask,
  loadNamedGenotypes,
  maskToGenotype,
  parseDartsMask,
  parseGenotype,
  type DartsMask,
  type Genotype,
} from '../src/spaces/darts/arch.js';
import { dartsNtkNetwork, dartsThinNetwork } from '../src/spaces/darts/networks.js';
import { ntkColumns } from '../src/graph/ir.js';

const genotypesJson = readFileSync(path.join(repoRoot, 'test', 'fixtures', 'darts', 'genotypes.json'), 'utf8');

const TENAS_CIFAR10_REPR =
  "Genotype(normal=[('dil_conv_3x3', 0), ('sep_conv_5x5', 1), ('sep_conv_3x3', 0), ('sep_conv_3x3', 2), " +
  "('skip_connect', 0), ('dil_conv_5x5', 1), ('sep_conv_3x3', 1), ('sep_conv_5x5', 3)], normal_concat=[2, 3, 4, 5], " +
  "reduce=[('sep_conv_5x5', 0), ('sep_conv_5x5', 1), ('sep_conv_5x5', 1), ('sep_conv_5x5', 2), ('sep_conv_3x3', 1), " +
  "('sep_conv_3x3', 3), ('sep_conv_5x5', 2), ('sep_conv_3x3', 4)], reduce_concat=[2, 3, 4, 5])";

// As written in quark0/darts cnn/genotypes.py (range concat, line breaks).
const DARTS_V2_SOURCE = `DARTS_V2 = Genotype(
  normal=[('sep_conv_3x3', 0), ('sep_conv_3x3', 1), ('sep_conv_3x3', 0), ('sep_conv_3x3', 1), ('sep_conv_3x3', 1), ('skip_connect', 0), ('skip_connect', 0), ('dil_conv_3x3', 2)],
  normal_concat=[2, 3, 4, 5],
  reduce=[('max_pool_3x3', 0), ('max_pool_3x3', 1), ('skip_connect', 2), ('max_pool_3x3', 1), ('max_pool_3x3', 0), ('skip_connect', 2), ('skip_connect', 2), ('max_pool_3x3', 1)],
  reduce_concat=range(2, 6))`;

function expectError(run: () => unknown, ...fragments: string[]): void {
  let caught: unknown;
  try {
    run();
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(TenasInputError);
  for (const fragment of fragments) expect((caught as Error).message).toContain(fragment);
}

function namesOf(mask: DartsMask): { normal: string[][]; reduce: string[][] } {
  const names = (rows: boolean[][]) => rows.map((row) => DARTS_OPS.filter((_, op) => row[op]) as string[]);
  return { normal: names(mask.normal), reduce: names(mask.reduce) };
}

function withPair(genotype: Genotype, cell: 'normal' | 'reduce', k: number, pair: [string, number]): Genotype {
  const copy = structuredClone(genotype);
  copy[cell][k] = pair;
  return copy;
}

describe('DARTS constants', () => {
  it('lists ops in TE-NAS order and the 14 edges in sorted-key order', () => {
    expect(DARTS_OPS).toEqual(['none', 'skip_connect', 'sep_conv_3x3', 'sep_conv_5x5', 'dil_conv_3x3', 'dil_conv_5x5', 'avg_pool_3x3', 'max_pool_3x3']);
    expect(DARTS_EDGES.map((e) => e.key)).toEqual(['0<-0', '0<-1', '1<-0', '1<-1', '1<-2', '2<-0', '2<-1', '2<-2', '2<-3', '3<-0', '3<-1', '3<-2', '3<-3', '3<-4']);
    DARTS_EDGES.forEach((edge, index) => {
      expect(edge.index).toBe(index);
      const [start, end] = DARTS_EDGE_GROUPS[edge.node];
      expect(index >= start && index < end).toBe(true);
      expect(edge.from).toBe(index - start);
    });
    expect(DARTS_EDGE_GROUPS).toEqual([[0, 2], [2, 5], [5, 9], [9, 14]]);
  });
});

describe('DARTS masks', () => {
  it('round-trips the golden masks through JSON text and agrees with their boolean form', () => {
    for (const golden of goldenCases((e) => e.space === 'darts')) {
      const arch = golden.expected.alive.arch as { normal: string[][]; reduce: string[][] };
      const mask = parseDartsMask(JSON.stringify(arch));
      expect(namesOf(mask)).toEqual(arch);
      expect(JSON.parse(formatDartsMask(mask))).toEqual(arch);
      expect(parseDartsMask(formatDartsMask(mask))).toEqual(mask);
      const booleans = (golden.expected.alive as unknown as { mask: DartsMask }).mask;
      expect(parseDartsMask(booleans)).toEqual(mask);
    }
  });

  it('writes the full supernet with every op but none', () => {
    const full = fullDartsSupernetMask();
    const names = DARTS_OPS.slice(1);
    expect(JSON.parse(formatDartsMask(full))).toEqual({ normal: DARTS_EDGES.map(() => names), reduce: DARTS_EDGES.map(() => names) });
    expect(namesOf(parseDartsMask(goldenCases((e) => e.case === 'darts-ntk-full-b14')[0].expected.alive.arch))).toEqual(namesOf(full));
  });

  it('writes names in op-list order whatever order they were given in', () => {
    const arch = namesOf(fullDartsSupernetMask());
    arch.normal[3] = ['max_pool_3x3', 'skip_connect'];
    arch.reduce[0] = [];
    const text = formatDartsMask(parseDartsMask(arch));
    expect(JSON.parse(text).normal[3]).toEqual(['skip_connect', 'max_pool_3x3']);
    expect(JSON.parse(text).reduce[0]).toEqual([]);
  });

  it('names the cell, edge and op of every error', () => {
    const good = namesOf(fullDartsSupernetMask());
    const bad = structuredClone(good);
    bad.reduce[7] = ['skip_connect', 'sep_conv_7x7'];
    expectError(() => parseDartsMask(bad), 'reduce cell, edge 7 (2<-2)', '"sep_conv_7x7"');
    const twice = structuredClone(good);
    twice.normal[13] = ['skip_connect', 'skip_connect'];
    expectError(() => parseDartsMask(twice), 'normal cell, edge 13 (3<-4)', 'twice');
    expectError(() => parseDartsMask({ normal: good.normal.slice(1), reduce: good.reduce }), 'normal cell has 13 edge(s), expected 14');
    expectError(() => parseDartsMask({ normal: good.normal }), '"reduce" is missing');
    expectError(() => parseDartsMask({ ...good, reduction: good.reduce }), 'unknown key(s) "reduction"');
    expectError(() => parseDartsMask('{"normal": ['), 'not JSON');
    expectError(() => parseDartsMask('[]'), 'not a JSON object');
    const notList = structuredClone(good) as unknown as { normal: unknown[] };
    notList.normal[2] = 'skip_connect';
    expectError(() => parseDartsMask(notList), 'normal cell, edge 2 (1<-0)', 'not a list');
  });

  it('refuses a node whose incoming edges are all dead', () => {
    const arch = namesOf(fullDartsSupernetMask());
    arch.reduce[2] = [];
    arch.reduce[3] = [];
    arch.reduce[4] = [];
    expectError(() => parseDartsMask(arch), 'node 1 of the reduce cell has no live edge');
  });
});

describe('DARTS genotypes', () => {
  const named = loadNamedGenotypes(genotypesJson);

  it('loads the published genotypes, refusing the 5-node ones and those that use none', () => {
    expect(named.compatible.has('TENAS_cifar10')).toBe(true);
    expect(named.compatible.has('DARTS_V2')).toBe(true);
    expect(named.compatible.has('_PRIMITIVES')).toBe(false);
    const refused = new Map(named.incompatible.map((entry) => [entry.name, entry.reason]));
    expect(refused.get('NASNet')).toContain('5 intermediate nodes');
    expect(refused.get('AmoebaNet')).toContain('5 intermediate nodes');
    expect(refused.get('WOT_imagenet_4')).toContain('"none" cannot be a chosen op');
    expect(named.compatible.size + named.incompatible.length).toBe(Object.keys(JSON.parse(genotypesJson)).length - 1);
  });

  it('reads TENAS_cifar10 as docs/algorithm.md §2.4 lists it and writes it back as the Python repr', () => {
    const fromJson = named.compatible.get('TENAS_cifar10')!;
    expect(parseGenotype(TENAS_CIFAR10_REPR)).toEqual(fromJson);
    expect(formatGenotype(fromJson)).toBe(TENAS_CIFAR10_REPR);
    const entry = JSON.parse(genotypesJson).TENAS_cifar10;
    expect(parseGenotype(JSON.stringify(entry))).toEqual(fromJson);
  });

  it('reads DARTS_V2 from genotypes.py source (range concat, NAME =, line breaks)', () => {
    const parsed = parseGenotype(DARTS_V2_SOURCE);
    expect(parsed).toEqual(named.compatible.get('DARTS_V2'));
    expect(parsed.reduce_concat).toEqual([2, 3, 4, 5]);
    expect(parseGenotype(formatGenotype(parsed))).toEqual(parsed);
    const doubleQuoted = DARTS_V2_SOURCE.replaceAll("'", '"').replace('range(2, 6)', 'range(2, 6, 1)');
    expect(parseGenotype(doubleQuoted)).toEqual(parsed);
    expect(parseGenotype(formatGenotype(parsed).replace('Genotype(', 'genotypes.Genotype('))).toEqual(parsed);
  });

  it('round-trips every compatible genotype through repr, mask and back', () => {
    for (const [name, genotype] of named.compatible) {
      expect(parseGenotype(formatGenotype(genotype)), name).toEqual(genotype);
      const mask = genotypeToMask(genotype);
      const back = maskToGenotype(mask);
      const sortedPairs = (pairs: [string, number][]) =>
        [0, 1, 2, 3].flatMap((node) => [pairs[2 * node], pairs[2 * node + 1]].sort((a, b) => a[1] - b[1]));
      expect(back, name).toEqual({ ...genotype, normal: sortedPairs(genotype.normal), reduce: sortedPairs(genotype.reduce) });
    }
  });

  it('maps pairs to edges (group start + input) and derives pairs in increasing input order', () => {
    const genotype = named.compatible.get('TENAS_cifar10')!;
    const mask = genotypeToMask(genotype);
    const live = (rows: boolean[][]) => rows.flatMap((row, edge) => (row.some(Boolean) ? [`${DARTS_EDGES[edge].key}:${DARTS_OPS[row.indexOf(true)]}`] : []));
    expect(live(mask.normal)).toEqual([
      '0<-0:dil_conv_3x3', '0<-1:sep_conv_5x5', '1<-0:sep_conv_3x3', '1<-2:sep_conv_3x3',
      '2<-0:skip_connect', '2<-1:dil_conv_5x5', '3<-1:sep_conv_3x3', '3<-3:sep_conv_5x5',
    ]);
    expect(maskToGenotype(mask)).toEqual(genotype);
    const swapped = structuredClone(genotype);
    swapped.normal[6] = genotype.normal[7];
    swapped.normal[7] = genotype.normal[6];
    expect(maskToGenotype(genotypeToMask(swapped))).toEqual(genotype);
  });

  it('builds the networks of a derived genotype', () => {
    const mask = genotypeToMask(named.compatible.get('TENAS_cifar10')!);
    const ntk = dartsNtkNetwork({ mask, classes: 10 });
    expect(ntk.params.length).toBe(725);
    expect(ntkColumns(ntk).dimension).toBeGreaterThan(0);
    expect(dartsThinNetwork({ mask, classes: 10 }).layers.at(-1)!.shape.channels).toBe(10);
  });

  it('enforces the 8-pair rule, input ranges, op names and the [2, 3, 4, 5] concat', () => {
    const base = named.compatible.get('TENAS_cifar10')!;
    expectError(() => parseGenotype(formatGenotype({ ...base, normal: base.normal.slice(0, 7) })), 'normal cell has 7 (op, input) pair(s), expected exactly 8');
    expectError(() => formatGenotype({ ...base, reduce: [...base.reduce, ['skip_connect', 0]] }), 'reduce cell has 9');
    expectError(() => parseGenotype(formatGenotype(withPair(base, 'normal', 2, ['sep_conv_3x3', 3]))), 'normal pair 2 (feeding node 3): input 3 out of range, node 3 reads inputs 0..2');
    expectError(() => parseGenotype(formatGenotype(withPair(base, 'reduce', 0, ['sep_conv_3x3', 2]))), 'reduce pair 0 (feeding node 2): input 2 out of range');
    expectError(() => parseGenotype(formatGenotype(withPair(base, 'reduce', 7, ['sep_conv_3x3', -1]))), 'input -1 out of range');
    expectError(() => parseGenotype(TENAS_CIFAR10_REPR.replace("('skip_connect', 0)", "('conv_7x1_1x7', 0)")), 'normal pair 4', 'unknown op "conv_7x1_1x7"');
    expectError(() => parseGenotype(TENAS_CIFAR10_REPR.replace("('skip_connect', 0)", "('none', 0)")), '"none" cannot be a chosen op');
    expectError(() => parseGenotype(TENAS_CIFAR10_REPR.replace('reduce_concat=[2, 3, 4, 5]', 'reduce_concat=[2, 3, 5]')), 'reduce_concat is [2,3,5], expected [2, 3, 4, 5]');
    expectError(() => parseGenotype(TENAS_CIFAR10_REPR.replace('normal_concat=[2, 3, 4, 5]', 'normal_concat=range(2, 7)')), '5 intermediate nodes', '4 intermediate nodes only');
    const nasnet = JSON.stringify(JSON.parse(genotypesJson).NASNet);
    expectError(() => parseGenotype(nasnet), 'normal cell has 5 intermediate nodes (10 pairs', 'like NASNet or AmoebaNet');
  });

  it('reports malformed text with its position', () => {
    expectError(() => parseGenotype(''), 'the text is empty');
    expectError(() => parseGenotype('Genotype(normal=[('), 'ends in the middle of a value');
    expectError(() => parseGenotype(TENAS_CIFAR10_REPR.slice(0, -1)), 'expected ")"', 'at the end of the text');
    expectError(() => parseGenotype(`${TENAS_CIFAR10_REPR} extra`), 'unexpected text after the closing ")"');
    expectError(() => parseGenotype("Genotype(normal=[('sep_conv_3x3, 0)])"), 'unterminated string starting at character 19');
    expectError(() => parseGenotype('Genome(normal=[])'), 'expected "Genotype("', 'character 1');
    expectError(() => parseGenotype('Genotype(normal=[1; 2])'), 'unexpected character ";" at character 19');
    expectError(() => parseGenotype(TENAS_CIFAR10_REPR.replace('normal_concat', 'normal_concat=[2], normal_concat')), 'field "normal_concat" given twice');
    expectError(() => parseGenotype(TENAS_CIFAR10_REPR.replace('normal_concat', 'concat')), 'unknown field(s) concat');
    expectError(() => parseGenotype('{"normal": [["sep_conv_3x3", 0]'), 'not valid JSON');
    expectError(() => parseGenotype(TENAS_CIFAR10_REPR.replace("('dil_conv_3x3', 0)", "('dil_conv_3x3', 0, 1)")), 'normal pair 0', 'expected (op name, input index)');
    expectError(() => loadNamedGenotypes('{'), 'invalid genotype collection');
  });

  it('refuses masks that are not a derived cell, and genotypes a mask cannot express', () => {
    expectError(() => maskToGenotype(fullDartsSupernetMask()), 'normal cell, edge 0 (0<-0) has alive ops [skip_connect, sep_conv_3x3,');
    const mask = genotypeToMask(named.compatible.get('TENAS_cifar10')!);
    mask.reduce[10][DARTS_OPS.indexOf('skip_connect')] = true;
    expectError(() => maskToGenotype(mask), 'node 3 of the reduce cell has 3 live edge(s) (3<-1, 3<-2, 3<-4)', 'finish edge pruning first');
    const twoOps = genotypeToMask(named.compatible.get('TENAS_cifar10')!);
    twoOps.normal[0][DARTS_OPS.indexOf('max_pool_3x3')] = true;
    expectError(() => maskToGenotype(twoOps), 'normal cell, edge 0 (0<-0) has alive ops [dil_conv_3x3, max_pool_3x3]', 'finish op pruning first');
    const sameInput = withPair(named.compatible.get('DARTS_V2')!, 'normal', 1, ['skip_connect', 0]);
    expectError(() => genotypeToMask(sameInput), 'both pairs of node 2 read input 0');
  });
});
