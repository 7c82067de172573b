import { gradientFlow, type GradientFlow } from '../../graph/gradient-flow.js';
import { layerInputs, ntkColumns, tensorSize, type ConvLayer, type Layer, type LayerId, type LayerOf, type Network } from '../../graph/ir.js';
import type { Weights } from '../../graph/weights.js';
import { cotangentCount, type Cotangents } from '../backend.js';
import { isAvgPool3, wasmLayer } from './layers.js';
import type { WasmKernels } from './module.js';
import { BN_GROUP_MEMBER, CONV_THROUGH_BN, POOL_BACKWARD } from './records.js';

/** Pointers of one layer's buffers in WebAssembly memory (0 = not allocated). */
export interface LayerBuffers {
  output: number;
  gradient: number;
  convPath: ConvPath;
  /** Conv (vector paths): each sample's input with a zero halo or in polyphase form, kept for the weight gradient. */
  padded: number;
  /** Conv (fast path): transposed and flipped weights for the input gradient. */
  transposedWeights: number;
  /** Conv (fast path, where winograd_fits): the transposed weights in the Winograd domain, for the input gradient. */
  winogradWeights: number;
  /** Conv (scalar path, see vectorisesOverOutputs): weights rearranged for its forward pass (pack_output_channels). */
  packedWeights: number;
  /** Conv read through BN (BackwardPlan.convThroughBn): its ConvThroughBn record (assembly/conv.ts). */
  throughBnRecord: number;
  /** Pool run inside a conv's backward (BackwardPlan.poolBeside): its PoolBackward record (assembly/conv.ts). */
  poolRecord: number;
  /** BatchNorm: x̂ and 1/σ. */
  normalised: number;
  inverseStd: number;
  /** BatchNorm whose input gradient its conv forms (BackwardPlan.convThroughBn): four floats per channel. */
  gradientCoefficients: number;
  /** Max pool: the input index of each output's maximum (i32 per output). */
  argmax: number;
}

type ConvPath = 'stride1' | 'stride2' | 'generic';

/**
 * Which kernels run a conv: the vectorised stride-1 and stride-2 (polyphase) paths need rows of a
 * multiple of 4; everything else (the 3×3 thin nets, odd sizes) takes the scalar path.
 */
function convPath(layer: ConvLayer, input: Layer['shape']): ConvPath {
  const vectorRows = layer.shape.width % 4 === 0 && input.width % 4 === 0;
  if (vectorRows && layer.stride === 1 && layer.padding >= 0 && (layer.kernel - 1) * layer.dilation >= layer.padding) return 'stride1';
  if (vectorRows && layer.stride === 2 && input.width === 2 * layer.shape.width) return 'stride2';
  return 'generic';
}

/** The scalar path's forward takes four outputs at a time: of one group, or four depthwise channels. */
function vectorisesOverOutputs(layer: ConvLayer, input: Layer['shape']): boolean {
  const depthwise = layer.groups === input.channels && layer.groups === layer.shape.channels;
  return depthwise ? layer.groups >= 4 : layer.shape.channels / layer.groups >= 4;
}

/** Floats per sample of a conv's stored input: zero halo (stride 1) or polyphase (stride 2). */
function storedInputFloats(layer: ConvLayer, input: Layer['shape'], path: ConvPath): number {
  const span = (layer.kernel - 1) * layer.dilation;
  if (path === 'stride1') return input.channels * (layer.shape.height + span) * (layer.shape.width + span);
  if (path === 'stride2') return input.channels * 2 * (2 * (layer.shape.height - 1) + span + 1) * (layer.shape.width + Math.floor(span / 2));
  return 0;
}

/** Floats of the per-sample scratch its input-gradient kernel needs. */
function inputGradientScratchFloats(layer: ConvLayer, input: Layer['shape'], path: ConvPath): number {
  const span = (layer.kernel - 1) * layer.dilation;
  if (path === 'stride1') return layer.shape.channels * (input.height + span) * (input.width + span);
  if (path === 'stride2') {
    const halo = ((layer.kernel - 1) * layer.dilation + layer.padding + 1) >> 1; // stride2_gradient_halo in assembly/conv.ts
    return layer.shape.channels * layer.shape.height * (layer.shape.width + 2 * halo);
  }
  return 0;
}

