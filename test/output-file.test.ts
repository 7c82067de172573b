// The CLI's one way of writing output files: checked before the work, atomic for regular files,
// written in place for devices and pipes, through symlinks to their targets.
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, createReadStream, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { prepareOutputFile, writeOutputFile } from '../src/cli/output-file.js';
import { TenasInputError } from '../src/errors.js';

const isRoot = process.getuid?.() === 0;

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'tenas-output-file-'));
});
afterEach(() => {
  chmodSync(dir, 0o755);
  rmSync(dir, { recursive: true, force: true });
});

const inDir = (name: string) => path.join(dir, name);

async function expectRefused(target: string, message: RegExp, options?: { regularOnly?: boolean }): Promise<void> {
  const failure = prepareOutputFile(target, '--json', options);
  await expect(failure).rejects.toBeInstanceOf(TenasInputError);
  await expect(failure).rejects.toThrow(message);
}

/**
 * Root ignores file permissions (CAP_DAC_OVERRIDE), so as root the check runs through the CLI in a
 * child process without that capability (util-linux `setpriv`), where permissions apply to it too.
 */
function expectRefusedWithoutOverride(target: string, message: RegExp): void {
  const dropped = '-dac_override,-dac_read_search';
  const cli = path.join(import.meta.dirname, '..', 'bin', 'tenas.mjs');
  const child = spawnSync('setpriv', [`--inh-caps=${dropped}`, `--bounding-set=${dropped}`, '--', process.execPath, cli, 'search', '--synthetic', '--batch', '4', '--repeats', '1', '--patches', '10', '--workers', '0', '--quiet', '--json', target], { encoding: 'utf8' });
  expect(child.error).toBeUndefined();
  expect(child.stderr).toMatch(message);
  expect(child.status).toBe(2);
}

