import { describe, it, expect } from 'vitest';
import { grasp } from '../src/metrics/proxies/grasp.js';
import { synflow } from '../src/metrics/proxies/synflow.js';
import { proxyGoldenCases } from './support/golden-proxies.js';

describe('scratch', () => {
  for (const golden of proxyGoldenCases((e) => e.C * e.N < 20)) {
    it(golden.name, () => {
      const network = golden.network();
      const weights = golden.weights(network);
      let t = performance.now();
      const s = synflow(network, weights);
      const ts = performance.now() - t;
      t = performance.now();
      const g = grasp(network, weights, golden.input(), golden.labels());
      const tg = performance.now() - t;
      const es = golden.expected.proxies.synflow;
      const eg = golden.expected.proxies.grasp;
      console.log(golden.name, ts.toFixed(0), tg.toFixed(0), 'synflow rel', (s.value - es.value) / es.value, 'R', s.extra!.R, es.extra!.R,
        'grasp', g.value, eg.value, eg.value_net64, 'abs', g.extra!.abs_sum, eg.extra!.abs_sum, 'z', g.extra!.z, eg.extra!.z, 'loss', g.extra!.loss, eg.extra!.loss);
      expect(true).toBe(true);
    });
  }
});
