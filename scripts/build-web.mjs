// Builds the web pages into dist/web/ (`npm run build:web`): the search app (dist/web/app/) and the
// benchmark page (dist/web/bench/). The WebAssembly kernels are inlined as bytes, so
// build/tenas.wasm and build/tenas-fma.wasm must exist (`npm run build:wasm`). `tenas serve`
// serves dist/web with the package's data/ folder at /data/ and the browser build (dist/browser,
// from `npm run build:js`) at /lib/: the app's pool runs /lib/worker.js, the library's own
// worker, so the package ships one browser worker, not two.
import { build } from 'esbuild';
import { copyFileSync, existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { browserVariants } from './browser-variants.mjs';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const out = join(root, 'dist', 'web');

for (const file of ['tenas.wasm', 'tenas-fma.wasm']) {
  if (!existsSync(join(root, 'build', file))) {
    console.error(`build-web: build/${file} is missing; run \`npm run build:wasm\` first`);
    process.exit(1);
  }
}

const common = {
  absWorkingDir: root,
  bundle: true,
  format: 'esm',
  platform: 'browser',
  // es2022 keeps esbuild's binary loader from emitting Uint8Array.fromBase64 (too new for Chromium 120).
  target: ['es2022', 'chrome120'],
  loader: { '.wasm': 'binary', '.wgsl': 'text' },
  // Node-only modules have `.browser.ts` stand-ins; a `node:*` import left over fails the build.
  plugins: [browserVariants],
  logLevel: 'warning',
};

rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });

const pages = ['app', 'evaluate', 'bench'];
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

const hasWorker = existsSync(join(root, 'dist', 'browser', 'worker.js'));
if (!hasWorker) console.log('build-web: dist/browser/worker.js is not built (`npm run build:js`); the app will search on its own thread');
// Lets the app know whether worker.js exists without requesting it (a 404 would log a console error).
writeFileSync(join(out, 'build-info.json'), `${JSON.stringify({ worker: hasWorker, builtAt: new Date().toISOString() })}\n`);

writeFileSync(
  join(out, 'index.html'),
  `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>tenas-web</title><meta http-equiv="refresh" content="0; url=app/"></head>
<body><p><a href="app/">TE-NAS search</a> · <a href="evaluate/">evaluate indicators</a> · <a href="bench/">benchmark</a></p></body>
</html>
`,
);
console.log(`build-web: wrote ${out}`);
