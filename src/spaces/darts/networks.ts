import { assertDartsMask, DARTS_EDGE_GROUPS, DARTS_EDGES, DARTS_OPS, type DartsCellMask, type DartsMask } from './arch.js';
import { NetworkBuilder, reluConvBn, type Module } from '../../graph/builder.js';
import type { LayerId, Network, SumTerm } from '../../graph/ir.js';

/**
 * The two TE-NAS networks over the DARTS cell (docs/algorithm.md §3, §4, `NASNetworkDARTS` with depth 2):
 * a normal cell (C) then a reduction cell (2C). As in PyTorch, every op of the supernet registers
 * its parameters in module order; only alive ops emit layers, each scaled by 1/k (k alive ops on
 * its edge, rounded to float32), and a dead edge (no alive op) emits nothing at all.
 */

export interface DartsNetworkOptions {
  mask: DartsMask;
  classes: number;
  /** Input height and width of the NTK net (32 for CIFAR and the DARTS ImageNet search setting). */
  inputSize?: number;
}

/** A cell applied to its two inputs (c_{k−2}, c_{k−1}). */
type Cell = (s0: LayerId, s1: LayerId) => LayerId;

/** ReLU → depthwise k×k (`op.1`) → pointwise 1×1 (`op.2`) → BN (`op.3`). */
function sepConv(b: NetworkBuilder, name: string, channels: number, kernel: number, stride: number, padding: number, dilation: number): Module {
  const depthwise = b.conv(`${name}.op.1`, channels, channels, { kernel, stride, padding, dilation, groups: channels });
  const pointwise = b.conv(`${name}.op.2`, channels, channels, { kernel: 1 });
  const normalise = b.batchNorm(`${name}.op.3`, channels);
  return (x) => normalise(pointwise(depthwise(b.relu(x))));
}

/** Two SepConvs, the first carrying the stride (`op_a`, `op_b`). */
function dualSepConv(b: NetworkBuilder, name: string, channels: number, kernel: number, stride: number, padding: number): Module {
  const first = sepConv(b, `${name}.op_a`, channels, kernel, stride, padding, 1);
  const second = sepConv(b, `${name}.op_b`, channels, kernel, 1, padding, 1);
  return (x) => second(first(x));
}

/** Stride-2 FactorizedReduce: ReLU → concat(1×1 s2 conv, shifted 1×1 s2 conv) → BN. */
function factorizedReduce(b: NetworkBuilder, name: string, cin: number, cout: number): Module {
  const half = Math.floor(cout / 2);
  const direct = b.conv(`${name}.convs.0`, cin, half, { kernel: 1, stride: 2 });
  const shifted = b.shiftedConv(`${name}.convs.1`, cin, cout - half);
  const normalise = b.batchNorm(`${name}.bn`, cout);
  return (x) => {
    const activated = b.relu(x);
    return normalise(b.concat([direct(activated), shifted(activated)]));
  };
}

function mixedOpCandidates(b: NetworkBuilder, name: string, channels: number, stride: number): Module[] {
  return DARTS_OPS.map((op, opIndex): Module => {
    const prefix = `${name}._ops.${opIndex}`;
    switch (op) {
      case 'none':
        return (x) => b.zero(x, stride);
      case 'skip_connect':
        return stride === 1 ? (x) => x : factorizedReduce(b, prefix, channels, channels);
      case 'sep_conv_3x3':
        return dualSepConv(b, prefix, channels, 3, stride, 1);
      case 'sep_conv_5x5':
        return dualSepConv(b, prefix, channels, 5, stride, 2);
      case 'dil_conv_3x3':
        return sepConv(b, prefix, channels, 3, stride, 2, 2);
      case 'dil_conv_5x5':
        return sepConv(b, prefix, channels, 5, stride, 4, 2);
      case 'avg_pool_3x3':
        return (x) => b.avgPool(x, 3, stride, 1);
      case 'max_pool_3x3':
        return (x) => b.maxPool(x, 3, stride, 1);
    }
  });
}

interface CellShape {
  /** Channels of s0 and s1. */
  prevPrevChannels: number;
  prevChannels: number;
  /** Channels of each intermediate node (the cell outputs 4×). */
  channels: number;
  reduction: boolean;
  reductionPrev: boolean;
}

