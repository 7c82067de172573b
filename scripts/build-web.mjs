// Builds the web pages into dist/web/ (`npm run build:web`): the search app (dist/web/app/), the
// benchmark page (dist/web/bench/) and, once src/worker.ts exists, the pool's module worker
// (dist/web/worker.js). The WebAssembly kernels are inlined as bytes, so build/tenas.wasm must exist
// (`npm run build:wasm`). `tenas serve` serves dist/web with the package's data/ folder at /data/.
import { build } from 'esbuild';
import { copyFileSync, existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const out = join(root, 'dist', 'web');

if (!existsSync(join(root, 'build', 'tenas.wasm'))) {
  console.error('build-web: build/tenas.wasm is missing; run `npm run build:wasm` first');
  process.exit(1);
}

const common = {
  absWorkingDir: root,
  bundle: true,
  format: 'esm',
  platform: 'browser',
  // es2022 keeps esbuild's binary loader from emitting Uint8Array.fromBase64 (too new for Chromium 120).
  target: ['es2022', 'chrome120'],
  loader: { '.wasm': 'binary', '.wgsl': 'text' },
  // Node-only loaders import `node:*` lazily and are never called in a page.
  external: ['node:*'],
  sourcemap: true,
  logLevel: 'warning',
};

rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });

const pages = ['app', 'bench'];
for (const page of pages) {
  const source = join(root, 'src', 'web', page);
  const target = join(out, page);
  mkdirSync(target, { recursive: true });
  await build({ ...common, entryPoints: [join(source, 'main.ts')], outfile: join(target, 'main.js') });
  for (const name of readdirSync(source)) {
    if (name.endsWith('.html') || name.endsWith('.css')) copyFileSync(join(source, name), join(target, name));
  }
}
copyFileSync(join(root, 'src', 'web', 'shared', 'style.css'), join(out, 'style.css'));

const hasWorker = existsSync(join(root, 'src', 'worker.ts'));
if (hasWorker) {
  await build({ ...common, entryPoints: [join(root, 'src', 'worker.ts')], outfile: join(out, 'worker.js') });
} else {
  console.log('build-web: src/worker.ts does not exist yet; the app will search on its own thread');
}
// Lets the app know whether worker.js exists without requesting it (a 404 would log a console error).
writeFileSync(join(out, 'build-info.json'), `${JSON.stringify({ worker: hasWorker, builtAt: new Date().toISOString() })}\n`);

writeFileSync(
  join(out, 'index.html'),
  `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>tenas-web</title><meta http-equiv="refresh" content="0; url=app/"></head>
<body><p><a href="app/">TE-NAS search</a> · <a href="bench/">benchmark</a></p></body>
</html>
`,
);
console.log(`build-web: wrote ${out}`);
