// Scores one NAS-Bench-201 cell (κ of the NTK, linear regions R) on random inputs, in a page bundled
// by esbuild with no configuration. esbuild does not emit files named by `new URL(…)`: to search
// with `workers`, copy node_modules/tenas-web/dist/browser/worker.js beside dist/main.js (or set
// env.workerUrl to where it is served).
import { Engine, Rng, gaussianBatch } from 'tenas-web';

const ARCH = '|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_3x3~2|';

async function main() {
  const output = document.querySelector('#result');
  const engine = await Engine.create({ backend: 'wasm' });
  try {
    const network = engine.buildNetwork({ space: 'nb201', net: 'ntk', arch: ARCH });
    const weights = engine.initialWeights(network, 'kaiming-normal-fan-in', 0);
    const batch = 4;
    const input = gaussianBatch(batch, 3, 32, Rng.stream(0, 'input'));
    const ntk = await engine.scoreNtk(network, weights, input, batch);
    output.textContent = `κ = ${ntk.kappa.toFixed(1)}`;
    document.body.dataset.state = 'done';
  } finally {
    engine.dispose();
  }
}

main().catch((error) => {
  document.querySelector('#result').textContent = String(error);
  document.body.dataset.state = 'error';
});
