// Makes a fresh clone runnable: installs npm dependencies when missing, builds the WebAssembly
// module and the bundles when they are missing or older than their sources, and with `--system`
// also the Debian packages the WebGPU, browser and SLURM tests use (Chromium's SwiftShader, Vulkan
// loader, slurm-wlm and munge).
import { execSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const run = (command) => execSync(command, { cwd: root, stdio: 'inherit' });

function newestMtime(path) {
  const full = join(root, path);
  if (!existsSync(full)) return 0;
  if (!statSync(full).isDirectory()) return statSync(full).mtimeMs;
  return readdirSync(full).reduce((newest, name) => Math.max(newest, newestMtime(join(path, name))), 0);
}

function stale(output, sources) {
  const built = newestMtime(output);
  return built === 0 || sources.some((source) => newestMtime(source) > built);
}

function hasCommand(name) {
  try {
    execSync(`command -v ${name}`, { stdio: 'ignore', shell: '/bin/sh' });
    return true;
  } catch {
    return false;
  }
}

function installSystemPackages() {
  const haveChromium = existsSync('/usr/lib/chromium/vk_swiftshader_icd.json') && hasCommand('chromium');
  const haveVulkan = ['/usr/lib/x86_64-linux-gnu/libvulkan.so.1', '/usr/lib/aarch64-linux-gnu/libvulkan.so.1'].some(existsSync);
  const haveSlurm = ['slurmctld', 'slurmd', 'sbatch', 'munged'].every(hasCommand);
  if (haveChromium && haveVulkan && haveSlurm) return;
  const install = 'apt-get install -y';
  const commands = [
    ...(haveChromium && haveVulkan ? [] : [`${install} chromium libvulkan1`]),
    // Without recommends, which would add SLURM's development plugins.
    ...(haveSlurm ? [] : [`${install} --no-install-recommends slurm-wlm munge`]),
  ];
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  if (isRoot && hasCommand('apt-get')) {
    console.log('setup: installing Debian packages for the WebGPU (SwiftShader), browser and SLURM tests');
    run('apt-get update -qq');
    for (const command of commands) run(`DEBIAN_FRONTEND=noninteractive ${command} -qq`);
    return;
  }
  console.warn(
    'setup: Debian packages are missing, so some of the WebGPU, browser and SLURM tests will be skipped.\n' +
      `       Install them with: ${commands.map((command) => `sudo ${command}`).join(' && ')}`,
  );
}

if (process.argv.includes('--system')) installSystemPackages();
if (!existsSync(join(root, 'node_modules', '.package-lock.json'))) run('npm ci --no-audit --no-fund');
if (stale('build/tenas.wasm', ['assembly', 'asconfig.json']) || stale('build/tenas-fma.wasm', ['assembly', 'asconfig.json'])) run('npm run --silent build:wasm');
if (stale('dist/node/cli.js', ['src', 'shaders', 'build', 'esbuild.config.mjs'])) run('npm run --silent build:js');
if (stale('dist/web/app', ['src', 'shaders', 'build', 'scripts/build-web.mjs'])) run('npm run --silent build:web');
