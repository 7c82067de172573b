/// <reference types="@webgpu/types" />
import { tensorSize, type Layer, type LayerId, type LayerKind, type LayerOf } from '../../graph/ir.js';
import type { WebGpuNetworkExecution } from './executor.js';
import { floatBits, KERNELS } from './kernels.js';

/** What a layer's backward sees: a chunk of `cotangents` gradient fields (each over the batch). */
export interface GpuBackwardStep {
  /** The layer's output gradient: `cotangents × batch` samples. */
  readonly dy: GPUBuffer;
  readonly cotangents: number;
  /** Whether the gradient flowing into `input` adds to what an earlier consumer wrote. */
  accumulate(input: LayerId): boolean;
  wants(input: LayerId): boolean;
  /** The gradient field of an input the flow carries. */
  field(input: LayerId): GPUBuffer;
  /** Float offset of the chunk's first row in G for a parameter, undefined when it is not a gradient column. */
  gradientRow(param: number): number | undefined;
  /** G (cotangents × dimension) and its row stride. */
  readonly gradients: GPUBuffer;
  readonly dimension: number;
}

/** How one layer kind is recorded on the device. */
interface GpuLayer<L extends Layer> {
  forward(run: WebGpuNetworkExecution, layer: L, id: LayerId): void;
  backward(run: WebGpuNetworkExecution, layer: L, id: LayerId, step: GpuBackwardStep): void;
}

const nothing = () => {};

function poolLayer(kind: 'avgpool' | 'maxpool'): GpuLayer<LayerOf<'avgpool' | 'maxpool'>> {
  const [forward, backward] = kind === 'avgpool' ? [KERNELS.avgpoolForward, KERNELS.avgpoolBackward] : [KERNELS.maxpoolForward, KERNELS.maxpoolBackward];
  const geometry = (run: WebGpuNetworkExecution, layer: LayerOf<'avgpool' | 'maxpool'>) => {
    const inShape = run.network.layers[layer.input].shape;
    const { height, width } = layer.shape;
    return { inHeight: inShape.height, inWidth: inShape.width, outHeight: height, outWidth: width, kernel: layer.kernel, stride: layer.stride, padding: layer.padding };
  };
  return {
    forward(run, layer, id) {
      const planes = run.batch * layer.shape.channels;
      run.recorder.flat(forward, { planes, forwardPlanes: planes, ...geometry(run, layer) }, { 1: run.outputs[layer.input], 2: run.outputs[id] }, run.batch * tensorSize(layer.shape));
    },
    backward(run, layer, _id, { dy, cotangents, accumulate, wants, field }) {
      if (!wants(layer.input)) return;
      const bindings: Record<number, GPUBuffer> = { 1: dy, 2: field(layer.input) };
      if (kind === 'maxpool') bindings[3] = run.outputs[layer.input];
      const params = { planes: cotangents * run.batch * layer.shape.channels, forwardPlanes: run.batch * layer.shape.channels, ...geometry(run, layer), accumulate: accumulate(layer.input) };
      run.recorder.flat(backward, params, bindings, cotangents * run.batch * tensorSize(run.network.layers[layer.input].shape));
    },
  };
}

