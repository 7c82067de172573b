import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import type { Backend } from '../src/engine/backend.js';
import { LinearAlgebra } from '../src/metrics/linalg.js';
import { fisherIndicator } from '../src/metrics/proxies/fisher.js';
import { TenasInputError } from '../src/errors.js';
import { proxyGoldenCases } from './support/golden-proxies.js';
import { goldenMeasureContext, layersBeforeKinks, PROXY_BACKENDS, relativeError } from './support/proxy-context.js';

// fisher (zero-cost-nas, channel mode) against every proxy golden: the total and each weight layer's
// contribution within 1e-4 relative (the goldens' tolerance); layers behind a `none` edge exactly 0.
// Exception: a ReLU whose input lies within float32 noise of 0 can switch that element's gradient
// on or off relative to the reference; fisher squares per-sample sums that cancel heavily, so every
// layer before such a ReLU may then move by ~1e-3 (and the total by ~1e-4): those get looser bounds.
const KINK_LAYER_TOLERANCE = 5e-3;
const KINK_VALUE_TOLERANCE = 5e-4;

describe.each(PROXY_BACKENDS)('fisher on $name', ({ name, create, runs }) => {
  let backend: Backend;
  let linalg: LinearAlgebra;
  beforeAll(async () => {
    backend = await create();
    linalg = await LinearAlgebra.create();
  });
  afterAll(() => backend?.dispose());

  for (const golden of proxyGoldenCases()) {
    const run = runs(golden) ? it : it.skip;
    run(`${golden.name}${run === it ? '' : ' (on a software adapter: TENAS_SLOW_TESTS=1)'}`, async () => {
      const expected = golden.expected.proxies.fisher;
      const started = performance.now();
      const measured = await fisherIndicator.measure(goldenMeasureContext(golden, backend, linalg));
      const seconds = (performance.now() - started) / 1000;
      const network = golden.network();
      const kinks = await layersBeforeKinks(backend, network, golden.weights(network), golden.input(), golden.expected.batch);
      const beforeKink = (param: string) => network.layers.some((layer, id) => (layer.kind === 'conv' || layer.kind === 'linear') && network.params[layer.weight].name === param && kinks.layers.has(id));
      const errors = Object.entries(expected.per_param!).map(([param, want]) => ({ param, error: relativeError(measured.perParam![param]!, want!), beforeKink: beforeKink(param) }));
      const worst = (list: typeof errors) => Math.max(0, ...list.map((e) => e.error)).toExponential(2);
      const valueError = relativeError(measured.value, expected.value);
      console.log(
        `fisher ${name} ${golden.name}: ${seconds.toFixed(2)} s, value rel. error ${valueError.toExponential(2)}, worst layer ${worst(errors.filter((e) => !e.beforeKink))}` +
          (kinks.kinks > 0 ? `, ${kinks.kinks} ReLU(s) with an input within 1e-6 of 0: worst of the ${errors.filter((e) => e.beforeKink).length} layers before them ${worst(errors.filter((e) => e.beforeKink))}` : ''),
      );
      expect(Object.keys(measured.perParam!)).toEqual(golden.expected.weight_layer_names);
      for (const { param, error, beforeKink } of errors) {
        if (expected.per_param![param] === 0) expect(measured.perParam![param], param).toBe(0);
        else expect(error, param).toBeLessThanOrEqual(beforeKink ? KINK_LAYER_TOLERANCE : 1e-4);
      }
      expect(valueError).toBeLessThanOrEqual(kinks.kinks > 0 ? KINK_VALUE_TOLERANCE : 1e-4);
    }, 1_800_000);
  }
});

describe('fisher without labels', () => {
  it('refuses the data with a clear error', async () => {
    const [golden] = proxyGoldenCases((e) => e.C === 8);
    const backend = await PROXY_BACKENDS[0].create();
    const context = { ...goldenMeasureContext(golden, backend, await LinearAlgebra.create()), labels: undefined };
    await expect(fisherIndicator.measure(context)).rejects.toThrow(TenasInputError);
    await expect(fisherIndicator.measure(context)).rejects.toThrow(/fisher needs class labels/);
    expect(fisherIndicator.needsLabels).toBe(true);
  });
});
