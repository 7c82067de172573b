import { TenasInputError } from '../../errors.js';
import { nodeBuiltin } from '../../pool/node-builtin.js';

/** NAS-Bench-201 200-epoch test accuracies (percent) of one architecture. */
export interface BenchmarkEntry {
  index: number;
  arch: string;
  cifar10: number;
  cifar100: number;
  imagenet16: number;
}

export interface Nb201Table {
  entries: BenchmarkEntry[];
  /** The entry of a plain NB201 arch string (one op per edge); an error if it is not in the table. */
  lookup(arch: string): BenchmarkEntry;
}

export const NB201_TABLE_PATH = 'data/nb201/nb201_test_acc_200ep.csv';
const EXPECTED_HEADER = 'index,arch,cifar10_test,cifar100_test,imagenet16_test';

function parseNumber(text: string, line: number, column: string): number {
  const value = Number(text);
  if (text === '' || !Number.isFinite(value)) {
    throw new TenasInputError(`the NB201 table is corrupt: line ${line} has ${column} '${text}'; reinstall the package`);
  }
  return value;
}

/** Parses the table's CSV text: `index,arch,cifar10_test,cifar100_test,imagenet16_test,unique_str`. */
export function parseNb201Table(text: string): Nb201Table {
  const lines = text.split('\n');
  if (!lines[0].startsWith(EXPECTED_HEADER)) {
    throw new TenasInputError(`the NB201 table has header '${lines[0].trim()}', expected '${EXPECTED_HEADER},...'; reinstall the package`);
  }
  const entries: BenchmarkEntry[] = [];
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i];
    if (line.trim() === '') continue;
    const fields = line.split(',', 5);
    if (fields.length < 5) throw new TenasInputError(`the NB201 table is corrupt: line ${i + 1} has fewer than 5 columns`);
    entries.push({
      index: parseNumber(fields[0], i + 1, 'index'),
      arch: fields[1],
      cifar10: parseNumber(fields[2], i + 1, 'cifar10_test'),
      cifar100: parseNumber(fields[3], i + 1, 'cifar100_test'),
      imagenet16: parseNumber(fields[4].trim(), i + 1, 'imagenet16_test'),
    });
  }
  const byArch = new Map(entries.map((entry) => [entry.arch, entry]));
  return {
    entries,
    lookup(arch: string): BenchmarkEntry {
      const entry = byArch.get(arch.trim());
      if (entry === undefined) {
        const hint = arch.includes(',')
          ? 'it lists several ops on an edge; the table holds only plain architectures with one op per edge'
          : "use the form '|op~0|+|op~0|op~1|+|op~0|op~1|op~2|' with ops none, skip_connect, nor_conv_1x1, nor_conv_3x3, avg_pool_3x3";
        throw new TenasInputError(`the architecture '${arch}' is not in the NAS-Bench-201 table: ${hint}`);
      }
      return entry;
    },
  };
}

let tablePromise: Promise<Nb201Table> | undefined;

/** Node: loads (once) the table shipped in the package's `data/nb201/` folder. */
export function loadNb201Table(): Promise<Nb201Table> {
  tablePromise ??= (async () => {
    const [{ readFile }, { packageDataPath }] = await Promise.all([nodeBuiltin<typeof import('node:fs/promises')>('node:fs/promises'), import('../../data/package-root.js')]);
    return parseNb201Table(await readFile(packageDataPath(NB201_TABLE_PATH), 'utf8'));
  })();
  tablePromise.catch(() => {
    tablePromise = undefined;
  });
  return tablePromise;
}
