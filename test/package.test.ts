/**
 * The npm package as a user gets it: `npm pack` (its `prepack` builds and checks), then the tarball
 * installed into one fresh project holding the example apps of `examples/` (npm workspaces, one
 * install). Checked there: the install is lean (no Dawn, no Chromium tooling, no bundled runtime
 * dependency installed again), the README's library examples typecheck under `moduleResolution`
 * `bundler` and `nodenext` (the browser one with the `browser` condition, where the Node loaders
 * do not exist), esbuild, webpack 5 and Vite bundle the examples with no configuration, the CLI asks
 * for a missing optional package by name, and the three apps run in headless Chromium
 * (skipped without a Chromium binary: apt-get install -y chromium). Needs the npm registry.
 */
import { execFile, execFileSync, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { findChromium, launchChromium, type LaunchedChromium } from '../src/browser-bench/chromium.js';
import { OPTIONAL_PACKAGES } from '../src/optional-packages.js';
import { startServer } from '../src/server/serve.js';
import { repoRoot } from './support/golden.js';

const chrome = findChromium();
const packageJson = JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8'));
const tsc = path.join(repoRoot, 'node_modules', 'typescript', 'bin', 'tsc');
const EXAMPLES = ['esbuild', 'webpack', 'vite'] as const;
const NB201_ARCH = /^\|[a-z_0-9]+~0\|\+\|[a-z_0-9]+~0\|[a-z_0-9]+~1\|\+\|[a-z_0-9]+~0\|[a-z_0-9]+~1\|[a-z_0-9]+~2\|$/;
/** What the package ships (but dist/, which `prepack` builds) and what it is built from; node_modules is linked, not copied. */
const PACKAGE_SOURCES = [
  ...(packageJson.files as string[]).filter((file) => file !== 'dist'),
  ...['package.json', 'assembly', 'asconfig.json', 'shaders', 'src', 'scripts', 'esbuild.config.mjs', 'tsconfig.json', 'tsconfig.types.json'],
];

let work: string;
let project: string;
let tarball: string;
let tarballFiles: string[];
const builds = new Map<string, SpawnSyncReturns<string>>();

// npm passes its own settings to scripts as npm_config_*; the nested installs must not inherit them.
const childEnv = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.toLowerCase().startsWith('npm_')));

function run(command: string, args: string[], cwd: string): SpawnSyncReturns<string> {
  return spawnSync(command, args, { cwd, encoding: 'utf8', env: childEnv, timeout: 400_000, maxBuffer: 64 * 1024 * 1024 });
}

function mustRun(command: string, args: string[], cwd: string): string {
  const result = run(command, args, cwd);
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} failed (${result.status}):\n${result.stdout}\n${result.stderr}`);
  return result.stdout;
}

/** The code block that follows `<!-- package-test: NAME -->` in the README. */
function readmeExample(name: string): string {
  const readme = readFileSync(path.join(repoRoot, 'README.md'), 'utf8');
  const match = readme.match(new RegExp(`<!-- package-test: ${name} -->\\n\`\`\`ts\\n([\\s\\S]*?)\`\`\``));
  if (!match) throw new Error(`README.md has no example marked <!-- package-test: ${name} -->`);
  return match[1];
}

/** tsc's output for `files` in the project's readme/ folder (empty when they typecheck); checks our typings too. */
function typecheck(name: string, files: string[], options: Record<string, unknown>): Promise<string> {
  const config = path.join(project, 'readme', `tsconfig.${name}.json`);
  const compilerOptions = { strict: true, noEmit: true, skipLibCheck: false, skipDefaultLibCheck: true, target: 'ES2022', ...options };
  writeFileSync(config, JSON.stringify({ compilerOptions, files }));
  return new Promise((resolve) => {
    execFile(process.execPath, [tsc, '-p', config], { cwd: project, env: childEnv }, (_error, stdout, stderr) => resolve(stdout + stderr));
  });
}

