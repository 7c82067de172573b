import type { Backend, BackendName } from '../../src/engine/backend.js';
import { WasmBackend } from '../../src/engine/wasm/backend.js';
import { fmaUnavailable } from './fma.js';
import { WebGpuBackend } from '../../src/engine/webgpu/backend.js';
import { adapterFacts, requestGpuAdapter } from '../../src/engine/webgpu/device.js';
import { layerInputs, type LayerId, type Network } from '../../src/graph/ir.js';
import type { Weights } from '../../src/graph/weights.js';
import type { MeasureContext } from '../../src/metrics/indicator.js';
import type { LinearAlgebra } from '../../src/metrics/linalg.js';
import type { ProxyGoldenCase } from './golden-proxies.js';

/**
 * A proxy golden case as an indicator's measurement context: the case's weights, images and labels,
 * and its stored draws (Zen's Gaussian weights and inputs, AZ-NAS's packed ±1 bits) in place of
 * the random streams.
 */
export function goldenMeasureContext(golden: ProxyGoldenCase, backend: Backend, linalg: LinearAlgebra): MeasureContext {
  const network = golden.network();
  return {
    backend,
    linalg,
    network,
    weights: golden.weights(network),
    inputs: [golden.input()],
    batch: golden.expected.batch,
    labels: [golden.labels()],
    gramPrecision: 'float64',
    kappaPolicy: 'floor',
    draws: {
      gaussianWeights: () => golden.zenWeights(network),
      gaussianInputs: () => golden.zenInputs(),
      signBits: (bits) => {
        const packed = golden.array('az_gout_bits.npy').data as Uint8Array;
        if (packed.length !== Math.ceil(bits / 8)) throw new Error(`az_gout_bits.npy holds ${packed.length} bytes, ${bits} bits were asked for`);
        return packed;
      },
    },
  };
}

const gpuAccess = await requestGpuAdapter();

export const isLargeCase = (golden: ProxyGoldenCase): boolean => golden.expected.C * golden.expected.N > 8;

const fullWebGpuRun = process.env.TENAS_SLOW_TESTS === '1' || ('adapter' in gpuAccess && !adapterFacts(gpuAccess.adapter).isFallbackAdapter);

/** The small cases a software adapter runs: every op kind (`mixed`) and the paths through `none` edges. */
const SOFTWARE_ADAPTER_CASES = new Set(['nb201-mixed-c8n1-b16', 'nb201-none-c8n1-b16']);

/**
 * The backends every proxy golden runs on, and which cases each runs. SwiftShader (a CPU running
 * the shaders) needs about two minutes per pass of the C = 16, N = 5 case and up to a minute per
 * proxy of a small one, so on a software adapter WebGPU runs the two small cases that cover every
 * op kind and the `none` paths, and everything with TENAS_SLOW_TESTS=1 or on a hardware adapter.
 * The fused multiply-add kernels (where this machine has them: golden-wasm.test.ts and
 * ops.test.ts say when it does not) run those two cases too; they share all other code with `wasm`.
 */
export const PROXY_BACKENDS: { name: BackendName; create: () => Promise<Backend>; runs: (golden: ProxyGoldenCase) => boolean }[] = [
  { name: 'wasm', create: () => WasmBackend.create(), runs: () => true },
  ...(fmaUnavailable ? [] : [{ name: 'wasm-fma' as const, create: () => WasmBackend.create('wasm-fma'), runs: (golden: ProxyGoldenCase) => SOFTWARE_ADAPTER_CASES.has(golden.name) }]),
  {
    name: 'webgpu',
    create: () => {
      if ('unavailable' in gpuAccess) throw new Error(`no WebGPU adapter: ${gpuAccess.unavailable}`);
      return WebGpuBackend.create();
    },
    runs: (golden) => fullWebGpuRun || SOFTWARE_ADAPTER_CASES.has(golden.name),
  },
];

/** Relative error |got − want| / |want| (absolute when want = 0). */
export const relativeError = (got: number, want: number): number => (want === 0 ? Math.abs(got) : Math.abs(got - want) / Math.abs(want));

/** Pre-activations closer to 0 than this flip sign under float32 reordering (two backends differ there). */
const KINK = 1e-6;

/**
 * Layers whose output gradient passes a ReLU at an input within float32 noise of its kink (|v| <
 * 1e-6), together with those ReLUs. Such a ReLU may pass or block that element's gradient in the
 * reference and the other way here (seen on two small cases: |v| = 5e-8 and 2e-7, wasm and WebGPU
 * on opposite sides), which moves the per-sample sums of every layer before it by up to ~1e-3.
 */
export async function layersBeforeKinks(backend: Backend, network: Network, weights: Weights, input: Float32Array, batch: number): Promise<{ kinks: number; layers: Set<LayerId> }> {
  const relus = network.layers.flatMap((layer, id) => (layer.kind === 'relu' ? [{ id, input: layer.input }] : []));
  const { activations } = await backend.forward({ network, weights, batch, inputs: [input], capture: { layers: relus.map((relu) => relu.input), as: 'values' } });
  const before = new Set<LayerId>();
  let kinks = 0;
  relus.forEach((relu, index) => {
    if (!activations![0][index].some((v) => v !== 0 && Math.abs(v) < KINK)) return;
    kinks++;
    const pending = [relu.id];
    while (pending.length > 0) {
      const id = pending.pop()!;
      if (before.has(id)) continue;
      before.add(id);
      pending.push(...layerInputs(network.layers[id]));
    }
  });
  return { kinks, layers: before };
}
