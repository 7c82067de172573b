import { readFileSync, readdirSync, existsSync } from 'node:fs';
import path from 'node:path';
import { expect } from 'vitest';
import { parseNpy, type NdArray } from '../../src/data/npy.js';
import { parseSafetensors } from '../../src/data/safetensors.js';
import type { Network } from '../../src/graph/ir.js';
import { weightsFromTensors, type Weights } from '../../src/graph/weights.js';
import { archToMask } from '../../src/spaces/nb201/arch.js';
import { nb201EvalNetwork } from '../../src/spaces/nb201/networks.js';
import { repoRoot } from './golden.js';

export const proxyGoldenRoot = path.join(repoRoot, 'test', 'golden-proxies');

/** One stored proxy of `expected.json` / `az_expected.json` (see test/golden-proxies/README.md). */
export interface ProxyGoldenValue {
  value: number;
  value_net64?: number | null;
  value_ref_f32?: number | null;
  per_param?: Record<string, number | null> | null;
  extra?: Record<string, unknown>;
}

export interface ProxyGoldenExpected {
  case: string;
  arch: string;
  C: number;
  N: number;
  batch: number;
  classes: number;
  labels: number[];
  param_names: string[];
  weight_layer_names: string[];
  forward: { logits_sum: number; loss: number };
  proxies: Record<string, ProxyGoldenValue>;
}

export interface AzGoldenExpected {
  weights: { init_scale: Record<string, number> };
  features: { feature_index: number; name: string; shape: number[] }[];
  gout: { total_bits: number; layout: { feature_index: number; block: string; shape: number[]; bit_offset: number }[] };
  proxies: Record<string, ProxyGoldenValue>;
}

export interface ProxyGoldenCase {
  name: string;
  dir: string;
  expected: ProxyGoldenExpected;
  az: AzGoldenExpected;
  /** The case's evaluation network; its parameter names are checked against the case's. */
  network(): Network;
  weights(network: Network): Weights;
  zenWeights(network: Network): Weights;
  /** `input.npy`: `[B, 3, 32, 32]`. */
  input(): Float32Array;
  /** The batch's labels (`expected.json` `labels`, the same as `labels.npy`). */
  labels(): Int32Array;
  /** `zen_input.npy`: x and x + 0.01·x₂, each `[B, 3, 32, 32]`. */
  zenInputs(): [Float32Array, Float32Array];
  array(file: string): NdArray;
}

export function proxyGoldenCases(filter: (expected: ProxyGoldenExpected) => boolean = () => true): ProxyGoldenCase[] {
  if (!existsSync(proxyGoldenRoot)) throw new Error(`proxy golden cases not found at ${proxyGoldenRoot}`);
  return readdirSync(proxyGoldenRoot, { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry): ProxyGoldenCase => {
      const dir = path.join(proxyGoldenRoot, entry.name);
      const read = (file: string) => readFileSync(path.join(dir, file));
      const expected = JSON.parse(read('expected.json').toString('utf8')) as ProxyGoldenExpected;
      const array = (file: string) => parseNpy(read(file));
      return {
        name: entry.name,
        dir,
        expected,
        az: JSON.parse(read('az_expected.json').toString('utf8')) as AzGoldenExpected,
        network: () => {
          const network = nb201EvalNetwork({ mask: archToMask(expected.arch), classes: expected.classes, inputSize: 32, channels: expected.C, cells: expected.N });
          expect(network.params.map((p) => p.name)).toEqual(expected.param_names);
          return network;
        },
        weights: (network) => weightsFromTensors(network, parseSafetensors(read('weights.safetensors')), 'weights.safetensors'),
        zenWeights: (network) => weightsFromTensors(network, parseSafetensors(read('zen_weights.safetensors')), 'zen_weights.safetensors'),
        input: () => array('input.npy').data as Float32Array,
        labels: () => Int32Array.from(expected.labels),
        zenInputs: () => {
          const both = array('zen_input.npy').data as Float32Array;
          const half = both.length / 2;
          return [both.subarray(0, half), both.subarray(half)];
        },
        array,
      };
    })
    .filter((golden) => filter(golden.expected))
    .sort((a, b) => a.name.localeCompare(b.name));
}