beforeAll(() => {
  work = mkdtempSync(path.join(tmpdir(), 'tenas-package-'));
  // Packed from a copy, so that `prepack` rebuilding dist/ never disturbs tests running beside this one.
  const stage = path.join(work, 'stage');
  for (const source of PACKAGE_SOURCES) cpSync(path.join(repoRoot, source), path.join(stage, source), { recursive: true });
  symlinkSync(path.join(repoRoot, 'node_modules'), path.join(stage, 'node_modules'), 'dir');
  mustRun('npm', ['pack', '--pack-destination', work], stage);
  tarball = path.join(work, `tenas-web-${packageJson.version}.tgz`);
  tarballFiles = execFileSync('tar', ['-tzf', tarball], { encoding: 'utf8' }).split('\n').filter(Boolean).map((file) => file.replace(/^package\//, ''));

  project = path.join(work, 'project');
  for (const example of EXAMPLES) {
    const target = path.join(project, 'examples', example);
    cpSync(path.join(repoRoot, 'examples', example), target, { recursive: true, filter: (source) => !/(node_modules|dist)$/.test(source) });
    const manifest = path.join(target, 'package.json');
    writeFileSync(manifest, readFileSync(manifest, 'utf8').replace('file:../../tenas-web-0.1.0.tgz', `file:${tarball}`));
  }
  writeFileSync(
    path.join(project, 'package.json'),
    JSON.stringify({
      name: 'tenas-web-package-test',
      private: true,
      type: 'module',
      workspaces: EXAMPLES.map((example) => `examples/${example}`),
      dependencies: { 'tenas-web': `file:${tarball}` },
      devDependencies: { '@types/node': packageJson.devDependencies['@types/node'] },
      allowScripts: { esbuild: true },
    }),
  );
  mustRun('npm', ['install', '--no-audit', '--no-fund'], project);
  for (const example of EXAMPLES) builds.set(example, run('npm', ['run', 'build'], path.join(project, 'examples', example)));
}, 900_000);

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('the npm package', () => {
  test('the tarball holds the bundles, typings, data and LICENSE, and no source map or second browser worker', () => {
    for (const file of ['LICENSE', 'dist/node/index.js', 'dist/node/worker.js', 'dist/node/cli.js', 'dist/browser/index.js', 'dist/browser/worker.js', 'dist/types/index.d.ts', 'dist/types/browser.d.ts', 'data/nb201/nb201_test_acc_200ep.csv', 'data/cifar10-test-1000/cifar10_test_first1000.bin']) {
      expect(tarballFiles).toContain(file);
    }
    expect(tarballFiles.filter((file) => file.endsWith('.map'))).toEqual([]);
    expect(tarballFiles.filter((file) => file.endsWith('worker.js')).sort()).toEqual(['dist/browser/worker.js', 'dist/node/worker.js']);
    expect(tarballFiles.filter((file) => /^(src|test|assembly|examples\/(vite|webpack|esbuild))\//.test(file))).toEqual([]);
  });

  test('installing it pulls no Dawn, no Chromium tooling and no bundled dependency', () => {
    const installed = readdirSync(path.join(project, 'node_modules'));
    for (const name of ['webgpu', 'puppeteer-core', '@puppeteer', 'comlink', 'jpeg-js', 'pngjs']) expect(installed).not.toContain(name);
    const manifest = JSON.parse(readFileSync(path.join(project, 'node_modules', 'tenas-web', 'package.json'), 'utf8'));
    expect(manifest.dependencies ?? {}).toEqual({});
    expect(Object.keys(manifest.peerDependencies).sort()).toEqual(['puppeteer-core', 'webgpu']);
    expect(Object.values(manifest.peerDependenciesMeta).every((meta) => (meta as { optional?: boolean }).optional === true)).toBe(true);
  });

  test('the errors for a missing optional package give the install command that package.json pins', () => {
    const peers = packageJson.peerDependencies as Record<string, string>;
    expect(OPTIONAL_PACKAGES.webgpu).toBe(`webgpu@${peers.webgpu}`);
    expect(OPTIONAL_PACKAGES.puppeteer).toBe(`puppeteer-core@${peers['puppeteer-core']}`);
  });

  test('the installed CLI works without the optional packages and asks for one by name when it is needed', () => {
    const tenas = path.join(project, 'node_modules', 'tenas-web', 'bin', 'tenas.mjs');
    expect(mustRun(process.execPath, [tenas, '--version'], project).trim()).toContain(packageJson.version);
    const webgpu = run(process.execPath, [tenas, 'score', '--space', 'nb201', '--net', 'ntk', '--arch', '|none~0|+|none~0|none~1|+|none~0|none~1|none~2|', '--backend', 'webgpu'], project);
    expect(webgpu.status).toBe(2);
    expect(webgpu.stderr).toMatch(/^tenas: error: .*optional package webgpu.*npm install webgpu@0\.6\.2/m);
    const bench = run(process.execPath, [tenas, 'browser-bench'], project);
    expect(bench.status).toBe(2);
    expect(bench.stderr).toMatch(/^tenas: error: .*optional package puppeteer-core.*npm install puppeteer-core@/m);
  });

  test('the README examples typecheck under moduleResolution bundler and nodenext', async () => {
    mkdirSync(path.join(project, 'readme'), { recursive: true });
    writeFileSync(path.join(project, 'readme', 'node.ts'), readmeExample('node'));
    writeFileSync(path.join(project, 'readme', 'browser.ts'), readmeExample('browser'));
    writeFileSync(path.join(project, 'readme', 'browser-node-loader.ts'), "import { loadEmbeddedCifar } from 'tenas-web';\nawait loadEmbeddedCifar();\n");
    const node = { lib: ['ES2022'], types: ['node'] };
    const browser = { lib: ['ES2022', 'DOM'], types: [], customConditions: ['browser'] };
    const nodenext = { module: 'NodeNext', moduleResolution: 'NodeNext' };
    const bundler = { module: 'ESNext', moduleResolution: 'Bundler' };
    const [nodeNext, nodeBundler, browserNext, browserBundler, misuse] = await Promise.all([
      typecheck('node-nodenext', ['node.ts'], { ...node, ...nodenext }),
      typecheck('node-bundler', ['node.ts'], { ...node, ...bundler }),
      typecheck('browser-nodenext', ['browser.ts'], { ...browser, ...nodenext }),
      typecheck('browser-bundler', ['browser.ts'], { ...browser, ...bundler }),
      // Browser code does not see the Node-only loaders.
      typecheck('browser-node-loader', ['browser-node-loader.ts'], { ...browser, ...bundler }),
    ]);
    expect({ nodeNext, nodeBundler, browserNext, browserBundler }).toEqual({ nodeNext: '', nodeBundler: '', browserNext: '', browserBundler: '' });
    expect(misuse).toMatch(/has no exported member (named )?'loadEmbeddedCifar'/);
  });

  test.each(EXAMPLES)('the %s example bundles with no configuration', (example) => {
    const build = builds.get(example)!;
    expect(build.status, `${build.stdout}\n${build.stderr}`).toBe(0);
    expect(build.stdout + build.stderr).not.toMatch(/\bERROR\b|node:fs|Could not resolve/);
    const dist = path.join(project, 'examples', example, 'dist');
    const outputs = readdirSync(dist, { recursive: true }).map(String);
    if (example === 'esbuild') return expect(outputs).toEqual(['main.js']);
    // webpack and Vite emit the pool's worker and the CIFAR file beside the app by themselves.
    expect(outputs.filter((file) => file.endsWith('.bin'))).toHaveLength(1);
    expect(outputs.filter((file) => file.endsWith('.js'))).toHaveLength(2);
  });
});

describe.skipIf(!chrome)(chrome ? 'the example apps in headless Chromium' : 'the example apps in headless Chromium (SKIPPED: no Chromium binary found; apt-get install -y chromium or set CHROME_PATH)', () => {
  let chromium: LaunchedChromium;
  beforeAll(async () => {
    chromium = await launchChromium({ chrome });
  });

  /** Opens `page` of the app in `folder` and waits until it says it is done (or failed). */
  async function runApp(folder: string, page = 'index.html'): Promise<{ state?: string; text: string; errors: string[] }> {
    const server = await startServer({ root: path.join(project, folder) });
    const tab = await chromium.browser.newPage();
    try {
      const errors: string[] = [];
      tab.on('pageerror', (error) => errors.push(String(error)));
      await tab.goto(new URL(page, server.url).href, { waitUntil: 'load' });
      await tab.waitForFunction(() => document.body.dataset.state !== undefined, { timeout: 150_000, polling: 250 });
      const result = await tab.evaluate(() => ({ state: document.body.dataset.state, text: document.querySelector('#result')?.textContent ?? '' }));
      return { ...result, errors };
    } finally {
      await tab.close();
      await server.close();
    }
  }
  afterAll(async () => {
    await chromium?.close();
  });

  test.each([
    ['webpack', 'a tiny search with one worker on the embedded images', 'examples/webpack', NB201_ARCH],
    ['Vite', 'a tiny search with one worker on the embedded images', 'examples/vite/dist', NB201_ARCH],
    ['esbuild', 'the κ of one cell', 'examples/esbuild', /^κ = \d+(\.\d)?$/],
  ] as const)('the %s app runs %s', async (_bundler, _what, folder, expected) => {
    const result = await runApp(folder);
    expect(result.text).toMatch(expected);
    expect(result.state).toBe('done');
    expect(result.errors).toEqual([]);
  }, 180_000);

  test('a worker or data file that is not served fails with the URL tried and the fix', async () => {
    const folder = path.join(project, 'missing-files');
    mkdirSync(folder, { recursive: true });
    writeFileSync(
      path.join(folder, 'main.js'),
      `import { Engine, fetchEmbeddedCifar } from 'tenas-web';
const engine = await Engine.create({ backend: 'wasm' });
const messages = await Promise.all([
  engine.search({ synthetic: true, workers: 1, ntkBatch: 2, repeats: 1, regionPatches: 2, regionBatches: 1 }).then(() => 'searched', (error) => error.message),
  fetchEmbeddedCifar().then(() => 'fetched', (error) => error.message),
  fetchEmbeddedCifar('missing.bin').then(() => 'fetched', (error) => error.message),
]);
document.querySelector('#result').textContent = messages.join('\\n');
document.body.dataset.state = 'done';
`,
    );
    writeFileSync(path.join(folder, 'index.html'), '<!doctype html><meta charset="utf-8"><script type="module" src="bundle.js"></script><body><output id="result"></output></body>');
    await build({ absWorkingDir: project, entryPoints: [path.join(folder, 'main.js')], outfile: path.join(folder, 'bundle.js'), bundle: true, format: 'esm', platform: 'browser', logLevel: 'silent' });
    const result = await runApp('missing-files');
    const [worker, noDataUrl, missingData] = result.text.split('\n');
    expect(worker).toMatch(/^the pool's worker script could not be fetched from http:\/\/127\.0\.0\.1:\d+\/worker\.js \(HTTP 404\): serve tenas-web\/worker .* set env\.workerUrl/);
    expect(noDataUrl).toMatch(/^no URL for the embedded CIFAR-10 images: pass the URL .* or set env\.dataUrl/);
    expect(missingData).toMatch(/^could not fetch the embedded CIFAR-10 images from http:\/\/127\.0\.0\.1:\d+\/missing\.bin \(HTTP 404\): serve tenas-web\/data\/cifar10-test-1000\/cifar10_test_first1000\.bin/);
  });
});
