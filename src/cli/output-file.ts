import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { access, chmod, lstat, readlink, realpath, rename, stat, unlink, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import type { Stats } from 'node:fs';
import { TenasInputError } from '../errors.js';
import { fileError } from './output.js';

/**
 * A file the CLI will write when its work is done, checked before the work starts. `target` is the
 * file itself, symlinks followed: a symlink stays a symlink and its target receives the text.
 */
export interface OutputFile {
  /** The option that named it, for messages (`--json`). */
  readonly option: string;
  /** As the user wrote it. */
  readonly path: string;
  readonly target: string;
  /**
   * `new`: created by an atomic rename; `regular`: replaced by an atomic rename (never left half
   * written); `special`: a character device or FIFO (`/dev/null`, `/dev/stdout`, a pipe), written in place.
   */
  readonly kind: 'new' | 'regular' | 'special';
}

export interface OutputFileOptions {
  /** Refuse devices and pipes (for files that are read back, such as resumable row files). */
  readonly regularOnly?: boolean;
}

const MAX_SYMLINK_HOPS = 40;

function kindOf(info: Stats): string {
  if (info.isDirectory()) return 'a folder';
  if (info.isCharacterDevice()) return 'a character device';
  if (info.isBlockDevice()) return 'a block device';
  if (info.isFIFO()) return 'a pipe (FIFO)';
  if (info.isSocket()) return 'a socket';
  return 'a special file';
}

/** Where a dangling symlink chain ends: the path of the file to create. */
async function danglingTarget(path: string, option: string): Promise<string> {
  let current = resolve(path);
  for (let hop = 0; hop < MAX_SYMLINK_HOPS; hop++) {
    const info = await lstat(current).catch(() => undefined);
    if (!info?.isSymbolicLink()) return current;
    current = resolve(dirname(current), await readlink(current));
  }
  throw new TenasInputError(`${option}: ${path} is a chain of more than ${MAX_SYMLINK_HOPS} symlinks; give a plain file name`);
}

async function requireWritable(path: string, message: string): Promise<void> {
  try {
    await access(path, constants.W_OK);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new TenasInputError(code === 'EROFS' ? `${message}: it is on a read-only file system` : `${message} (permission denied)`);
  }
}

async function requireFolder(folder: string, option: string, path: string): Promise<void> {
  const info = await stat(folder).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') throw new TenasInputError(`${option}: the folder ${folder} of ${path} does not exist; create it first or choose another path`);
    throw fileError(error, `${option}: the folder ${folder} of ${path}`);
  });
  if (!info.isDirectory()) throw new TenasInputError(`${option}: ${folder} in ${path} is not a folder; choose another path`);
  // Creating a file is the only reliable test: permissions, read-only mounts, and file systems that
  // refuse new files even to root (/sys) all show up here rather than after the work.
  const probe = temporaryName(folder, basename(path));
  try {
    await writeFile(probe, '', { flag: 'wx' });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const reason = code === 'EROFS' ? 'it is on a read-only file system' : code === 'EACCES' || code === 'EPERM' ? 'permission denied' : (code ?? String(error));
    throw new TenasInputError(`${option}: cannot create files in the folder ${folder} (${reason}); choose another path`);
  }
  await unlink(probe);
}

/** A name next to the output, unique to this process and call. */
function temporaryName(folder: string, name: string): string {
  return join(folder, `.${name}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
}

/**
 * Checks, before any long work, that `path` can receive the output: its folder exists and is
 * writable, it is not a folder, and an existing file may be replaced. Throws a one-line user error
 * naming the option otherwise.
 */
export async function prepareOutputFile(path: string, option: string, options: OutputFileOptions = {}): Promise<OutputFile> {
  if (path.trim() === '') throw new TenasInputError(`${option} needs a file name, got an empty string`);
  if (/[/\\]$/.test(path)) throw new TenasInputError(`${option}: ${path} ends in '${path.at(-1)}', so it names a folder; give a file name, e.g. ${path}result`);
  let info: Stats | undefined;
  try {
    info = await stat(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT') throw fileError(error, `${option}: ${path}`);
  }
  if (info === undefined) {
    const target = await danglingTarget(path, option);
    await requireFolder(dirname(target), option, path);
    return { option, path, target, kind: 'new' };
  }
  if (info.isDirectory()) throw new TenasInputError(`${option}: ${path} is a folder; give a file name inside it, e.g. ${join(path, 'result')}`);
  if (info.isFile()) {
    const target = await realpath(path);
    await requireWritable(target, `${option}: ${path} is read-only`);
    await requireFolder(dirname(target), option, path);
    return { option, path, target, kind: 'regular' };
  }
  if (options.regularOnly || info.isSocket() || info.isBlockDevice()) {
    throw new TenasInputError(`${option}: ${path} is ${kindOf(info)}, not a regular file; give a file name`);
  }
  await requireWritable(path, `${option}: ${path} is not writable`);
  // Devices and pipes are opened through the path as given: /dev/fd/N links do not name a real file.
  return { option, path, target: path, kind: 'special' };
}

/**
 * Writes `text` to a prepared output. A regular (or new) file is written to a temporary name in
 * its folder and renamed over the target, so it holds either its old content or all of the new
 * text, never part of it; the old file's permissions are kept. Devices and pipes are written in place.
 */
export async function writeOutputFile(output: OutputFile, text: string): Promise<void> {
  const { option, path, target } = output;
  const current = await stat(target).catch(() => undefined);
  if (current !== undefined && !current.isFile()) {
    if (current.isDirectory() || current.isSocket() || current.isBlockDevice()) {
      throw new TenasInputError(`${option}: ${path} became ${kindOf(current)} while tenas was running; nothing was written`);
    }
    try {
      await writeFile(target, text);
    } catch (error) {
      throw fileError(error, `${option}: the output ${path}`);
    }
    return;
  }
  const temporary = temporaryName(dirname(target), basename(target));
  try {
    await writeFile(temporary, text, { flag: 'wx' });
    if (current !== undefined) await chmod(temporary, current.mode & 0o7777);
    await rename(temporary, target);
  } catch (error) {
    await unlink(temporary).catch(() => undefined);
    throw fileError(error, `${option}: the output file ${path}`);
  }
}