describe('prepareOutputFile + writeOutputFile', () => {
  it('creates a new file through a temporary name and leaves nothing else', async () => {
    const output = await prepareOutputFile(inDir('new.json'), '--json');
    expect(output.kind).toBe('new');
    await writeOutputFile(output, '{"a": 1}\n');
    expect(readFileSync(inDir('new.json'), 'utf8')).toBe('{"a": 1}\n');
    expect(readdirSync(dir)).toEqual(['new.json']);
  });

  it('replaces a regular file whole and keeps its permissions', async () => {
    writeFileSync(inDir('old.json'), 'old content that is longer than the new one');
    chmodSync(inDir('old.json'), 0o640);
    const output = await prepareOutputFile(inDir('old.json'), '--json');
    expect(output.kind).toBe('regular');
    await writeOutputFile(output, 'new');
    expect(readFileSync(inDir('old.json'), 'utf8')).toBe('new');
    expect(statSync(inDir('old.json')).mode & 0o777).toBe(0o640);
    expect(readdirSync(dir)).toEqual(['old.json']);
  });

  it('writes through a symlink to its target and keeps the link', async () => {
    mkdirSync(inDir('real'));
    writeFileSync(inDir('real/target.json'), 'old');
    symlinkSync(path.join('real', 'target.json'), inDir('link.json'));
    const output = await prepareOutputFile(inDir('link.json'), '--json');
    expect(output.target).toBe(path.join(dir, 'real', 'target.json'));
    await writeOutputFile(output, 'new');
    expect(lstatSync(inDir('link.json')).isSymbolicLink()).toBe(true);
    expect(readlinkSync(inDir('link.json'))).toBe(path.join('real', 'target.json'));
    expect(readFileSync(inDir('real/target.json'), 'utf8')).toBe('new');
    expect(readdirSync(inDir('real'))).toEqual(['target.json']);
  });

  it('creates the target of a dangling symlink, not a file in place of the link', async () => {
    symlinkSync('made.json', inDir('dangling.json'));
    const output = await prepareOutputFile(inDir('dangling.json'), '--json');
    expect(output).toMatchObject({ kind: 'new', target: inDir('made.json') });
    await writeOutputFile(output, 'x');
    expect(lstatSync(inDir('dangling.json')).isSymbolicLink()).toBe(true);
    expect(readFileSync(inDir('made.json'), 'utf8')).toBe('x');
  });

  it('writes a character device in place: /dev/null stays a device', async () => {
    const output = await prepareOutputFile('/dev/null', '--json');
    expect(output.kind).toBe('special');
    await writeOutputFile(output, 'discarded');
    expect(statSync('/dev/null').isCharacterDevice()).toBe(true);
  });

  it('writes a FIFO in place, so a reader at the other end gets the text', async () => {
    const fifo = inDir('pipe');
    execFileSync('mkfifo', [fifo]);
    const output = await prepareOutputFile(fifo, '--json');
    expect(output.kind).toBe('special');
    const received = new Promise<string>((resolve, reject) => {
      let text = '';
      createReadStream(fifo, 'utf8')
        .on('data', (chunk) => (text += chunk))
        .on('end', () => resolve(text))
        .on('error', reject);
    });
    await writeOutputFile(output, 'through the pipe');
    expect(await received).toBe('through the pipe');
    expect(statSync(fifo).isFIFO()).toBe(true);
  });

  it('refuses devices and pipes where a regular file is needed (a resumable row file)', async () => {
    await expectRefused('/dev/null', /--json: \/dev\/null is a character device, not a regular file/, { regularOnly: true });
  });

  it('refuses a folder, a name ending in /, a missing folder and a path through a file', async () => {
    mkdirSync(inDir('folder'));
    await expectRefused(inDir('folder'), /--json: .*folder is a folder; give a file name inside it/);
    await expectRefused(`${inDir('nowhere')}/`, /ends in '\/', so it names a folder/);
    await expectRefused(inDir('missing/out.json'), /--json: the folder .*missing of .* does not exist; create it first/);
    writeFileSync(inDir('file'), '');
    await expectRefused(inDir('file/out.json'), /--json: .*file in .* is not a folder|has a path component that is not a folder/);
    await expectRefused('', /--json needs a file name/);
  });

  it('refuses a symlink loop', async () => {
    symlinkSync('b', inDir('a'));
    symlinkSync('a', inDir('b'));
    await expectRefused(inDir('a'), /--json: .*a is a loop of symlinks/);
  });

  it('refuses a folder where no file can be created, even by root (/sys)', async () => {
    await expectRefused('/sys/tenas-output.json', /--json: cannot create files in the folder \/sys \(permission denied\)/);
  });

  it('refuses a read-only file and a folder it cannot create files in', async () => {
    writeFileSync(inDir('locked.json'), 'keep');
    chmodSync(inDir('locked.json'), 0o444);
    mkdirSync(inDir('sealed'));
    chmodSync(inDir('sealed'), 0o555);
    const cases: [string, RegExp][] = [
      [inDir('locked.json'), /--json: .*locked\.json is read-only/],
      [inDir('sealed/out.json'), /--json: cannot create files in the folder .*sealed/],
    ];
    for (const [target, message] of cases) {
      if (isRoot) expectRefusedWithoutOverride(target, message);
      else await expectRefused(target, message);
    }
    expect(readFileSync(inDir('locked.json'), 'utf8')).toBe('keep');
  });

  it('keeps the old content when the write fails, and leaves no temporary file', async () => {
    writeFileSync(inDir('kept.json'), 'old');
    const output = await prepareOutputFile(inDir('kept.json'), '--json');
    // The file turns into a folder while the work runs: nothing is renamed over it.
    rmSync(inDir('kept.json'));
    mkdirSync(inDir('kept.json'));
    await expect(writeOutputFile(output, 'new')).rejects.toThrow(/--json: .*kept\.json became a folder/);
    expect(readdirSync(dir)).toEqual(['kept.json']);
  });
});
