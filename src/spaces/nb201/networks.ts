import { NB201_EDGES, NB201_OPS, type Nb201Mask } from './arch.js';
import { NetworkBuilder, reluConvBn, type Module } from '../../graph/builder.js';
import type { LayerId, Network, SumTerm } from '../../graph/ir.js';

/**
 * The two TE-NAS networks over the NAS-Bench-201 cell (docs/algorithm.md §3, §4), built like
 * `TinyNetworkDarts`: parameters for every op of the supernet are registered in module order, while
 * only alive ops emit layers, each scaled by 1/k (k alive ops on its edge, rounded to float32).
 */

export interface Nb201NetworkOptions {
  mask: Nb201Mask;
  classes: number;
  /** Input height and width: 32 for CIFAR, 16 for ImageNet16-120. */
  inputSize: number;
}

type Cell = (input: LayerId) => LayerId;

/**
 * `supernet` registers the parameters of every op (the search networks); `alive` only those of the
 * mask's alive ops (the benchmark's evaluation network, whose dead ops do not exist).
 */
type CellParams = 'supernet' | 'alive';

function searchCell(b: NetworkBuilder, name: string, channels: number, mask: Nb201Mask, params: CellParams = 'supernet'): Cell {
  const edgeOps = NB201_EDGES.map((edge) =>
    NB201_OPS.map((op, opIndex): Module | undefined => {
      if (params === 'alive' && !mask[edge.index][opIndex]) return undefined;
      const prefix = `${name}.edges.${edge.key}.${opIndex}`;
      switch (op) {
        case 'none':
          return (x) => b.zero(x, 1);
        case 'skip_connect':
          return (x) => x;
        case 'nor_conv_1x1':
          return reluConvBn(b, prefix, channels, channels, { kernel: 1 });
        case 'nor_conv_3x3':
          return reluConvBn(b, prefix, channels, channels, { kernel: 3, padding: 1 });
        case 'avg_pool_3x3':
          return (x) => b.avgPool(x, 3, 1, 1);
      }
    }),
  );
  return (input) => {
    const nodes: LayerId[] = [input];
    for (let to = 1; to <= 3; to++) {
      const terms: SumTerm[] = [];
      for (const edge of NB201_EDGES.filter((e) => e.to === to)) {
        const alive = mask[edge.index];
        const weight = Math.fround(1 / alive.filter(Boolean).length);
        alive.forEach((isAlive, op) => {
          if (isAlive) terms.push({ input: edgeOps[edge.index][op]!(nodes[edge.from]), scale: weight });
        });
      }
      if (terms.length === 0) throw new Error(`node ${to} of ${name} has no alive op`);
      nodes.push(b.sum(terms));
    }
    return nodes[3];
  };
}

function resnetBlock(b: NetworkBuilder, name: string, cin: number, cout: number): Cell {
  const convA = reluConvBn(b, `${name}.conv_a`, cin, cout, { kernel: 3, stride: 2, padding: 1 });
  const convB = reluConvBn(b, `${name}.conv_b`, cout, cout, { kernel: 3, padding: 1 });
  const shortcut = b.conv(`${name}.downsample.1`, cin, cout, { kernel: 1 });
  return (input) => {
    const residual = shortcut(b.avgPool(input, 2, 2, 0));
    return b.sum([
      { input: residual, scale: 1 },
      { input: convB(convA(input)), scale: 1 },
    ]);
  };
}

function assertMask(mask: Nb201Mask): void {
  const emptyEdge = NB201_EDGES.find((edge) => !mask[edge.index]?.some(Boolean));
  if (mask.length !== NB201_EDGES.length || emptyEdge) {
    throw new Error('an NB201 mask needs 6 edges with at least one alive op each');
  }
}

