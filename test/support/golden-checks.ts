import { expect } from 'vitest';
import type { Backend } from '../../src/engine/backend.js';
import { ntkColumns, type LayerOf, type Network } from '../../src/graph/ir.js';
import { weightsFromTensors, type Weights } from '../../src/graph/weights.js';
import type { LinearAlgebra } from '../../src/metrics/linalg.js';
import { scoreNtk } from '../../src/metrics/ntk.js';
import { scoreRegions } from '../../src/metrics/regions.js';
import { searchSpace } from '../../src/spaces/index.js';
import type { GoldenCase } from './golden.js';

export const maxAbs = (a: ArrayLike<number>) => Array.from(a).reduce((m, v) => Math.max(m, Math.abs(v)), 0);
export const maxDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => Array.from(a).reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);

/** G and the logits through the backend's reverse pass, as κ uses them. */
export function ntkGradientRows(backend: Backend, network: Network, weights: Weights, input: Float32Array, batch: number) {
  return backend.vjp({ network, weights, input, batch, cotangents: { kind: 'sample-sums' }, reduce: 'rows' });
}

/** The case's network, built from its space and mask, with its weights read through the CLI's readers. */
export function goldenNetwork(golden: GoldenCase): { network: Network; weights: Weights } {
  const e = golden.expected;
  const space = searchSpace(e.space);
  const arch = typeof e.alive.arch === 'string' ? e.alive.arch : JSON.stringify(e.alive.arch);
  const mask = space.parseArchitecture(arch);
  const network = e.net === 'ntk' ? space.ntkNetwork(mask, e.classes, e.input_shape[2]) : space.thinNetwork(mask, e.classes);
  expect(network.params.map((p) => p.name)).toEqual(e.param_names);
  return { network, weights: weightsFromTensors(network, golden.weights(), 'weights.safetensors') };
}

/** The contract of an NTK case: G's columns, logits, λmax, κ and row 0 of G. Returns κ's relative error. */
export async function expectNtkGolden(backend: Backend, linalg: LinearAlgebra, golden: GoldenCase): Promise<number> {
  const e = golden.expected;
  const { network, weights } = goldenNetwork(golden);
  const { columns, dimension } = ntkColumns(network);
  expect(columns.map((c) => network.params[c.param].name)).toEqual(e.ntk_param_names);
  expect(dimension).toBe(e.P);
  const input = golden.input().data as Float32Array;
  const score = await scoreNtk(backend, linalg, network, weights, input, e.batch);
  const logits = golden.array('logits.npy').data as Float32Array;
  expect(maxDiff(score.logits, logits)).toBeLessThanOrEqual(1e-4 * maxAbs(logits) + 1e-6);
  const eig = e.eig_f64!;
  const lambdaMax = eig[eig.length - 1];
  expect(Math.abs(score.eigenvalues[eig.length - 1] - lambdaMax) / lambdaMax).toBeLessThanOrEqual(1e-4);
  const kappaError = Math.abs(score.kappa - e.kappa_f64!) / e.kappa_f64!;
  expect(kappaError).toBeLessThanOrEqual(2e-3);
  const { gradients } = await ntkGradientRows(backend, network, weights, input, e.batch);
  const grad0 = golden.array('grad0.npy').data as Float32Array;
  expect(maxDiff(gradients.data.subarray(0, gradients.columns), grad0)).toBeLessThanOrEqual(1e-3 * maxAbs(grad0));
  return kappaError;
}

/**
 * Part of an NTK case's contract that costs a fraction of it: the logits, and the first `rows` rows
 * of G (each a reverse pass through the whole train-mode batch) against row 0 of G and the matching
 * block of Θ. For a slow adapter, where all B rows would take minutes.
 */
export async function expectNtkGoldenRows(backend: Backend, golden: GoldenCase, rows: number): Promise<void> {
  const e = golden.expected;
  const { network, weights } = goldenNetwork(golden);
  const classes = e.classes;
  const cotangents = new Float32Array(rows * e.batch * classes);
  for (let row = 0; row < rows; row++) cotangents.fill(1, (row * e.batch + row) * classes, (row * e.batch + row + 1) * classes);
  const input = golden.input().data as Float32Array;
  const result = await backend.vjp({ network, weights, input, batch: e.batch, cotangents: { kind: 'given', data: cotangents, count: rows }, reduce: 'rows' });
  const logits = golden.array('logits.npy').data as Float32Array;
  expect(maxDiff(result.logits, logits)).toBeLessThanOrEqual(1e-4 * maxAbs(logits) + 1e-6);
  expect(result.gradients.columns).toBe(e.P);
  const grad0 = golden.array('grad0.npy').data as Float32Array;
  expect(maxDiff(result.gradients.data.subarray(0, e.P!), grad0)).toBeLessThanOrEqual(1e-3 * maxAbs(grad0));
  const theta = golden.array('theta.npy').data as Float64Array;
  const block: number[] = [];
  const expectedBlock: number[] = [];
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < rows; j++) {
      let dot = 0;
      for (let c = 0; c < e.P!; c++) dot += result.gradients.data[i * e.P! + c] * result.gradients.data[j * e.P! + c];
      block.push(dot);
      expectedBlock.push(theta[i * e.batch + j]);
    }
  }
  expect(maxDiff(block, expectedBlock)).toBeLessThanOrEqual(1e-4 * maxAbs(theta));
}

/** The contract of a linear-region case: feature, firing and region counts exact; logits summed. */
export async function expectThinGolden(backend: Backend, linalg: LinearAlgebra, golden: GoldenCase): Promise<void> {
  const e = golden.expected;
  const { network, weights } = goldenNetwork(golden);
  const input = golden.input().data as Float32Array;
  const perBatch = input.length / 3;
  const batches = [0, 1, 2].map((b) => input.subarray(b * perBatch, (b + 1) * perBatch));
  const score = await scoreRegions(backend, linalg, network, weights, batches, e.batch);
  expect(score.features).toBe(e.features);
  expect(score.firings).toBe(e.relu_firings);
  expect(score.regions).toBe(e.regions);
  const sum = score.logits.reduce((s, l) => s + l.reduce((a, v) => a + v, 0), 0);
  expect(Math.abs(sum - e.logits_sum)).toBeLessThanOrEqual(1e-3 * Math.abs(e.logits_sum));
}

/**
 * ReLU inputs whose sign two backends disagree on: pre-activations so close to 0 that float32
 * rounding decides them. Each flips a row of the gradient mask, which moves κ by far more than
 * rounding does elsewhere. Returns how many, and the largest |x| among them over its layer's max |x|.
 */
export async function reluKinks(a: Backend, b: Backend, network: Network, weights: Weights, input: Float32Array, batch: number): Promise<{ flips: number; relative: number }> {
  const inputs = network.layers.flatMap((layer) => (layer.kind === 'relu' ? [(layer as LayerOf<'relu'>).input] : []));
  const capture = async (backend: Backend) => (await backend.forward({ network, weights, inputs: [input], batch, capture: { layers: inputs, as: 'values' } })).activations![0];
  const [x, y] = await Promise.all([capture(a), capture(b)]);
  let flips = 0;
  let relative = 0;
  x.forEach((values, index) => {
    const scale = maxAbs(values);
    values.forEach((value, i) => {
      if (value > 0 === y[index][i] > 0) return;
      flips++;
      relative = Math.max(relative, Math.abs(value) / scale);
    });
  });
  return { flips, relative };
}
