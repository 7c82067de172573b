import { readFileSync, readdirSync, existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { parseNpy, type NdArray } from '../../src/data/npy.js';
import { parseSafetensors, type NamedTensor } from '../../src/data/safetensors.js';
import type { SpaceName } from '../../src/spaces/index.js';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const goldenRoot = path.join(repoRoot, 'test', 'golden');

export interface GoldenExpected {
  case: string;
  space: SpaceName;
  net: 'ntk' | 'thin';
  dataset: string;
  classes: number;
  batch: number;
  input_shape: number[];
  alive: { arch: string | { normal: string[][]; reduce: string[][] } };
  param_names: string[];
  ntk_param_names: string[] | null;
  P: number | null;
  logits_sum: number;
  kappa_f64: number | null;
  eig_f64: number[] | null;
  kappa_f32: number | null;
  kappa_f64_net64: number | null;
  regions: number | null;
  regions_per_batch: number[] | null;
  features: number | null;
  relu_firings: number | null;
  near_zero_preacts: number | null;
}

export interface GoldenCase {
  name: string;
  dir: string;
  expected: GoldenExpected;
  weights(): NamedTensor[];
  input(): NdArray;
  array(file: string): NdArray;
}

export function goldenCases(filter: (expected: GoldenExpected) => boolean = () => true): GoldenCase[] {
  if (!existsSync(goldenRoot)) throw new Error(`golden cases not found at ${goldenRoot}`);
  return readdirSync(goldenRoot, { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => {
      const dir = path.join(goldenRoot, entry.name);
      const expected = JSON.parse(readFileSync(path.join(dir, 'expected.json'), 'utf8')) as GoldenExpected;
      return {
        name: entry.name,
        dir,
        expected,
        weights: () => parseSafetensors(readFileSync(path.join(dir, 'weights.safetensors'))),
        input: () => parseNpy(readFileSync(path.join(dir, 'input.npy'))),
        array: (file: string) => parseNpy(readFileSync(path.join(dir, file))),
      };
    })
    .filter((golden) => filter(golden.expected))
    .sort((a, b) => a.name.localeCompare(b.name));
}