/**
 * Fusions that save a pass over the batch per cotangent: a ReLU read only by a stride-1 conv is
 * folded into that conv's input gradient (masked by the ReLU output); a BN or 3×3 average pool
 * read only by a weighted sum reads the sum's gradient, scaled, instead of a copy of its own; such a
 * pool also adds the sum's identity term over the same input (a skip connection beside the pool);
 * a stride-1 conv read only by a BN forms the BN's input gradient sample by sample as it needs it;
 * the BNs read through one sum find their coefficients in one call; and two such convs of the same
 * input and sum, with a pool beside them, run sample by sample in one call; and the 3×3 pools reading
 * one sum find its box sums once. Each moves work only where every gradient value still gets the
 * same terms in the same order, so none changes a bit.
 */
export interface BackwardPlan {
  readonly flow: GradientFlow;
  /** conv id → the ReLU it reads and folds. */
  readonly foldedRelu: Map<LayerId, LayerId>;
  /** conv id → the BN that reads it, whose backward leaves the conv to form the BN's input gradient. */
  readonly convThroughBn: Map<LayerId, LayerId>;
  /** layer id → the sum whose gradient it reads, and the term's scale. */
  readonly alias: Map<LayerId, { sum: LayerId; scale: number }>;
  /** aliased 3×3 average pool id → the identity term it adds: the sum's term over the pool's input. */
  readonly skipInPool: Map<LayerId, SkipTerm>;
  /** sum id → the inputs of its identity terms that a pool adds (skipInPool). */
  readonly skipsInPools: Map<LayerId, Set<LayerId>>;
  /**
   * The BN of each group that runs first → the group's BNs (itself first): the convThroughBn BNs
   * read through the same sum, whose coefficients it finds in one call; a BN read through no sum
   * is a group of its own. The others find theirs done.
   */
  readonly coefficientGroups: Map<LayerId, readonly LayerId[]>;
  /**
   * conv id → a lower conv it runs with, sample by sample (conv_backward_through_bn): both read
   * through BN and fold a ReLU of the same input, their BNs read the same sum and have their
   * coefficients before the first runs, and nothing run between them writes that input's gradient.
   */
  readonly convPartner: Map<LayerId, LayerId>;
  /** The convs that run with a higher one (convPartner's values). */
  readonly partnered: Set<LayerId>;
  /**
   * conv id (not partnered) → an aliased 3×3 pool above it that runs inside its backward, sample by
   * sample before it: the pool reads the same input and sum, and nothing run between them writes
   * the input's gradient.
   */
  readonly poolBeside: Map<LayerId, LayerId>;
  /** The pools that run inside a conv's backward (poolBeside's values). */
  readonly poolsInConvs: Set<LayerId>;
  /**
   * Aliased 3×3 pools of a sum read by two or more: the box sums of the sum's gradient (before each
   * pool's scale) do not depend on the pool, so the first to run keeps them in buffer `slot` and the
   * others reuse them.
   */
  readonly sharedBoxSums: Map<LayerId, { reuse: boolean; slot: number }>;
  /** Floats per sample of each box-sum buffer: sums whose pools run at disjoint times share one. */
  readonly boxSumSlots: readonly number[];
}

export interface SkipTerm {
  readonly sum: LayerId;
  readonly input: LayerId;
  readonly scale: number;
}

