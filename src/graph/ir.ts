/**
 * The network description every backend executes: a topologically ordered list of layers over
 * per-sample tensors (NCHW, float32), plus the full parameter table of the PyTorch module it
 * mirrors. Builders (one per search space) produce it; backends never see a search space.
 */

export interface TensorShape {
  readonly channels: number;
  readonly height: number;
  readonly width: number;
}

export type LayerId = number;
export type ParamId = number;

export type ParamRole = 'conv' | 'bn-weight' | 'bn-bias' | 'linear-weight' | 'linear-bias' | 'arch';

export interface ParamSpec {
  /** PyTorch `named_parameters()` name, e.g. `cells.0.edges.1<-0.3.op.1.weight`. */
  readonly name: string;
  readonly shape: readonly number[];
  readonly role: ParamRole;
  readonly size: number;
}

interface LayerBase {
  readonly shape: TensorShape;
}

/** Weighted sum of tensors of equal shape: Σ scale·input (a cell node over its alive ops). */
export interface SumTerm {
  readonly input: LayerId;
  readonly scale: number;
}

/**
 * `padding` is the offset of the first tap (input row = out·stride − padding + k·dilation); it may
 * be negative, which is how FactorizedReduce's shifted branch is expressed. Taps outside the input
 * read zero. The output size is carried explicitly in `shape`.
 */
export interface ConvLayer extends LayerBase {
  readonly kind: 'conv';
  readonly input: LayerId;
  readonly weight: ParamId;
  readonly kernel: number;
  readonly stride: number;
  readonly padding: number;
  readonly dilation: number;
  readonly groups: number;
}

export type Layer =
  | (LayerBase & { readonly kind: 'input' })
  | ConvLayer
  | (LayerBase & { readonly kind: 'batchnorm'; readonly input: LayerId; readonly gamma: ParamId; readonly beta: ParamId })
  | (LayerBase & {
      readonly kind: 'relu';
      readonly input: LayerId;
      /**
       * The ReLU opens a module whose PyTorch class name contains `ReLU` (`ReLUConvBN`), so a hook
       * chosen by class name (NASWOT's) sees its input twice: once for the module, once for the ReLU.
       */
      readonly opensReluModule?: boolean;
    })
  | (LayerBase & {
      readonly kind: 'avgpool';
      readonly input: LayerId;
      readonly kernel: number;
      readonly stride: number;
      readonly padding: number;
    })
  | (LayerBase & {
      readonly kind: 'maxpool';
      readonly input: LayerId;
      readonly kernel: number;
      readonly stride: number;
      readonly padding: number;
    })
  | (LayerBase & { readonly kind: 'sum'; readonly terms: readonly SumTerm[] })
  /** `x * 0` (strided when the edge reduces): zero output that keeps its input in the graph. */
  | (LayerBase & { readonly kind: 'zero'; readonly input: LayerId })
  | (LayerBase & { readonly kind: 'concat'; readonly inputs: readonly LayerId[] })
  | (LayerBase & { readonly kind: 'gap'; readonly input: LayerId })
  | (LayerBase & { readonly kind: 'linear'; readonly input: LayerId; readonly weight: ParamId; readonly bias: ParamId });

export type LayerKind = Layer['kind'];

export interface Network {
  /** Human-readable identity, e.g. `nb201/ntk`. */
  readonly label: string;
  readonly layers: readonly Layer[];
  /** Every parameter of the module, executed or not, in PyTorch order. */
  readonly params: readonly ParamSpec[];
  readonly input: TensorShape;
  readonly classes: number;
  /**
   * Named module outputs in execution order (the stem, then every cell or block), for indicators
   * that read feature maps or take a gradient through one block (AZ-NAS).
   */
  readonly features?: readonly NamedFeature[];
}

export interface NamedFeature {
  /** The module's name, e.g. `stem` or `cells.3`. */
  readonly name: string;
  readonly layer: LayerId;
}

export function tensorSize(shape: TensorShape): number {
  return shape.channels * shape.height * shape.width;
}

export type LayerOf<K extends LayerKind> = Extract<Layer, { readonly kind: K }>;

/** What the graph needs to know of each layer kind: the layers it reads and the parameters it owns. */
interface LayerWiring<L extends Layer> {
  inputs(layer: L): LayerId[];
  params(layer: L): ParamId[];
}

const single = { inputs: (layer: { input: LayerId }) => [layer.input], params: () => [] };

/** One entry per layer kind (a missing kind does not compile). */
const LAYER_WIRING: { readonly [K in LayerKind]: LayerWiring<LayerOf<K>> } = {
  input: { inputs: () => [], params: () => [] },
  conv: { inputs: (layer) => [layer.input], params: (layer) => [layer.weight] },
  batchnorm: { inputs: (layer) => [layer.input], params: (layer) => [layer.gamma, layer.beta] },
  relu: single,
  avgpool: single,
  maxpool: single,
  sum: { inputs: (layer) => layer.terms.map((term) => term.input), params: () => [] },
  zero: single,
  concat: { inputs: (layer) => [...layer.inputs], params: () => [] },
  gap: single,
  linear: { inputs: (layer) => [layer.input], params: (layer) => [layer.weight, layer.bias] },
};

export function layerInputs(layer: Layer): LayerId[] {
  return (LAYER_WIRING[layer.kind] as LayerWiring<Layer>).inputs(layer);
}

export function layerParams(layer: Layer): ParamId[] {
  return (LAYER_WIRING[layer.kind] as LayerWiring<Layer>).params(layer);
}

/**
 * The network with every BatchNorm replaced by the identity (a one-term sum), for measures taken
 * "with BN removed"; the BN parameters stay in the table but no longer receive gradients.
 */
export function withoutBatchNorm(network: Network): Network {
  if (!network.layers.some((layer) => layer.kind === 'batchnorm')) return network;
  const layers = network.layers.map((layer): Layer => (layer.kind === 'batchnorm' ? { kind: 'sum', shape: layer.shape, terms: [{ input: layer.input, scale: 1 }] } : layer));
  return { ...network, label: `${network.label} (BN removed)`, layers };
}

/** Layers from which the output is reachable (through `zero` layers too, as in autograd). */
export function layersReachingOutput(network: Network): boolean[] {
  const reaches = new Array<boolean>(network.layers.length).fill(false);
  reaches[network.layers.length - 1] = true;
  for (let id = network.layers.length - 1; id >= 0; id--) {
    if (!reaches[id]) continue;
    for (const input of layerInputs(network.layers[id])) reaches[input] = true;
  }
  return reaches;
}

export interface GradientColumn {
  readonly param: ParamId;
  readonly offset: number;
}

/**
 * The columns of the NTK gradient matrix G: every parameter whose name contains `weight` and that
 * receives a gradient (its layer is executed and reaches the logits), in parameter order.
 */
export function ntkColumns(network: Network): { columns: GradientColumn[]; dimension: number } {
  const reaches = layersReachingOutput(network);
  const used = new Set<ParamId>();
  network.layers.forEach((layer, id) => {
    if (reaches[id]) for (const param of layerParams(layer)) used.add(param);
  });
  const columns: GradientColumn[] = [];
  let offset = 0;
  network.params.forEach((spec, param) => {
    if (!used.has(param) || !spec.name.includes('weight')) return;
    columns.push({ param, offset });
    offset += spec.size;
  });
  return { columns, dimension: offset };
}
