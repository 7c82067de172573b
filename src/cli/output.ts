import { readFile } from 'node:fs/promises';
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
    ELOOP: 'is a loop of symlinks',
    ENAMETOOLONG: 'is a name too long for the file system',
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

/** The most characters of one input (an argument, a value read from a file) an error line quotes. */
export const MAX_QUOTED_CHARS = 200;

/** `text` cut to MAX_QUOTED_CHARS, saying how long it was. */
export function clipped(text: string): string {
  return text.length <= MAX_QUOTED_CHARS ? text : `${text.slice(0, MAX_QUOTED_CHARS)}… (${text.length} characters)`;
}

/**
 * Caps what an error message quotes of the user's input, whichever code wrote it: any unbroken run
 * of more than MAX_QUOTED_CHARS characters (an arch string, part of a line of an input file) is
 * clipped, and so is every long command-line value with spaces in it (a JSON mask), so an 85 KB
 * argument still gives a short error line.
 */
export function clipInputs(message: string, argv: readonly string[]): string {
  let text = message;
  const values = argv.map((arg) => (/^--[^=]+=/.test(arg) ? arg.slice(arg.indexOf('=') + 1) : arg));
  for (const value of values.filter((item) => item.length > MAX_QUOTED_CHARS && /\s/.test(item)).sort((a, b) => b.length - a.length)) {
    text = text.split(value).join(clipped(value));
  }
  return text.replace(new RegExp(`[^\\s"'\`]{${MAX_QUOTED_CHARS + 1},}`, 'g'), (run) => clipped(run));
}
