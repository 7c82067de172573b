import { randomBytes } from 'node:crypto';
import { readFile, rename, stat, unlink, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { TenasInputError } from '../errors.js';

/** Where the CLI writes: the process streams in production, buffers in tests. */
export interface CliIO {
  readonly stdout: { write(text: string): unknown };
  readonly stderr: { write(text: string): unknown; isTTY?: boolean; columns?: number };
}

/** Turns a file-system error into a one-line user error naming the file and what went wrong. */
export function fileError(error: unknown, subject: string): Error {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  const problems: Record<string, string> = {
    ENOENT: 'does not exist',
    EACCES: 'cannot be accessed (permission denied)',
    EPERM: 'cannot be accessed (operation not permitted)',
    EISDIR: 'is a folder, not a file',
    ENOTDIR: 'has a path component that is not a folder',
    EROFS: 'is on a read-only file system',
    ENOSPC: 'cannot be written: no space left on the device',
  };
  if (code !== undefined && Object.hasOwn(problems, code)) return new TenasInputError(`${subject} ${problems[code]}`);
  return error instanceof Error ? error : new Error(String(error));
}

/** Reads a whole file as bytes, with one-line errors for missing or unreadable files. */
export async function readInputFile(path: string, what: string): Promise<Uint8Array> {
  try {
    const buffer = await readFile(path);
    return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
  } catch (error) {
    throw fileError(error, `${what} ${path}`);
  }
}

/** Fails early (before a long search) when the folder that should receive `path` is not there. */
export async function checkOutputPath(path: string, option: string): Promise<void> {
  const folder = dirname(resolve(path));
  const info = await stat(folder).catch(() => undefined);
  if (!info?.isDirectory()) throw new TenasInputError(`${option}: the folder ${folder} does not exist; create it first or choose another path`);
  const target = await stat(path).catch(() => undefined);
  if (target?.isDirectory()) throw new TenasInputError(`${option}: ${path} is a folder; give a file name`);
}

/**
 * Writes `text` to a temporary file next to `path` and renames it into place, so `path` either keeps
 * its old content or holds the complete new text, never a half-written file.
 */
export async function writeFileAtomically(path: string, text: string, option: string): Promise<void> {
  await checkOutputPath(path, option);
  const temporary = join(dirname(resolve(path)), `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  try {
    await writeFile(temporary, text, { flag: 'wx' });
    await rename(temporary, path);
  } catch (error) {
    await unlink(temporary).catch(() => undefined);
    throw fileError(error, `${option}: the output file ${path}`);
  }
}

/** JSON with typed arrays written as plain arrays (and non-finite numbers as null, as JSON requires). */
export function toJson(value: unknown): string {
  return `${JSON.stringify(value, (_key, item: unknown) => (ArrayBuffer.isView(item) && !(item instanceof DataView) ? Array.from(item as unknown as ArrayLike<number>) : item), 2)}\n`;
}

/** `m:ss` or `h:mm:ss`. */
export function formatClock(seconds: number): string {
  const total = Math.max(0, Math.round(seconds));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = String(total % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${s}` : `${m}:${s}`;
}

export function formatSeconds(seconds: number): string {
  return seconds < 60 ? `${seconds.toFixed(1)} s` : `${formatClock(seconds)} (${seconds.toFixed(0)} s)`;
}

/** A message on one line: error texts are printed as exactly one line. */
export function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ').trim();
}
