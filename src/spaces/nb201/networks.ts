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

function searchCell(b: NetworkBuilder, name: string, channels: number, mask: Nb201Mask): Cell {
  const edgeOps = NB201_EDGES.map((edge) =>
    NB201_OPS.map((op, opIndex): Module => {
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
          if (isAlive) terms.push({ input: edgeOps[edge.index][op](nodes[edge.from]), scale: weight });
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

  let x = stemNorm(stemConv(b.input({ channels: 3, height: inputSize, width: inputSize })));
  for (const stage of stages) x = stage(x);
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
