import { describe, it, beforeAll } from 'vitest';
import { WasmBackend } from '../src/engine/wasm/backend.js';
import { LinearAlgebra } from '../src/metrics/linalg.js';
import { goldenCases } from './support/golden.js';
import { expectNtkGolden, expectThinGolden } from './support/golden-checks.js';

let backend: WasmBackend;
let linalg: LinearAlgebra;
beforeAll(async () => {
  backend = await WasmBackend.create();
  linalg = await LinearAlgebra.create();
});

describe('golden cases on the WebAssembly backend', () => {
  for (const golden of goldenCases()) {
    it(golden.name, async () => {
      if (golden.expected.net === 'ntk') await expectNtkGolden(backend, linalg, golden);
      else await expectThinGolden(backend, linalg, golden);
    });
  }
});