/** Layers in `captured` keep a gradient buffer of their own (no fusion), so it can be read back. */
function planBackward(network: Network, paths: ConvPath[], flow: GradientFlow, captured: ReadonlySet<LayerId>): BackwardPlan {
  const consumers = network.layers.map(() => [] as LayerId[]);
  network.layers.forEach((layer, id) => layerInputs(layer).forEach((input) => consumers[input].push(id)));
  const foldedRelu = new Map<LayerId, LayerId>();
  const convThroughBn = new Map<LayerId, LayerId>();
  const alias = new Map<LayerId, { sum: LayerId; scale: number }>();
  network.layers.forEach((layer, id) => {
    if (layer.kind === 'conv' && paths[id] === 'stride1') {
      const input = network.layers[layer.input];
      if (input.kind === 'relu' && consumers[layer.input].length === 1 && !captured.has(layer.input)) foldedRelu.set(id, layer.input);
    }
    if (layer.kind === 'batchnorm' && paths[layer.input] === 'stride1' && consumers[layer.input].length === 1 && !captured.has(layer.input)) {
      convThroughBn.set(layer.input, id);
    }
    const readers = consumers[id];
    const reader = network.layers[readers[0]];
    const scalable = layer.kind === 'batchnorm' || (layer.kind === 'avgpool' && isAvgPool3(layer, network.layers[layer.input].shape));
    if (scalable && readers.length === 1 && reader.kind === 'sum' && !captured.has(id)) {
      const terms = reader.terms.filter((term) => term.input === id);
      if (terms.length === 1) alias.set(id, { sum: readers[0], scale: terms[0].scale });
    }
  });
  const folded = new Set(foldedRelu.values());
  const writesGradientOf = (id: LayerId, input: LayerId): boolean => {
    if (!flow.carries[id] || folded.has(id)) return false;
    const relu = foldedRelu.get(id);
    return layerInputs(network.layers[id]).includes(input) || (relu !== undefined && layerInputs(network.layers[relu]).includes(input));
  };
  const writtenBetween = (low: LayerId, high: LayerId, input: LayerId): boolean => {
    for (let id = low + 1; id < high; id++) if (writesGradientOf(id, input)) return true;
    return false;
  };
  const skipInPool = poolsWithSkips(network, flow, alias, writtenBetween);
  const skipsInPools = new Map<LayerId, Set<LayerId>>();
  for (const { sum, input } of skipInPool.values()) skipsInPools.set(sum, (skipsInPools.get(sum) ?? new Set()).add(input));
  const groups = coefficientGroups(convThroughBn, alias);
  const convPartner = convPartners(network, { foldedRelu, convThroughBn, alias, coefficientGroups: groups }, writtenBetween);
  const partnered = new Set(convPartner.values());
  const poolBeside = poolsBesideConvs(network, flow, { foldedRelu, convThroughBn, alias, partnered }, writtenBetween);
  const { shared: sharedBoxSums, slots: boxSumSlots } = poolsSharingBoxSums(network, flow, alias, poolBeside);
  return {
    flow, foldedRelu, convThroughBn, alias, skipInPool, skipsInPools, coefficientGroups: groups, convPartner, partnered, poolBeside,
    poolsInConvs: new Set(poolBeside.values()), sharedBoxSums, boxSumSlots,
  };
}

/**
 * BackwardPlan.sharedBoxSums and boxSumSlots. Backward runs from the highest id down, a pool inside a
 * conv's backward at the conv's place; every writer of a sum's gradient runs before anything below
 * the sum, so the gradient the pools read does not change between the first and the last. A sum's
 * box sums are needed from its first pool to its last; a later sum takes the buffer of one whose
 * last pool has run (the largest size it is given), so an NB201 network needs one buffer, not two
 * per cell.
 */
