import { describe, it, expect } from 'vitest';
import { TenasInputError } from '../src/errors.js';
import {
  NB201_EDGES,
  NB201_OPS,
  archToMask,
  enumerateNb201Archs,
  formatNb201Mask,
  fullSupernetMask,
  isSinglePath,
  maskToArch,
  parseNb201Mask,
  type Nb201Mask,
} from '../src/spaces/nb201/arch.js';

const EXAMPLE_ARCH = '|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|';
const FULL_SUPERNET =
  '|skip_connect,nor_conv_1x1,nor_conv_3x3,avg_pool_3x3~0|' +
  '+|skip_connect,nor_conv_1x1,nor_conv_3x3,avg_pool_3x3~0|skip_connect,nor_conv_1x1,nor_conv_3x3,avg_pool_3x3~1|' +
  '+|skip_connect,nor_conv_1x1,nor_conv_3x3,avg_pool_3x3~0|skip_connect,nor_conv_1x1,nor_conv_3x3,avg_pool_3x3~1|' +
  'skip_connect,nor_conv_1x1,nor_conv_3x3,avg_pool_3x3~2|';

function aliveOps(mask: Nb201Mask, edge: number): string[] {
  return NB201_OPS.filter((_, op) => mask[edge]![op]);
}

function expectInputError(text: string, ...fragments: string[]): void {
  let caught: unknown;
  try {
    parseNb201Mask(text);
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(TenasInputError);
  for (const fragment of fragments) expect((caught as Error).message).toContain(fragment);
}

describe('NB201 constants', () => {
  it('lists the ops and the edges in index order', () => {
    expect(NB201_OPS).toEqual(['none', 'skip_connect', 'nor_conv_1x1', 'nor_conv_3x3', 'avg_pool_3x3']);
    expect(NB201_EDGES.map((e) => e.key)).toEqual(['1<-0', '2<-0', '2<-1', '3<-0', '3<-1', '3<-2']);
    expect(NB201_EDGES.map((e) => [e.index, e.to, e.from])).toEqual([
      [0, 1, 0], [1, 2, 0], [2, 2, 1], [3, 3, 0], [4, 3, 1], [5, 3, 2],
    ]);
  });
});

describe('parseNb201Mask / formatNb201Mask', () => {
  it('parses a plain arch string with op tokens in edge-index order', () => {
    const mask = parseNb201Mask(EXAMPLE_ARCH);
    expect(NB201_EDGES.map((e) => aliveOps(mask, e.index))).toEqual([
      ['nor_conv_3x3'], ['nor_conv_3x3'], ['avg_pool_3x3'], ['skip_connect'], ['nor_conv_3x3'], ['skip_connect'],
    ]);
    expect(formatNb201Mask(mask)).toBe(EXAMPLE_ARCH);
  });

  it('parses the extended form and writes ops in op-list order', () => {
    const text = '|nor_conv_3x3,skip_connect~0|+|nor_conv_1x1~0|avg_pool_3x3~1|+|none~0|skip_connect,avg_pool_3x3~1|nor_conv_1x1~2|';
    const mask = parseNb201Mask(text);
    expect(aliveOps(mask, 0)).toEqual(['skip_connect', 'nor_conv_3x3']);
    expect(aliveOps(mask, 3)).toEqual(['none']);
    expect(formatNb201Mask(mask)).toBe(
      '|skip_connect,nor_conv_3x3~0|+|nor_conv_1x1~0|avg_pool_3x3~1|+|none~0|skip_connect,avg_pool_3x3~1|nor_conv_1x1~2|',
    );
  });

  it('reads `none` as the op none alive, and writes an edge without alive ops as `none`', () => {
    const mask = fullSupernetMask();
    mask[2] = NB201_OPS.map(() => false);
    const text = formatNb201Mask(mask);
    expect(text).toContain('|none~1|');
    expect(aliveOps(parseNb201Mask(text), 2)).toEqual(['none']);
  });

  it('formats the full supernet and round-trips it', () => {
    expect(formatNb201Mask(fullSupernetMask())).toBe(FULL_SUPERNET);
    expect(parseNb201Mask(FULL_SUPERNET)).toEqual(fullSupernetMask());
  });

  it('ignores surrounding whitespace but counts characters in the original text', () => {
    expect(parseNb201Mask(`  ${EXAMPLE_ARCH}\n`)).toEqual(parseNb201Mask(EXAMPLE_ARCH));
    expectInputError('  |nor_conv_5x5~0|+|none~0|none~1|+|none~0|none~1|none~2|', '"nor_conv_5x5"', 'character 4');
  });

  it('rejects a malformed mask when formatting', () => {
    expect(() => formatNb201Mask([[true]])).toThrow(TenasInputError);
  });
});

describe('parseNb201Mask errors name the token and its position', () => {
  it('unknown op', () => {
    const text = '|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_5x5~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|';
    expectInputError(text, 'unknown op "nor_conv_5x5"', 'edge 2<-1', `character ${text.indexOf('nor_conv_5x5') + 1}`);
  });

  it('unknown op inside an extended edge', () => {
    const text = '|skip_connect,max_pool_3x3~0|+|none~0|none~1|+|none~0|none~1|none~2|';
    expectInputError(text, 'unknown op "max_pool_3x3"', 'edge 1<-0', `character ${text.indexOf('max_pool') + 1}`);
  });

  it('wrong input index', () => {
    const text = '|none~0|+|none~0|none~2|+|none~0|none~1|none~2|';
    expectInputError(text, 'wrong input index "~2" where "~1" expected', 'edge 2<-1', 'character 22');
  });

  it('edges listed out of order', () => {
    expectInputError('|none~0|+|none~1|none~0|+|none~0|none~1|none~2|', '"~1" where "~0" expected', 'edge 2<-0');
  });

  it('missing input index', () => {
    expectInputError('|none~0|+|none~0|none|+|none~0|none~1|none~2|', 'missing input index "~1"', 'edge 2<-1', 'character 18');
  });

  it('wrong number of nodes', () => {
    expectInputError('|none~0|+|none~0|none~1|', 'found 2 node(s)', 'expected 3');
    expectInputError(`${EXAMPLE_ARCH}+|none~0|`, 'found 4 node(s)');
  });

  it('wrong number of edges in a node', () => {
    expectInputError('|none~0|+|none~0|+|none~0|none~1|none~2|', 'node 2 has 1 input edge(s), expected 2', 'character 10');
    expectInputError('|none~0|none~1|+|none~0|none~1|+|none~0|none~1|none~2|', 'node 1 has 2 input edge(s), expected 1');
  });

  it('duplicate op in an edge', () => {
    const text = '|skip_connect,nor_conv_1x1,skip_connect~0|+|none~0|none~1|+|none~0|none~1|none~2|';
    expectInputError(text, 'duplicate op "skip_connect"', 'edge 1<-0', 'character 28');
  });

  it('empty op name', () => {
    expectInputError('|skip_connect,~0|+|none~0|none~1|+|none~0|none~1|none~2|', 'empty op name', 'edge 1<-0', 'character 15');
  });

  it('empty text', () => {
    expectInputError('', 'empty');
    expectInputError('   \n', 'empty');
  });

  it('missing bars', () => {
    expectInputError('none~0|+|none~0|none~1|+|none~0|none~1|none~2|', 'node 1 does not start with "|"', 'character 1');
    expectInputError('|none~0|+|none~0|none~1|+|none~0|none~1|none~2', 'node 3 does not end with "|"', 'character 46');
    expectInputError('|none~0+|none~0|none~1|+|none~0|none~1|none~2|', 'node 1 does not end with "|"', 'character 7');
  });
});

describe('single-path masks', () => {
  it('isSinglePath', () => {
    expect(isSinglePath(parseNb201Mask(EXAMPLE_ARCH))).toBe(true);
    expect(isSinglePath(fullSupernetMask())).toBe(false);
    const withEmptyEdge = parseNb201Mask(EXAMPLE_ARCH);
    withEmptyEdge[4] = NB201_OPS.map(() => false);
    expect(isSinglePath(withEmptyEdge)).toBe(false);
  });

  it('fullSupernetMask has every op but none alive', () => {
    for (const row of fullSupernetMask()) expect(row).toEqual([false, true, true, true, true]);
  });

  it('archToMask / maskToArch round-trip and reject multi-op edges', () => {
    expect(maskToArch(archToMask(EXAMPLE_ARCH))).toBe(EXAMPLE_ARCH);
    expect(() => maskToArch(fullSupernetMask())).toThrow(/edge 1<-0 has 4 alive ops/);
    expect(() => archToMask(FULL_SUPERNET)).toThrow(TenasInputError);
  });
});

describe('enumerateNb201Archs', () => {
  const archs = enumerateNb201Archs();

  it('lists 15,625 distinct plain arch strings that round-trip', () => {
    expect(archs).toHaveLength(15_625);
    expect(new Set(archs).size).toBe(15_625);
    for (const arch of archs) expect(maskToArch(archToMask(arch))).toBe(arch);
  });

  it('varies edge 0 slowest and edge 5 fastest', () => {
    expect(archs[0]).toBe('|none~0|+|none~0|none~1|+|none~0|none~1|none~2|');
    expect(archs[1]).toBe('|none~0|+|none~0|none~1|+|none~0|none~1|skip_connect~2|');
    expect(archs[5]).toBe('|none~0|+|none~0|none~1|+|none~0|skip_connect~1|none~2|');
    expect(archs[15_624]).toBe('|avg_pool_3x3~0|+|avg_pool_3x3~0|avg_pool_3x3~1|+|avg_pool_3x3~0|avg_pool_3x3~1|avg_pool_3x3~2|');
    expect(archs[3 * 5 ** 5]!.startsWith('|nor_conv_3x3~0|+|none~0|')).toBe(true);
  });
});