/** `NASNetSearchCell`: preprocess both inputs, 4 nodes over the 14 edges, concat the nodes. */
function searchCell(b: NetworkBuilder, name: string, shape: CellShape, mask: DartsCellMask): Cell {
  const { prevPrevChannels, prevChannels, channels, reduction, reductionPrev } = shape;
  const preprocess0 = reductionPrev
    ? factorizedReduce(b, `${name}.preprocess0`, prevPrevChannels, channels)
    : reluConvBn(b, `${name}.preprocess0`, prevPrevChannels, channels, { kernel: 1 });
  const preprocess1 = reluConvBn(b, `${name}.preprocess1`, prevChannels, channels, { kernel: 1 });
  const edgeOps = DARTS_EDGES.map((edge) => {
    const stride = reduction && edge.from < 2 ? 2 : 1;
    return mixedOpCandidates(b, `${name}.edges.${edge.key}`, channels, stride);
  });

  return (s0, s1) => {
    const states: LayerId[] = [preprocess0(s0), preprocess1(s1)];
    DARTS_EDGE_GROUPS.forEach(([start, end], node) => {
      // Nested sums mirror PyTorch's float order: node = Σ_edges (Σ_alive w·op(x)).
      const edgeOutputs: SumTerm[] = [];
      for (const edge of DARTS_EDGES.slice(start, end)) {
        const alive = mask[edge.index];
        const aliveCount = alive.filter(Boolean).length;
        if (aliveCount === 0) continue;
        const weight = Math.fround(1 / aliveCount);
        const terms: SumTerm[] = [];
        alive.forEach((isAlive, opIndex) => {
          if (isAlive) terms.push({ input: edgeOps[edge.index][opIndex](states[edge.from]), scale: weight });
        });
        edgeOutputs.push({ input: b.sum(terms), scale: 1 });
      }
      if (edgeOutputs.length === 0) throw new Error(`node ${node} of ${name} has no live edge`);
      states.push(b.sum(edgeOutputs));
    });
    return b.concat(states.slice(2));
  };
}

/** Cells of the depth-2 search network: normal (C) then reduction (2C), with their channel flow. */
function buildCells(b: NetworkBuilder, stemChannels: number, channels: number, mask: DartsMask): Cell[] {
  const multiplier = DARTS_EDGE_GROUPS.length;
  const layout = [
    { channels, reduction: false },
    { channels: 2 * channels, reduction: true },
  ];
  let prevPrevChannels = stemChannels;
  let prevChannels = stemChannels;
  let reductionPrev = false;
  return layout.map(({ channels: cellChannels, reduction }, index) => {
    const cell = searchCell(
      b,
      `cells.${index}`,
      { prevPrevChannels, prevChannels, channels: cellChannels, reduction, reductionPrev },
      reduction ? mask.reduce : mask.normal,
    );
    prevPrevChannels = prevChannels;
    prevChannels = multiplier * cellChannels;
    reductionPrev = reduction;
    return cell;
  });
}

function registerArchParameters(b: NetworkBuilder): void {
  b.param('arch_normal_parameters', [DARTS_EDGES.length, DARTS_OPS.length], 'arch');
  b.param('arch_reduce_parameters', [DARTS_EDGES.length, DARTS_OPS.length], 'arch');
}

const BASE_CHANNELS = 1;
const OUTPUT_CHANNELS = 2 * BASE_CHANNELS * DARTS_EDGE_GROUPS.length;

/** The NTK supernet (C = 1): stem, normal cell, reduction cell, BN+ReLU, GAP, linear(8 → classes). */
export function dartsNtkNetwork({ mask, classes, inputSize = 32 }: DartsNetworkOptions): Network {
  assertDartsMask(mask);
  const b = new NetworkBuilder();
  registerArchParameters(b);
  const stemConv = b.conv('stem.0', 3, BASE_CHANNELS, { kernel: 3, padding: 1 });
  const stemNorm = b.batchNorm('stem.1', BASE_CHANNELS);
  const cells = buildCells(b, BASE_CHANNELS, BASE_CHANNELS, mask);
  const lastNorm = b.batchNorm('lastact.0', OUTPUT_CHANNELS);
  const classifier = b.linear('classifier', OUTPUT_CHANNELS, classes);

  let s1 = stemNorm(stemConv(b.input({ channels: 3, height: inputSize, width: inputSize })));
  let s0 = s1;
  for (const cell of cells) [s0, s1] = [s1, cell(s0, s1)];
  classifier(b.globalAvgPool(b.relu(lastNorm(s1))));
  return b.build('darts/ntk', classes);
}

/** The linear-region ("thin") net: the same cells on a 1×3×3 input fed as both s0 and s1; its stem exists but never runs. */
export function dartsThinNetwork({ mask, classes }: Omit<DartsNetworkOptions, 'inputSize'>): Network {
  assertDartsMask(mask);
  const b = new NetworkBuilder();
  registerArchParameters(b);
  b.conv('stem.0', 1, BASE_CHANNELS, { kernel: 3, padding: 1 });
  b.batchNorm('stem.1', BASE_CHANNELS);
  const cells = buildCells(b, 1, BASE_CHANNELS, mask);
  const lastNorm = b.batchNorm('lastact.0', OUTPUT_CHANNELS);
  const classifier = b.linear('classifier', OUTPUT_CHANNELS, classes);

  let s1 = b.input({ channels: 1, height: 3, width: 3 });
  let s0 = s1;
  for (const cell of cells) [s0, s1] = [s1, cell(s0, s1)];
  classifier(b.globalAvgPool(b.relu(lastNorm(s1))));
  return b.build('darts/thin', classes);
}