function poolsSharingBoxSums(
  network: Network,
  flow: GradientFlow,
  alias: BackwardPlan['alias'],
  poolBeside: BackwardPlan['poolBeside'],
): { shared: BackwardPlan['sharedBoxSums']; slots: number[] } {
  const runsAt = new Map<LayerId, LayerId>();
  poolBeside.forEach((pool, conv) => runsAt.set(pool, conv));
  const position = (pool: LayerId): LayerId => runsAt.get(pool) ?? pool;
  const poolsOfSum = new Map<LayerId, LayerId[]>();
  alias.forEach(({ sum }, pool) => {
    const layer = network.layers[pool];
    if (layer.kind === 'avgpool' && flow.carries[pool] && flow.carries[layer.input]) poolsOfSum.set(sum, [...(poolsOfSum.get(sum) ?? []), pool]);
  });
  const inRunOrder = [...poolsOfSum.entries()]
    .filter(([, pools]) => pools.length > 1)
    .map(([sum, pools]) => ({ sum, pools: pools.sort((a, b) => position(b) - position(a)) }))
    .sort((a, b) => position(b.pools[0]) - position(a.pools[0]));
  const shared: BackwardPlan['sharedBoxSums'] = new Map();
  // Per buffer: floats per sample, and the run position of its last user's last pool.
  const buffers: { floats: number; freeBelow: LayerId }[] = [];
  for (const { sum, pools } of inRunOrder) {
    const first = position(pools[0]);
    let slot = buffers.findIndex((buffer) => first < buffer.freeBelow);
    if (slot < 0) slot = buffers.push({ floats: 0, freeBelow: 0 }) - 1;
    buffers[slot] = { floats: Math.max(buffers[slot].floats, tensorSize(network.layers[sum].shape)), freeBelow: position(pools[pools.length - 1]) };
    pools.forEach((pool, i) => shared.set(pool, { reuse: i > 0, slot }));
  }
  return { shared, slots: buffers.map((buffer) => buffer.floats) };
}

/** Whether a layer run strictly between `low` and `high` (backward runs from high to low) writes `input`'s gradient. */
type WrittenBetween = (low: LayerId, high: LayerId, input: LayerId) => boolean;

/** Gives each aliased 3×3 pool to the highest conv below it that may run it (BackwardPlan.poolBeside). */
function poolsBesideConvs(
  network: Network,
  flow: GradientFlow,
  plan: Pick<BackwardPlan, 'foldedRelu' | 'convThroughBn' | 'alias' | 'partnered'>,
  writtenBetween: WrittenBetween,
): Map<LayerId, LayerId> {
  const convs = [...plan.convThroughBn.keys()].filter((id) => !plan.partnered.has(id)).sort((a, b) => b - a);
  const beside = new Map<LayerId, LayerId>();
  plan.alias.forEach(({ sum }, pool) => {
    const layer = network.layers[pool];
    if (layer.kind !== 'avgpool' || !flow.carries[pool] || !flow.carries[layer.input]) return;
    const conv = convs.find((id) => {
      const reads = readsThroughBn(network, plan, id);
      return id < pool && !beside.has(id) && reads?.input === layer.input && reads.sum === sum && !writtenBetween(id, pool, layer.input);
    });
    if (conv !== undefined) beside.set(conv, pool);
  });
  return beside;
}

/** For a conv read through BN that folds a ReLU, the ReLU's input and the sum its BN is read through (none otherwise). */
function readsThroughBn(network: Network, plan: Pick<BackwardPlan, 'foldedRelu' | 'convThroughBn' | 'alias'>, conv: LayerId): { input: LayerId; sum: LayerId; bn: LayerId } | undefined {
  const relu = plan.foldedRelu.get(conv);
  const bn = plan.convThroughBn.get(conv);
  const sum = bn === undefined ? undefined : plan.alias.get(bn)?.sum;
  if (relu === undefined || bn === undefined || sum === undefined) return undefined;
  return { input: (network.layers[relu] as LayerOf<'relu'>).input, sum, bn };
}

/** Pairs each conv read through BN with the highest lower one that may run beside it (BackwardPlan.convPartner). */
function convPartners(
  network: Network,
  plan: Pick<BackwardPlan, 'foldedRelu' | 'convThroughBn' | 'alias' | 'coefficientGroups'>,
  writtenBetween: WrittenBetween,
): Map<LayerId, LayerId> {
  const leaderOf = new Map<LayerId, LayerId>();
  plan.coefficientGroups.forEach((members, leader) => members.forEach((bn) => leaderOf.set(bn, leader)));
  const partners = new Map<LayerId, LayerId>();
  const taken = new Set<LayerId>();
  const convs = [...plan.convThroughBn.keys()].sort((a, b) => b - a);
  for (const first of convs) {
    const a = readsThroughBn(network, plan, first);
    if (a === undefined || taken.has(first)) continue;
    const second = convs.find((id) => {
      const b = readsThroughBn(network, plan, id);
      return id < first && !taken.has(id) && b !== undefined && b.input === a.input && b.sum === a.sum && leaderOf.get(b.bn)! > first && !writtenBetween(id, first, a.input);
    });
    if (second === undefined) continue;
    partners.set(first, second);
    taken.add(first).add(second);
  }
  return partners;
}

