import type { Layer, LayerId, NamedFeature, Network, ParamId, ParamRole, ParamSpec, SumTerm, TensorShape } from './ir.js';

/**
 * A module, as in PyTorch: constructing it registers its parameters (in `named_parameters()` order,
 * whether or not it will run); applying it emits its layers. Search spaces build their supernets
 * from these, so parameter names and order follow the reference modules while dead ops emit nothing.
 */
export type Module = (input: LayerId) => LayerId;

export interface ConvOptions {
  kernel: number;
  stride?: number;
  padding?: number;
  dilation?: number;
  groups?: number;
  /** Shifts every tap by this many input pixels (output size unchanged); FactorizedReduce uses 1. */
  tapOffset?: number;
}

export function convOutputSize(size: number, kernel: number, stride: number, padding: number, dilation: number): number {
  return Math.floor((size + 2 * padding - dilation * (kernel - 1) - 1) / stride) + 1;
}

export class NetworkBuilder {
  private readonly layers: Layer[] = [];
  private readonly params: ParamSpec[] = [];
  private readonly features: NamedFeature[] = [];

  param(name: string, shape: number[], role: ParamRole): ParamId {
    this.params.push({ name, shape, role, size: shape.reduce((a, b) => a * b, 1) });
    return this.params.length - 1;
  }

  shape(id: LayerId): TensorShape {
    return this.layers[id].shape;
  }

  input(shape: TensorShape): LayerId {
    return this.push({ kind: 'input', shape });
  }

  /** Conv2d without bias; `name` is the module path, e.g. `stem.0`. */
  conv(name: string, inChannels: number, outChannels: number, options: ConvOptions): Module {
    const { kernel, stride = 1, padding = 0, dilation = 1, groups = 1, tapOffset = 0 } = options;
    const weight = this.param(`${name}.weight`, [outChannels, inChannels / groups, kernel, kernel], 'conv');
    return (input) => {
      const { height, width } = this.shape(input);
      return this.push({
        kind: 'conv',
        input,
        weight,
        kernel,
        stride,
        padding: padding - tapOffset,
        dilation,
        groups,
        shape: {
          channels: outChannels,
          height: convOutputSize(height, kernel, stride, padding, dilation),
          width: convOutputSize(width, kernel, stride, padding, dilation),
        },
      });
    };
  }

  /**
   * The second branch of FactorizedReduce: a 1×1 stride-2 conv over the input shifted by one pixel
   * (zero-padded at the bottom/right, first row and column dropped), i.e. taps at 2·o + 1.
   */
  shiftedConv(name: string, inChannels: number, outChannels: number): Module {
    return this.conv(name, inChannels, outChannels, { kernel: 1, stride: 2, tapOffset: 1 });
  }

  batchNorm(name: string, channels: number): Module {
    const gamma = this.param(`${name}.weight`, [channels], 'bn-weight');
    const beta = this.param(`${name}.bias`, [channels], 'bn-bias');
    return (input) => this.push({ kind: 'batchnorm', input, gamma, beta, shape: this.shape(input) });
  }

  linear(name: string, inFeatures: number, outFeatures: number): Module {
    const weight = this.param(`${name}.weight`, [outFeatures, inFeatures], 'linear-weight');
    const bias = this.param(`${name}.bias`, [outFeatures], 'linear-bias');
    return (input) => this.push({ kind: 'linear', input, weight, bias, shape: { channels: outFeatures, height: 1, width: 1 } });
  }

  /** `opensReluModule`: the first layer of a `ReLUConvBN`-like module (see the IR). */
  relu(input: LayerId, opensReluModule = false): LayerId {
    return this.push({ kind: 'relu', input, shape: this.shape(input), ...(opensReluModule ? { opensReluModule } : {}) });
  }

  avgPool(input: LayerId, kernel: number, stride: number, padding: number): LayerId {
    return this.push({ kind: 'avgpool', input, kernel, stride, padding, shape: this.pooledShape(input, kernel, stride, padding) });
  }

  maxPool(input: LayerId, kernel: number, stride: number, padding: number): LayerId {
    return this.push({ kind: 'maxpool', input, kernel, stride, padding, shape: this.pooledShape(input, kernel, stride, padding) });
  }

  zero(input: LayerId, stride: number): LayerId {
    const { channels, height, width } = this.shape(input);
    const shape = { channels, height: Math.ceil(height / stride), width: Math.ceil(width / stride) };
    return this.push({ kind: 'zero', input, shape });
  }

  sum(terms: SumTerm[]): LayerId {
    if (terms.length === 1 && terms[0].scale === 1) return terms[0].input;
    return this.push({ kind: 'sum', terms, shape: this.shape(terms[0].input) });
  }

  concat(inputs: LayerId[]): LayerId {
    const first = this.shape(inputs[0]);
    const channels = inputs.reduce((total, id) => total + this.shape(id).channels, 0);
    return this.push({ kind: 'concat', inputs, shape: { channels, height: first.height, width: first.width } });
  }

  globalAvgPool(input: LayerId): LayerId {
    return this.push({ kind: 'gap', input, shape: { channels: this.shape(input).channels, height: 1, width: 1 } });
  }

  /** Names a module's output (see `Network.features`); returns the layer for chaining. */
  feature(name: string, layer: LayerId): LayerId {
    this.features.push({ name, layer });
    return layer;
  }

  build(label: string, classes: number): Network {
    const inputLayer = this.layers[0];
    if (inputLayer?.kind !== 'input') throw new Error('a network must start with its input layer');
    const features = this.features.length > 0 ? { features: this.features } : {};
    return { label, layers: this.layers, params: this.params, input: inputLayer.shape, classes, ...features };
  }

  private pooledShape(input: LayerId, kernel: number, stride: number, padding: number): TensorShape {
    const { channels, height, width } = this.shape(input);
    return {
      channels,
      height: convOutputSize(height, kernel, stride, padding, 1),
      width: convOutputSize(width, kernel, stride, padding, 1),
    };
  }

  private push(layer: Layer): LayerId {
    this.layers.push(layer);
    return this.layers.length - 1;
  }
}

/** ReLU → Conv → BN, the op of NAS-Bench-201 (`op.1` conv, `op.2` BN). */
export function reluConvBn(b: NetworkBuilder, name: string, cin: number, cout: number, conv: ConvOptions): Module {
  const convolve = b.conv(`${name}.op.1`, cin, cout, conv);
  const normalise = b.batchNorm(`${name}.op.2`, cout);
  return (input) => normalise(convolve(b.relu(input, true)));
}
