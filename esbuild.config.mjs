// Bundles the CLI and the library for Node and the browser (`npm run build:js`).
// The WebAssembly module must be built first (`npm run build:wasm`): it is inlined as bytes.
import { build } from 'esbuild';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { browserVariants } from './scripts/browser-variants.mjs';

const root = dirname(fileURLToPath(import.meta.url));
const packageJson = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));

for (const file of ['tenas.wasm', 'tenas-fma.wasm']) {
  if (!existsSync(join(root, 'build', file))) {
    console.error(`esbuild.config.mjs: build/${file} is missing; run \`npm run build:wasm\` first`);
    process.exit(1);
  }
}

const shared = {
  bundle: true,
  format: 'esm',
  loader: { '.wasm': 'binary', '.wgsl': 'text' },
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
  // Node-only modules have `.browser.ts` stand-ins; a `node:*` import left over fails the build.
  plugins: [browserVariants],
};

const targets = [
  { ...node, entryPoints: ['src/cli/main.ts'], outfile: 'dist/node/cli.js' },
  { ...node, entryPoints: ['src/index.ts'], outfile: 'dist/node/index.js', optional: true },
  // The worker pool's thread entry, loaded by path next to the bundle that starts the pool.
  { ...node, entryPoints: ['src/worker.ts'], outfile: 'dist/node/worker.js', optional: true },
  { ...browser, entryPoints: ['src/browser.ts'], outfile: 'dist/browser/index.js', optional: true },
  { ...browser, entryPoints: ['src/worker.browser.ts'], outfile: 'dist/browser/worker.js', optional: true },
];

rmSync(join(root, 'dist', 'node'), { recursive: true, force: true });
rmSync(join(root, 'dist', 'browser'), { recursive: true, force: true });
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
