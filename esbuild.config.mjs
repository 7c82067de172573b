// Bundles the CLI and the library for Node and the browser (`npm run build:js`).
// The WebAssembly module must be built first (`npm run build:wasm`): it is inlined as bytes.
import { build } from 'esbuild';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

const root = dirname(fileURLToPath(import.meta.url));
const packageJson = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));

const wasmPath = join(root, 'build', 'tenas.wasm');
if (!existsSync(wasmPath)) {
  console.error('esbuild.config.mjs: build/tenas.wasm is missing; run `npm run build:wasm` first');
  process.exit(1);
}

const shared = {
  bundle: true,
  format: 'esm',
  loader: { '.wasm': 'binary', '.wgsl': 'text' },
  sourcemap: true,
  logLevel: 'warning',
  // The version is baked in at build time so the CLI needs no package.json at run time.
  define: { __TENAS_VERSION__: JSON.stringify(packageJson.version) },
};

const node = {
  ...shared,
  platform: 'node',
  target: 'node20',
  external: ['webgpu', 'puppeteer', 'puppeteer-core'],
  // Bundled CommonJS code that calls require() needs a require function inside an ES module.
  banner: { js: "import { createRequire as __tenasCreateRequire } from 'node:module'; const require = __tenasCreateRequire(import.meta.url);" },
};

const browser = {
  ...shared,
  platform: 'browser',
  target: 'es2022',
  // The Node-only loaders import `node:*` lazily and are never called in a browser; left external,
  // those imports stay unevaluated instead of failing the bundle.
  external: ['node:*'],
};

const targets = [
  { ...node, entryPoints: ['src/cli/main.ts'], outfile: 'dist/node/cli.js' },
  { ...node, entryPoints: ['src/index.ts'], outfile: 'dist/node/index.js', optional: true },
  // The worker pool's thread entry, loaded by path next to the bundle that starts the pool.
  { ...node, entryPoints: ['src/worker.ts'], outfile: 'dist/node/worker.js', optional: true },
  { ...browser, entryPoints: ['src/browser.ts'], outfile: 'dist/browser/index.js', optional: true },
  { ...browser, entryPoints: ['src/worker.ts'], outfile: 'dist/browser/worker.js', optional: true },
];

for (const { optional, ...options } of targets) {
  const entry = options.entryPoints[0];
  if (!existsSync(join(root, entry))) {
    if (optional) {
      console.log(`esbuild.config.mjs: skipping ${options.outfile} (${entry} does not exist yet)`);
      continue;
    }
    console.error(`esbuild.config.mjs: entry ${entry} is missing`);
    process.exit(1);
  }
  await build({ ...options, absWorkingDir: root });
}
