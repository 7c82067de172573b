// The bad-input matrix (test/support/bad-input-table.ts): each row runs the CLI's main function in
// this process, on files generated below, and must end as exactly one `tenas: error:` line naming
// the problem, the expected exit code, nothing on stdout, no file created or left half-written, and
// the row's files exactly as they were.
import { createHash } from 'node:crypto';
import { lstatSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COMMANDS, main } from '../src/cli/main.js';
import { MAX_QUOTED_CHARS } from '../src/cli/output.js';
import { makeFixtures, type Fixtures } from './support/bad-input-fixtures.js';
import { badInputTable } from './support/bad-input-table.js';

const dir = mkdtempSync(path.join(tmpdir(), 'tenas-bad-input-'));
const table = badInputTable(dir, COMMANDS);

let fixtures: Fixtures;
beforeAll(async () => {
  fixtures = await makeFixtures(dir);
});
afterAll(async () => {
  await fixtures?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** What must not change about a file: its type, permissions, link target or content. */
function fingerprint(file: string): string {
  const info = lstatSync(file, { throwIfNoEntry: false });
  if (info === undefined) return 'missing';
  if (info.isSymbolicLink()) return `symlink to ${readlinkSync(file)}`;
  if (info.isFile()) return `file ${info.mode.toString(8)} ${createHash('sha256').update(readFileSync(file)).digest('hex')}`;
  return `${info.isDirectory() ? 'folder' : info.isCharacterDevice() ? 'character device' : info.isSocket() ? 'socket' : 'other'} ${info.mode.toString(8)} rdev ${info.rdev}`;
}

/** Every path under the fixture folder, so a created or half-written file shows up. */
function listing(): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' }).sort();
}

const capture = () => {
  let text = '';
  return { write: (chunk: string) => (text += chunk), text: () => text };
};

const title = (argv: readonly string[]) => argv.map((arg) => (arg.length > 60 ? `${arg.slice(0, 40)}…(${arg.length})` : arg)).join(' ').replaceAll(dir, '$DIR') || '(no arguments)';

describe(`bad input (${table.length} rows)`, () => {
  it('has at least 150 rows, all different', () => {
    expect(table.length).toBeGreaterThanOrEqual(150);
    expect(new Set(table.map((row) => JSON.stringify(row.argv))).size).toBe(table.length);
  });

  it.each(table.map((row) => [title(row.argv), row] as const))('tenas %s', async (_title, row) => {
    const files = row.unchanged ?? [];
    const before = files.map(fingerprint);
    const tree = listing();
    const stdout = capture();
    const stderr = capture();

    const exit = await main(row.argv, { stdout, stderr });

    const lines = stderr.text().split('\n').filter((line) => line !== '');
    expect(lines, stderr.text()).toHaveLength(1);
    expect(lines[0]).toMatch(/^tenas: error: /);
    if (typeof row.message === 'string') expect(lines[0]).toContain(row.message);
    else expect(lines[0]).toMatch(row.message);
    expect(exit).toBe(row.exit);
    expect(stdout.text()).toBe('');
    // Quoted input is capped, so the line stays short whatever was passed (paths in $DIR included).
    expect(lines[0].length).toBeLessThan(6 * MAX_QUOTED_CHARS + 4 * dir.length);
    expect(files.map(fingerprint)).toEqual(before);
    expect(listing()).toEqual(tree);
  });
});
