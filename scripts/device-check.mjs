#!/usr/bin/env node
// `npm run device-check [-- --quick] [-- --out=FILE]`: everything a machine with a real GPU should
// show, in one run of under 10 minutes and one JSON report. It installs what it lacks (Debian's
// chromium and libvulkan1 when run as root, the npm dependencies, the builds), reads the WebGPU
// adapter's facts in Node (Dawn), runs the WebGPU and Chromium golden tests, the NB201 benchmark on
// WebGPU in Node (with the kernel profile) and on WebAssembly for comparison, the benchmark page in
// headless Chromium with the GPU enabled, and a short search on WebGPU.
//
// `--quick` is a small subset for machines without a GPU (SwiftShader): the adapter, the benchmark
// at NTK batch 2 in Node and in Chromium, and a one-round search; no golden tests.
import { spawn, execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync, renameSync } from 'node:fs';
import { cpus, totalmem, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const argv = process.argv.slice(2);
const quick = argv.includes('--quick');
const outArgument = argv.find((arg) => arg.startsWith('--out='));
for (const arg of argv) {
  if (arg !== '--quick' && !arg.startsWith('--out=')) {
    console.error(`device-check: error: unknown argument '${arg}'; use --quick and/or --out=FILE`);
    process.exit(2);
  }
}
const outFile = resolve(outArgument ? outArgument.slice('--out='.length) : 'device-check.json');
if (!existsSync(dirname(outFile))) {
  console.error(`device-check: error: the folder of --out=${outFile} does not exist; create it or pick another file`);
  process.exit(2);
}

const SWIFTSHADER_ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';
/** Chromium on Linux reaches a GPU's WebGPU through Vulkan; headless it needs to be told. */
const GPU_CHROMIUM_FLAGS = '--enable-features=Vulkan --use-vulkan=native --use-angle=vulkan --ignore-gpu-blocklist --enable-gpu';
const started = Date.now();
const scratch = mkdtempSync(join(tmpdir(), 'tenas-device-check-'));
const steps = [];

const hasCommand = (name) => {
  try {
    execFileSync('sh', ['-c', `command -v ${name}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
};

/** Runs one step as a child process; records its status, time and output tail. */
function step(name, command, args, { timeoutSeconds, env = {}, skip } = {}) {
  const record = { name, command: [command, ...args].join(' ').replace(/\s+/g, ' ').trim() };
  steps.push(record);
  if (skip) {
    Object.assign(record, { status: 'skipped', reason: skip });
    console.log(`device-check: ${name}: skipped (${skip})`);
    return Promise.resolve(record);
  }
  console.log(`device-check: ${name}: ${record.command.split('\n')[0].slice(0, 160)}`);
  const begun = performance.now();
  return new Promise((done) => {
    const child = spawn(command, args, { cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {}
    }, timeoutSeconds * 1000);
    child.on('close', (code) => {
      clearTimeout(timer);
      Object.assign(record, {
        status: timedOut ? 'timed-out' : code === 0 ? 'passed' : 'failed',
        exitCode: code,
        seconds: Number(((performance.now() - begun) / 1000).toFixed(2)),
        ...(code === 0 ? {} : { outputTail: (stderr + stdout).slice(-3000) }),
      });
      record.stdout = stdout;
      console.log(`device-check: ${name}: ${record.status} in ${record.seconds} s`);
      done(record);
    });
  });
}

function parseJson(record) {
  const text = record.stdout;
  delete record.stdout;
  if (record.status !== 'passed' && !text) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function vitestCounts(file) {
  if (!existsSync(file)) return undefined;
  const results = JSON.parse(readFileSync(file, 'utf8'));
  const failures = results.testResults.flatMap((suite) => suite.assertionResults.filter((test) => test.status === 'failed').map((test) => test.fullName));
  return { passed: results.numPassedTests, failed: results.numFailedTests, skipped: results.numPendingTests + results.numTodoTests, failures };
}

function machineFacts() {
  let gpu;
  if (hasCommand('nvidia-smi')) {
    try {
      gpu = execFileSync('nvidia-smi', ['--query-gpu=name,driver_version,memory.total', '--format=csv,noheader'], { encoding: 'utf8' }).trim();
    } catch {}
  }
  return { platform: `${process.platform} ${process.arch}`, cpu: cpus()[0]?.model, cores: cpus().length, memoryGiB: Math.round(totalmem() / 2 ** 30), node: process.version, ...(gpu ? { gpu } : {}) };
}

// The adapter as the engine sees it, with the features and limits that matter for profiling.
const ADAPTER_PROBE = `
import { Engine } from './dist/node/index.js';
const engine = await Engine.create({ backend: 'webgpu' });
const device = engine.backend.device;
const limits = {};
for (const name of ['maxStorageBufferBindingSize', 'maxBufferSize', 'maxComputeWorkgroupStorageSize', 'maxComputeInvocationsPerWorkgroup']) limits[name] = device.limits[name];
console.log(JSON.stringify({ ...engine.backend.info, features: [...device.features].sort(), limits }));
engine.dispose();
`;

async function main() {
  const haveChromium = existsSync(SWIFTSHADER_ICD) && hasCommand('chromium');
  const haveVulkan = ['/usr/lib/x86_64-linux-gnu/libvulkan.so.1', '/usr/lib/aarch64-linux-gnu/libvulkan.so.1'].some(existsSync);
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  const missing = haveChromium && haveVulkan ? undefined : 'chromium libvulkan1';
  await step('install Debian packages', 'sh', ['-c', `apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq ${missing}`], {
    timeoutSeconds: 300,
    skip: !missing ? 'chromium and libvulkan1 are installed' : !isRoot || !hasCommand('apt-get') ? `not root with apt-get: install them with sudo apt-get install -y ${missing}` : undefined,
  });
  const setup = await step('npm dependencies and builds', process.execPath, ['scripts/setup.mjs'], { timeoutSeconds: 300 });
  delete setup.stdout;
  if (setup.status !== 'passed') return { machine: machineFacts() };

  // Without a GPU, Dawn and Chromium run SwiftShader; with one, Chromium is told to use it.
  const gpuEnv = quick ? { VK_ICD_FILENAMES: SWIFTSHADER_ICD } : { TENAS_CHROMIUM_FLAGS: GPU_CHROMIUM_FLAGS };
  const cli = (args, timeoutSeconds, env = {}) => step(`tenas ${args[0]}${args.includes('wasm') ? ' (wasm)' : ''}`, process.execPath, ['bin/tenas.mjs', ...args], { timeoutSeconds, env: { ...gpuEnv, ...env } });

  const adapterStep = await step('WebGPU adapter (Node, Dawn)', process.execPath, ['--input-type=module', '-e', ADAPTER_PROBE], { timeoutSeconds: 60, env: gpuEnv });
  const adapter = parseJson(adapterStep);

  let golden;
  if (quick) {
    await step('golden tests (WebGPU in Node, Chromium)', 'npx', ['vitest', 'run'], { skip: '--quick runs no golden tests' });
  } else {
    const resultsFile = join(scratch, 'golden.json');
    const record = await step('golden tests (WebGPU in Node, Chromium)', 'npx', ['vitest', 'run', 'test/golden-webgpu.test.ts', 'test/golden-chromium.test.ts', '--reporter=json', `--outputFile=${resultsFile}`], {
      timeoutSeconds: 240,
      env: gpuEnv,
    });
    delete record.stdout;
    golden = vitestCounts(resultsFile);
  }

  const batch = quick ? ['--batch', '2', '--runs', '1'] : [];
  const benchWebGpu = parseJson(await cli(['bench', '--backend', 'webgpu', '--json', '--profile', ...batch], quick ? 180 : 150));
  const benchWasm = quick ? undefined : parseJson(await cli(['bench', '--backend', 'wasm', '--json', '--profile', '--runs', '1'], 120));
  const benchChromium = parseJson(await cli(['browser-bench', '--json', '--timeout', quick ? '150' : '200', ...(quick ? ['--backend', 'webgpu', ...batch] : [])], quick ? 180 : 230));
  const searchFile = join(scratch, 'search.json');
  // --quick: one pruning round (4 of the 5 ops of every edge at once), the rest as small as allowed.
  const searchArgs = quick ? ['--batch', '2', '--repeats', '1', '--patches', '20', '--prune-number', '4', '--workers', '0'] : ['--repeats', '1', '--workers', '1'];
  const searchStep = await cli(['search', '--backend', 'webgpu', '--quiet', `--json=${searchFile}`, ...searchArgs], quick ? 420 : 240);
  delete searchStep.stdout;
  const search = existsSync(searchFile) ? JSON.parse(readFileSync(searchFile, 'utf8')) : undefined;
  return { machine: machineFacts(), adapter, golden, benchWebGpu, benchWasm, benchChromium, search: search && { arch: search.arch, nb201Index: search.nb201Index, seconds: searchStep.seconds, settings: searchArgs.join(' ') } };
}

let exitCode = 1;
try {
  const results = await main();
  const ran = steps.filter((record) => record.status !== 'skipped');
  const ok = ran.every((record) => record.status === 'passed') && (results.golden === undefined || results.golden.failed === 0);
  for (const record of steps) delete record.stdout;
  const report = { tool: 'tenas device-check', quick, startedAt: new Date(started).toISOString(), seconds: Number(((Date.now() - started) / 1000).toFixed(1)), ok, ...results, steps };
  const temporary = `${outFile}.tmp-${process.pid}`;
  writeFileSync(temporary, `${JSON.stringify(report, null, 2)}\n`);
  renameSync(temporary, outFile);
  console.log(`device-check: ${ok ? 'all steps passed' : 'some steps failed'}; report in ${outFile} (${report.seconds} s)`);
  exitCode = ok ? 0 : 1;
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
process.exit(exitCode);