/** Which kernels record a layer kind, forward and backward: one entry per kind (a missing kind does not compile). */
export const WEBGPU_LAYERS: { readonly [K in LayerKind]: GpuLayer<LayerOf<K>> } = {
  input: { forward: nothing, backward: nothing },

  conv: {
    forward(run, layer, id) {
      const n = run.batch;
      const { channels, height, width } = layer.shape;
      const blocks = Math.ceil(channels / layer.groups / 4) * layer.groups;
      const params = { samples: n, batch: n, ...convGeometry(run, layer) };
      run.recorder.flat(KERNELS.convForward, params, { 1: run.outputs[layer.input], 2: run.weight(layer.weight), 3: run.outputs[id] }, n * blocks * height * width);
    },
    backward(run, layer, _id, { dy, cotangents, accumulate, wants, field, gradientRow, gradients, dimension }) {
      const batch = run.batch;
      const samples = cotangents * batch;
      const geometry = convGeometry(run, layer);
      const row = gradientRow(layer.weight);
      if (row !== undefined) {
        const width = run.network.params[layer.weight].size;
        const scratch = run.backwardScratch();
        run.recorder.flat(KERNELS.convWeightPartials, { samples, batch, ...geometry }, { 1: dy, 3: scratch, 4: run.outputs[layer.input] }, samples * width);
        run.recorder.flat(KERNELS.sumCotangentRows, { cotangents, batch, width, gradientRow: row, gradientStride: dimension }, { 1: scratch, 2: gradients }, cotangents * width);
      }
      if (wants(layer.input)) {
        const params = { samples, batch, ...geometry, accumulate: accumulate(layer.input) };
        run.recorder.flat(KERNELS.convBackwardInput, params, { 1: dy, 2: run.weight(layer.weight), 3: field(layer.input) }, samples * tensorSize(run.network.layers[layer.input].shape));
      }
    },
  },

  batchnorm: {
    forward(run, layer, id) {
      const n = run.batch;
      const { channels, height, width } = layer.shape;
      const stats = run.statistics.get(id)!;
      const x = run.outputs[layer.input];
      const scratch = run.forwardScratch;
      const params = { samples: n, batch: n, channels, plane: height * width };
      const r = run.recorder;
      r.flat(KERNELS.bnRowSums, params, { 1: x, 4: scratch }, n * channels);
      r.flat(KERNELS.bnMean, params, { 1: scratch, 6: stats }, channels);
      r.flat(KERNELS.bnRowSquareSums, params, { 1: x, 4: scratch, 6: stats }, n * channels);
      r.flat(KERNELS.bnInverseStd, params, { 1: scratch, 6: stats }, channels);
      const bindings = { 1: x, 2: run.weight(layer.gamma), 3: run.weight(layer.beta), 4: run.outputs[id], 5: run.normalised.get(id)!, 6: stats };
      r.flat(KERNELS.bnNormalise, params, bindings, n * tensorSize(layer.shape));
    },
    backward(run, layer, id, { dy, cotangents, accumulate, wants, field, gradientRow, gradients, dimension }) {
      const { channels, height, width } = layer.shape;
      const samples = cotangents * run.batch;
      const row = gradientRow(layer.gamma);
      const params = {
        samples,
        batch: run.batch,
        channels,
        plane: height * width,
        accumulate: accumulate(layer.input),
        writeGamma: row !== undefined,
        gradientRow: row ?? 0,
        gradientStride: dimension,
      };
      const scratch = run.backwardScratch();
      const means = run.gradientStats();
      const r = run.recorder;
      r.flat(KERNELS.bnGradientRowSums, params, { 1: dy, 4: scratch, 5: run.normalised.get(id)! }, samples * channels);
      r.flat(KERNELS.bnGradientStats, params, { 1: scratch, 6: means, 7: row !== undefined ? gradients : run.dummies[0] }, cotangents * channels);
      if (wants(layer.input)) {
        const bindings = { 1: dy, 2: run.weight(layer.gamma), 3: run.statistics.get(id)!, 4: field(layer.input), 5: run.normalised.get(id)!, 6: means };
        r.flat(KERNELS.bnInputGradient, params, bindings, samples * tensorSize(layer.shape));
      }
    },
  },

  relu: {
    forward(run, layer, id) {
      const count = run.batch * tensorSize(layer.shape);
      run.recorder.flat(KERNELS.reluForward, { count, forwardCount: count }, { 1: run.outputs[layer.input], 2: run.outputs[id] }, count);
    },
    backward(run, layer, id, { dy, cotangents, accumulate, wants, field }) {
      if (!wants(layer.input)) return;
      const size = tensorSize(layer.shape);
      const count = cotangents * run.batch * size;
      run.recorder.flat(KERNELS.reluBackward, { count, forwardCount: run.batch * size, accumulate: accumulate(layer.input) }, { 1: dy, 2: field(layer.input), 3: run.outputs[id] }, count);
    },
  },

  avgpool: poolLayer('avgpool'),
  maxpool: poolLayer('maxpool'),

  sum: {
    forward(run, layer, id) {
      const count = run.batch * tensorSize(layer.shape);
      layer.terms.forEach((term, index) => {
        run.recorder.flat(KERNELS.scaledAdd, { count, accumulate: index > 0, scaleBits: floatBits(term.scale) }, { 1: run.outputs[term.input], 2: run.outputs[id] }, count);
      });
    },
    backward(run, layer, _id, { dy, cotangents, accumulate, wants, field }) {
      const count = cotangents * run.batch * tensorSize(layer.shape);
      for (const term of layer.terms) {
        if (!wants(term.input)) continue;
        run.recorder.flat(KERNELS.scaledAdd, { count, accumulate: accumulate(term.input), scaleBits: floatBits(term.scale) }, { 1: dy, 2: field(term.input) }, count);
      }
    },
  },

  zero: {
    forward(run, layer, id) {
      const count = run.batch * tensorSize(layer.shape);
      run.recorder.flat(KERNELS.fillZero, { count }, { 2: run.outputs[id] }, count);
    },
    backward: nothing,
  },

  concat: {
    forward(run, layer, id) {
      const size = tensorSize(layer.shape);
      let offset = 0;
      for (const input of layer.inputs) {
        const part = tensorSize(run.network.layers[input].shape);
        run.copy(run.outputs[input], run.outputs[id], run.batch, part, { dstStride: size, dstOffset: offset });
        offset += part;
      }
    },
    backward(run, layer, _id, { dy, cotangents, accumulate, wants, field }) {
      const size = tensorSize(layer.shape);
      let offset = 0;
      for (const input of layer.inputs) {
        const part = tensorSize(run.network.layers[input].shape);
        if (wants(input)) run.copy(dy, field(input), cotangents * run.batch, part, { srcStride: size, srcOffset: offset, accumulate: accumulate(input) });
        offset += part;
      }
    },
  },

  gap: {
    forward(run, layer, id) {
      const inShape = run.network.layers[layer.input].shape;
      const count = run.batch * layer.shape.channels;
      run.recorder.flat(KERNELS.gapForward, { count, rowLength: inShape.height * inShape.width }, { 1: run.outputs[layer.input], 2: run.outputs[id] }, count);
    },
    backward(run, layer, _id, { dy, cotangents, accumulate, wants, field }) {
      if (!wants(layer.input)) return;
      const inShape = run.network.layers[layer.input].shape;
      const hw = inShape.height * inShape.width;
      const count = cotangents * run.batch * layer.shape.channels * hw;
      run.recorder.flat(KERNELS.gapBackward, { count, accumulate: accumulate(layer.input), rowLength: hw }, { 1: dy, 2: field(layer.input) }, count);
    },
  },

  linear: {
    forward(run, layer, id) {
      const n = run.batch;
      const inFeatures = tensorSize(run.network.layers[layer.input].shape);
      const outFeatures = layer.shape.channels;
      const bindings = { 1: run.outputs[layer.input], 2: run.weight(layer.weight), 3: run.weight(layer.bias), 4: run.outputs[id] };
      run.recorder.flat(KERNELS.linearForward, { samples: n, inFeatures, outFeatures, batch: n }, bindings, n * outFeatures);
    },
    backward(run, layer, _id, { dy, cotangents, accumulate, wants, field, gradientRow, gradients, dimension }) {
      const batch = run.batch;
      const samples = cotangents * batch;
      const inFeatures = tensorSize(run.network.layers[layer.input].shape);
      const outFeatures = layer.shape.channels;
      const row = gradientRow(layer.weight);
      if (row !== undefined) {
        const params = { samples, inFeatures, outFeatures, batch, cotangents, gradientRow: row, gradientStride: dimension };
        run.recorder.flat(KERNELS.linearBackwardWeight, params, { 1: dy, 4: gradients, 5: run.outputs[layer.input] }, cotangents * outFeatures * inFeatures);
      }
      if (wants(layer.input)) {
        const params = { samples, inFeatures, outFeatures, accumulate: accumulate(layer.input), batch, cotangents };
        run.recorder.flat(KERNELS.linearBackwardInput, params, { 1: dy, 2: run.weight(layer.weight), 4: field(layer.input) }, samples * inFeatures);
      }
    },
  },
};

function convGeometry(run: WebGpuNetworkExecution, layer: LayerOf<'conv'>) {
  const inShape = run.network.layers[layer.input].shape;
  const { channels, height, width } = layer.shape;
  return {
    inChannels: inShape.channels,
    inHeight: inShape.height,
    inWidth: inShape.width,
    outChannels: channels,
    outHeight: height,
    outWidth: width,
    kernel: layer.kernel,
    stride: layer.stride,
    padding: layer.padding,
    dilation: layer.dilation,
    groups: layer.groups,
  };
}

export function gpuLayer(layer: Layer): GpuLayer<Layer> {
  return WEBGPU_LAYERS[layer.kind] as GpuLayer<Layer>;
}
