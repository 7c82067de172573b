// A tiny TE-NAS search in a page built by Vite with no configuration: Vite emits the pool's worker
// (`new URL('./worker.js', import.meta.url)` in tenas-web) and, through `?url`, the CIFAR file.
import { Engine, fetchEmbeddedCifar } from 'tenas-web';
import cifarUrl from 'tenas-web/data/cifar10-test-1000/cifar10_test_first1000.bin?url';

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