function coefficientGroups(convThroughBn: BackwardPlan['convThroughBn'], alias: BackwardPlan['alias']): Map<LayerId, readonly LayerId[]> {
  const bySum = new Map<LayerId, LayerId[]>();
  const groups = new Map<LayerId, readonly LayerId[]>();
  for (const bn of [...convThroughBn.values()].sort((a, b) => b - a)) {
    const sum = alias.get(bn)?.sum;
    const group = sum === undefined ? undefined : bySum.get(sum);
    if (group) {
      group.push(bn);
    } else {
      const members = [bn];
      if (sum !== undefined) bySum.set(sum, members);
      groups.set(bn, members);
    }
  }
  return groups;
}

/**
 * The aliased 3×3 pools whose sum also has exactly one identity term over the pool's input X, where
 * nothing run between the sum and the pool writes X's gradient: moving the identity term's add into
 * the pool's pass then keeps the order of X's additions, and so its bits.
 */
function poolsWithSkips(network: Network, flow: GradientFlow, alias: BackwardPlan['alias'], writtenBetween: WrittenBetween): Map<LayerId, SkipTerm> {
  const fused = new Map<LayerId, SkipTerm>();
  alias.forEach(({ sum }, pool) => {
    const layer = network.layers[pool];
    const sumLayer = network.layers[sum];
    if (layer.kind !== 'avgpool' || sumLayer.kind !== 'sum') return;
    const input = layer.input;
    const skips = sumLayer.terms.filter((term) => term.input === input);
    if (skips.length !== 1 || !flow.carries[input] || alias.has(input)) return;
    if (writtenBetween(pool, sum, input)) return;
    fused.set(pool, { sum, input, scale: skips[0].scale });
  });
  return fused;
}

/** What a layer's backward sees: its output gradient and where its input and weight gradients go. */
export interface BackwardStep {
  readonly plan: BackwardPlan;
  /** Pointer to the output gradient (a sum's, when the layer reads it scaled). */
  readonly dy: number;
  readonly dyScale: number;
  /** Pointer to another layer's output gradient, as its own step's `dy`. */
  outputGradient(id: LayerId): number;
  /** Whether the gradient flowing into `input` adds to what an earlier consumer wrote. */
  accumulate(input: LayerId): boolean;
  accumulateFrom(consumer: LayerId, input: LayerId): boolean;
  wants(input: LayerId): boolean;
  /** Pointer into the cotangent's row of G for a parameter, 0 when it is not a gradient column. */
  weightGradient(param: number): number;
  /** Pointer to the cotangent's row of G. */
  readonly row: number;
}

/**
 * Runs one network description on the WebAssembly kernels: a forward pass over a batch and one
 * backward pass per cotangent through the full batch, with each weight gradient written straight
 * into the cotangent's row of G. Each layer kind's kernels are in `layers.ts`.
 */
export class WasmNetworkExecution {
  readonly buffers: LayerBuffers[];
  readonly weightPointers: number[];
  scratch = 0;
  /** Scratch and float64 totals of a conv that runs beside a higher one (BackwardPlan.convPartner). */
  partnerScratch = 0;
  partnerTotals = 0;
  /** BN id → the records of its coefficient group (bn_gradient_coefficients in assembly/batchnorm.ts). */
  readonly coefficientTables = new Map<LayerId, number>();
  /** Float64 per-weight totals of the vector paths' weight-gradient kernels (the largest such conv). */
  weightTotals = 0;
  /** The box-sum buffers of BackwardPlan.boxSumSlots (floats per sample each). */
  readonly boxSums: { pointer: number; floats: number }[] = [];

