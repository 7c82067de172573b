// A tiny TE-NAS search in a page bundled by webpack 5 with no configuration: webpack emits the
// pool's worker and the CIFAR file itself, as it does for any `new URL('…', import.meta.url)`.
import { Engine, fetchEmbeddedCifar } from 'tenas-web';

const cifarUrl = new URL('tenas-web/data/cifar10-test-1000/cifar10_test_first1000.bin', import.meta.url);

async function main() {
  const output = document.querySelector('#result');
  const engine = await Engine.create({ backend: 'wasm' });
  try {
    const images = await fetchEmbeddedCifar(cifarUrl);
    const result = await engine.search({
      space: 'nb201', images, workers: 1,
      ntkBatch: 4, repeats: 1, regionPatches: 50, regionBatches: 1,
      onProgress: (p) => { output.textContent = `round ${p.round}: ${p.done}/${p.total}`; },
    });
    output.textContent = result.arch;
    document.body.dataset.state = 'done';
  } finally {
    engine.dispose();
  }
}

main().catch((error) => {
  document.querySelector('#result').textContent = String(error);
  document.body.dataset.state = 'error';
});
