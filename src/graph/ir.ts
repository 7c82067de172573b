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
  | (LayerBase & { readonly kind: 'relu'; readonly input: LayerId })
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
}

export function tensorSize(shape: TensorShape): number {
  return shape.channels * shape.height * shape.width;
}

export function layerInputs(layer: Layer): LayerId[] {
  switch (layer.kind) {
    case 'input':
      return [];
    case 'sum':
      return layer.terms.map((term) => term.input);
    case 'concat':
      return [...layer.inputs];
    default:
      return [layer.input];
  }
}

export function layerParams(layer: Layer): ParamId[] {
  switch (layer.kind) {
    case 'conv':
      return [layer.weight];
    case 'batchnorm':
      return [layer.gamma, layer.beta];
    case 'linear':
      return [layer.weight, layer.bias];
    default:
      return [];
  }
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