  constructor(
    private readonly kernels: WasmKernels,
    readonly network: Network,
    weights: Weights,
    readonly batch: number,
  ) {
    this.weightPointers = weights.map((tensor) => kernels.upload(tensor));
    this.buffers = network.layers.map((layer) => ({
      output: kernels.allocF32(batch * tensorSize(layer.shape)),
      gradient: 0,
      convPath: 'generic' as ConvPath,
      padded: 0,
      transposedWeights: 0,
      winogradWeights: 0,
      packedWeights: 0,
      throughBnRecord: 0,
      poolRecord: 0,
      normalised: layer.kind === 'batchnorm' ? kernels.allocF32(batch * tensorSize(layer.shape)) : 0,
      inverseStd: layer.kind === 'batchnorm' ? kernels.allocF32(layer.shape.channels) : 0,
      gradientCoefficients: 0,
      argmax: layer.kind === 'maxpool' ? kernels.alloc(batch * tensorSize(layer.shape) * 4) : 0,
    }));
    network.layers.forEach((layer, id) => {
      if (layer.kind !== 'conv') return;
      const input = network.layers[layer.input].shape;
      const path = convPath(layer, input);
      this.buffers[id].convPath = path;
      // A 1×1 stride-1 conv keeps no copy: its input, as stored, is the input layer's output.
      if (path === 'stride1' && layer.kernel === 1) this.buffers[id].padded = this.buffers[layer.input].output;
      else if (path !== 'generic') this.buffers[id].padded = kernels.allocF32(batch * storedInputFloats(layer, input, path));
      else if (vectorisesOverOutputs(layer, input)) {
        const w = this.network.params[layer.weight];
        this.buffers[id].packedWeights = kernels.allocF32(w.size);
        kernels.exports.pack_output_channels(this.weightPointers[layer.weight], this.buffers[id].packedWeights, input.channels, layer.shape.channels, layer.kernel, layer.groups);
      }
    });
  }

  get k() {
    return this.kernels.exports;
  }

  /** Forward pass; returns a pointer to the output (logits) of the last layer. */
  forward(input: Float32Array): number {
    const first = this.buffers[0];
    this.kernels.f32(first.output, input.length).set(input);
    this.network.layers.forEach((layer, id) => wasmLayer(layer).forward(this, layer, id));
    return this.buffers[this.buffers.length - 1].output;
  }

  logits(): Float32Array {
    const last = this.network.layers[this.network.layers.length - 1];
    return this.kernels.f32(this.buffers[this.buffers.length - 1].output, this.batch * tensorSize(last.shape)).slice();
  }

  /** Pointer to a layer's output (batch × its size floats) after `forward`. */
  output(id: LayerId): number {
    return this.buffers[id].output;
  }

