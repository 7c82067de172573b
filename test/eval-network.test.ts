import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import type { Backend } from '../src/engine/backend.js';
import { archToMask } from '../src/spaces/nb201/arch.js';
import { nb201EvalNetwork } from '../src/spaces/nb201/networks.js';
import { maxAbs, maxDiff } from './support/golden-checks.js';
import { proxyGoldenCases } from './support/golden-proxies.js';
import { PROXY_BACKENDS } from './support/proxy-context.js';

// The NAS-Bench-201 evaluation network (TinyNetwork C, N) against the proxy goldens' train-mode logits.

describe.each(PROXY_BACKENDS)('NB201 evaluation network on $name', ({ create, runs }) => {
  let backend: Backend;
  beforeAll(async () => {
    backend = await create();
  });
  afterAll(() => backend?.dispose());

  for (const golden of proxyGoldenCases()) {
    // A forward pass at C = 16, N = 5, B = 64 takes about two minutes on a software adapter.
    const run = runs(golden) ? it : it.skip;
    run(`${golden.name}: logits`, async () => {
      const network = golden.network();
      const { logits } = await backend.forward({ network, weights: golden.weights(network), batch: golden.expected.batch, inputs: [golden.input()] });
      const expected = golden.array('logits.npy').data as Float32Array;
      expect(maxDiff(logits[0], expected)).toBeLessThanOrEqual(1e-4 * maxAbs(expected));
    });
  }
});

describe('NB201 evaluation network shape', () => {
  it('has the benchmark parameter count for the all-3×3 and all-none cells at C = 16, N = 5', () => {
    const count = (arch: string) => {
      const network = nb201EvalNetwork({ mask: archToMask(arch), classes: 10, inputSize: 32, channels: 16, cells: 5 });
      return network.params.filter((p) => p.role !== 'arch').reduce((total, p) => total + p.size, 0);
    };
    expect(count('|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|')).toBe(1_531_546);
    expect(count('|none~0|+|none~0|none~1|+|none~0|none~1|none~2|')).toBe(73_306);
  });

  it('refuses a mask with several ops on an edge', () => {
    const mask = archToMask('|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|');
    mask[0][1] = true;
    expect(() => nb201EvalNetwork({ mask, classes: 10, inputSize: 32, channels: 16, cells: 5 })).toThrow(/single-path/);
  });
});