/** The NTK supernet: stem, cell, ResNet block, cell, ResNet block, cell, BN+ReLU, GAP, linear (C = 3). */
export function nb201NtkNetwork({ mask, classes, inputSize }: Nb201NetworkOptions): Network {
  assertMask(mask);
  const channels = 3;
  const b = new NetworkBuilder();
  b.param('arch_parameters', [NB201_EDGES.length, NB201_OPS.length], 'arch');
  const stemConv = b.conv('stem.0', 3, channels, { kernel: 3, padding: 1 });
  const stemNorm = b.batchNorm('stem.1', channels);
  const stages: Cell[] = [
    searchCell(b, 'cells.0', channels, mask),
    resnetBlock(b, 'cells.1', channels, 2 * channels),
    searchCell(b, 'cells.2', 2 * channels, mask),
    resnetBlock(b, 'cells.3', 2 * channels, 4 * channels),
    searchCell(b, 'cells.4', 4 * channels, mask),
  ];
  const lastNorm = b.batchNorm('lastact.0', 4 * channels);
  const classifier = b.linear('classifier', 4 * channels, classes);

  let x = b.feature('stem', stemNorm(stemConv(b.input({ channels: 3, height: inputSize, width: inputSize }))));
  stages.forEach((stage, index) => (x = b.feature(`cells.${index}`, stage(x))));
  x = b.globalAvgPool(b.relu(lastNorm(x)));
  classifier(x);
  return b.build('nb201/ntk', classes);
}

/** The linear-region ("thin") net: one C = 1 cell on a 1×3×3 input; its stem exists but never runs. */
export function nb201ThinNetwork({ mask, classes }: Omit<Nb201NetworkOptions, 'inputSize'>): Network {
  assertMask(mask);
  const b = new NetworkBuilder();
  b.param('arch_parameters', [NB201_EDGES.length, NB201_OPS.length], 'arch');
  b.conv('stem.0', 1, 1, { kernel: 3, padding: 1 });
  b.batchNorm('stem.1', 1);
  const cell = searchCell(b, 'cells.0', 1, mask);
  const lastNorm = b.batchNorm('lastact.0', 1);
  const classifier = b.linear('classifier', 1, classes);

  const x = cell(b.input({ channels: 1, height: 3, width: 3 }));
  classifier(b.globalAvgPool(b.relu(lastNorm(x))));
  return b.build('nb201/thin', classes);
}

export interface Nb201EvalNetworkOptions {
  /** A single-path mask (one op per edge). */
  mask: Nb201Mask;
  classes: number;
  inputSize: number;
  /** Base width C (16 in NAS-Bench-201). */
  channels: number;
  /** Cells per stage N (5 in NAS-Bench-201). */
  cells: number;
}

/**
 * The benchmark's evaluation network (xautodl `TinyNetwork` + `InferCell`): stem, N cells of width
 * C, ResNet block, N cells of 2C, ResNet block, N cells of 4C, BN+ReLU, GAP, linear. Modules are
 * numbered `cells.0` … `cells.3N+1` with the ResNet blocks at `cells.N` and `cells.2N+1`; only
 * alive ops own parameters. `arch_parameters` is kept for name compatibility and never used.
 */
export function nb201EvalNetwork({ mask, classes, inputSize, channels, cells }: Nb201EvalNetworkOptions): Network {
  assertMask(mask);
  if (mask.some((edge) => edge.filter(Boolean).length !== 1)) throw new Error('the NB201 evaluation network needs a single-path architecture (one op per edge)');
  if (!Number.isInteger(channels) || channels < 1 || !Number.isInteger(cells) || cells < 1) throw new Error(`the NB201 evaluation network needs whole C ≥ 1 and N ≥ 1 (got C = ${channels}, N = ${cells})`);
  const b = new NetworkBuilder();
  b.param('arch_parameters', [NB201_EDGES.length, NB201_OPS.length], 'arch');
  const stemConv = b.conv('stem.0', 3, channels, { kernel: 3, padding: 1 });
  const stemNorm = b.batchNorm('stem.1', channels);
  const stages: Cell[] = [];
  let width = channels;
  for (let stage = 0; stage < 3; stage++) {
    if (stage > 0) {
      stages.push(resnetBlock(b, `cells.${stages.length}`, width, 2 * width));
      width *= 2;
    }
    for (let cell = 0; cell < cells; cell++) stages.push(searchCell(b, `cells.${stages.length}`, width, mask, 'alive'));
  }
  const lastNorm = b.batchNorm('lastact.0', width);
  const classifier = b.linear('classifier', width, classes);

  let x = b.feature('stem', stemNorm(stemConv(b.input({ channels: 3, height: inputSize, width: inputSize }))));
  stages.forEach((stage, index) => (x = b.feature(`cells.${index}`, stage(x))));
  classifier(b.globalAvgPool(b.relu(lastNorm(x))));
  return b.build(`nb201/eval C=${channels} N=${cells}`, classes);
}