  /**
   * After `forward`: one backward pass per cotangent. Row k of G (count × dimension, float32) is
   * the gradient of ⟨cotangent k, logits⟩ over the gradient columns; with `withInputGradient`, also
   * ∂/∂input per cotangent (count × batch × input size); and the output gradient of each layer of
   * `captured` (count × batch × layer size each, copied out after every cotangent).
   */
  backward(
    cotangents: Cotangents,
    withInputGradient: boolean,
    captured: readonly LayerId[] = [],
  ): { rows: number; dimension: number; count: number; inputGradients: number; layerGradients: Float32Array[] } {
    const { columns, dimension } = ntkColumns(this.network);
    const flow = gradientFlow(this.network, { toInput: withInputGradient, toLayers: captured });
    const plan = planBackward(this.network, this.buffers.map((b) => b.convPath), flow, new Set(captured));
    const columnOffset = new Map(columns.map((column) => [column.param, column.offset]));
    const count = cotangentCount(cotangents, this.batch);
    const g = this.kernels.allocF32(count * dimension);
    this.k.fill_zero(g, count * dimension);
    const inputFloats = this.batch * tensorSize(this.network.input);
    const inputGradients = withInputGradient ? this.kernels.allocF32(count * inputFloats) : 0;
    if (inputGradients) this.k.fill_zero(inputGradients, count * inputFloats); // stays zero when no gradient reaches the input
    this.allocateBackward(plan);
    this.writeCoefficientTables(plan, columnOffset);

    const last = this.network.layers.length - 1;
    const outputFloats = this.batch * tensorSize(this.network.layers[last].shape);
    const accumulateFrom = (consumer: LayerId, input: LayerId): boolean => !flow.writes.get(consumer)?.has(input);
    const wants = (input: LayerId): boolean => flow.carries[input];
    const capturedFloats = captured.map((id) => this.batch * tensorSize(this.network.layers[id].shape));
    const layerGradients = capturedFloats.map((floats) => new Float32Array(count * floats));
    const outputGradient = (id: LayerId): number => {
      const aliased = plan.alias.get(id);
      return aliased ? this.buffers[aliased.sum].gradient : this.buffers[id].gradient;
    };
    for (let k = 0; k < count; k++) {
      const seed = this.kernels.f32(this.buffers[last].gradient, outputFloats);
      if (cotangents.kind === 'given') seed.set(cotangents.data.subarray(k * outputFloats, (k + 1) * outputFloats));
      else {
        const sampleFloats = outputFloats / this.batch;
        seed.fill(0);
        seed.fill(1, k * sampleFloats, (k + 1) * sampleFloats);
      }
      const row = g + k * dimension * 4;
      const weightGradient = (param: number): number => {
        const offset = columnOffset.get(param);
        return offset === undefined ? 0 : row + offset * 4;
      };
      for (let id = last; id >= 0; id--) {
        if (!flow.carries[id]) continue;
        const layer = this.network.layers[id];
        wasmLayer(layer).backward(this, layer, id, {
          plan,
          dy: outputGradient(id),
          dyScale: plan.alias.get(id)?.scale ?? 1,
          outputGradient,
          accumulate: (input) => accumulateFrom(id, input),
          accumulateFrom,
          wants,
          weightGradient,
          row,
        });
      }
      if (withInputGradient && flow.carries[0]) this.kernels.f32(inputGradients + k * inputFloats * 4, inputFloats).set(this.kernels.f32(this.buffers[0].gradient, inputFloats));
      captured.forEach((id, index) => {
        if (flow.carries[id]) layerGradients[index].set(this.kernels.f32(this.buffers[id].gradient, capturedFloats[index]), k * capturedFloats[index]);
      });
    }
    return { rows: g, dimension, count, inputGradients, layerGradients };
  }

  private allocateBackward(plan: BackwardPlan): void {
    let scratchFloats = 0;
    let totalsFloats = 0;
    let partnerScratchFloats = 0;
    let partnerTotalsFloats = 0;
    const folded = new Set(plan.foldedRelu.values());
    this.network.layers.forEach((layer, id) => {
      if (plan.poolsInConvs.has(id) && this.buffers[id].poolRecord === 0) this.buffers[id].poolRecord = this.kernels.alloc(POOL_BACKWARD.bytes);
      const ownsGradient = plan.flow.carries[id] && !folded.has(id) && !plan.alias.has(id) && !plan.convThroughBn.has(id);
      if (ownsGradient && this.buffers[id].gradient === 0) {
        this.buffers[id].gradient = this.kernels.allocF32(this.batch * tensorSize(layer.shape));
      }
      if (layer.kind === 'batchnorm' && this.buffers[id].gradientCoefficients === 0 && plan.convThroughBn.get(layer.input) === id) {
        this.buffers[id].gradientCoefficients = this.kernels.allocF32(4 * layer.shape.channels);
      }
      if (layer.kind !== 'conv' || this.buffers[id].convPath === 'generic') return;
      const input = this.network.layers[layer.input].shape;
      const w = this.network.params[layer.weight];
      const path = this.buffers[id].convPath;
      const { channels, height, width } = layer.shape;
      // Where it fits, the weight gradient sums in the Winograd domain: sixteen float64 totals per (o, c) pair, and a workspace.
      const winogradSums = path === 'stride1' && this.k.winograd_fits(input.channels, channels, height, width, layer.kernel, layer.dilation, layer.groups);
      const layerTotals = 2 * (winogradSums ? 16 * channels * input.channels : w.size);
      let layerScratch = inputGradientScratchFloats(layer, input, path);
      if (winogradSums) layerScratch += this.k.winograd_weight_workspace_floats(input.channels, channels, height, width);
      if (path === 'stride1') {
        const transposed = this.kernels.allocF32(w.size);
        this.k.transpose_flip_weights(this.weightPointers[layer.weight], transposed, input.channels, channels, layer.kernel, layer.groups);
        this.buffers[id].transposedWeights = transposed;
        // The input gradient correlates the output gradient (`channels` planes) into input.channels planes.
        if (this.k.winograd_fits(channels, input.channels, input.height, input.width, layer.kernel, layer.dilation, layer.groups)) {
          const transformed = this.kernels.allocF32(16 * channels * input.channels);
          this.k.winograd_weights(transposed, transformed, input.channels, channels);
          this.buffers[id].winogradWeights = transformed;
          layerScratch += this.k.winograd_workspace_floats(channels, input.channels, input.height, input.width);
        }
      }
      if (plan.convThroughBn.has(id) && this.buffers[id].throughBnRecord === 0) this.buffers[id].throughBnRecord = this.kernels.alloc(CONV_THROUGH_BN.bytes);
      if (plan.partnered.has(id)) {
        partnerScratchFloats = Math.max(partnerScratchFloats, layerScratch);
        partnerTotalsFloats = Math.max(partnerTotalsFloats, layerTotals);
      } else {
        scratchFloats = Math.max(scratchFloats, layerScratch);
        totalsFloats = Math.max(totalsFloats, layerTotals);
      }
    });
    if (this.scratch === 0 && scratchFloats > 0) this.scratch = this.kernels.allocF32(scratchFloats);
    if (this.weightTotals === 0 && totalsFloats > 0) this.weightTotals = this.kernels.allocF32(totalsFloats);
    if (this.partnerScratch === 0 && partnerScratchFloats > 0) this.partnerScratch = this.kernels.allocF32(partnerScratchFloats);
    if (this.partnerTotals === 0 && partnerTotalsFloats > 0) this.partnerTotals = this.kernels.allocF32(partnerTotalsFloats);
    plan.boxSumSlots.forEach((floats, slot) => {
      const held = this.boxSums[slot];
      if (held === undefined || held.floats < floats) this.boxSums[slot] = { pointer: this.kernels.allocF32(this.batch * floats), floats };
    });
  }

  /** Each group's BN_GROUP_MEMBER records, one after the other (the same for every cotangent: dγ is a column offset). */
  private writeCoefficientTables(plan: BackwardPlan, columnOffset: ReadonlyMap<number, number>): void {
    this.coefficientTables.clear();
    plan.coefficientGroups.forEach((members, leader) => {
      const table = this.kernels.alloc(BN_GROUP_MEMBER.bytes * members.length);
      members.forEach((bn, m) => {
        const layer = this.network.layers[bn] as LayerOf<'batchnorm'>;
        const b = this.buffers[bn];
        BN_GROUP_MEMBER.write(this.k.memory.buffer, table + BN_GROUP_MEMBER.bytes * m, {
          dyScale: plan.alias.get(bn)?.scale ?? 1,
          xhat: b.normalised,
          invstd: b.inverseStd,
          gamma: this.weightPointers[layer.gamma],
          coefficients: b.gradientCoefficients,
          dgammaOffset: columnOffset.get(layer.gamma) ?? -1,
        });
      });
      this.coefficientTables.set(leader, table);
    });
  }

  private scratchBySize = new Map<number, number>();

  /** A throw-away gradient buffer for a layer input that needs none (a BN or linear kernel writes one anyway). */
  scratchGradient(input: LayerId): number {
    const floats = this.batch * tensorSize(this.network.layers[input].shape);
    let pointer = this.scratchBySize.get(floats);
    if (pointer === undefined) {
      pointer = this.kernels.allocF32(floats);
      this.scratchBySize.set(floats, pointer);
    }
    return pointer;
  }
}
