import { Rng } from '../data/rng.js';
import { TenasInputError } from '../errors.js';
import { enumerateNb201Archs } from '../spaces/nb201/arch.js';

/** One architecture of the space, with its position in `enumerateNb201Archs()` (0..15,624). */
export interface IndexedArch {
  readonly archIndex: number;
  readonly arch: string;
}

/** Slice `index` (1-based, as `--shard K/N` writes it) of `count` interleaved slices. */
export interface Shard {
  readonly index: number;
  readonly count: number;
}

export const WHOLE_SELECTION: Shard = { index: 1, count: 1 };

export const MAX_SHARDS = 100_000;

/** Parses `K/N` (1 ≤ K ≤ N): the K-th of N slices. */
export function parseShard(text: string): Shard {
  const match = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(text);
  const index = match ? Number(match[1]) : Number.NaN;
  const count = match ? Number(match[2]) : Number.NaN;
  if (!match || count < 1 || count > MAX_SHARDS || index < 1 || index > count) {
    throw new TenasInputError(
      `--shard must be K/N with 1 ≤ K ≤ N ≤ ${MAX_SHARDS} (K is 1-based: --shard 1/4 .. --shard 4/4), got '${text}'`,
    );
  }
  return { index, count };
}

/**
 * The architectures to score, in scoring order: all of them in enumeration order, or the first
 * `sample` of one seeded shuffle of the whole space. The shuffle depends only on the seed, so every
 * shard of a run draws the same sample, and a smaller sample is a prefix of a larger one (a run with
 * --sample 100 can be extended to --sample 200 in the same output file).
 */
export function selectArchs(options: { sample?: number; seed: number }): IndexedArch[] {
  const all = enumerateNb201Archs().map((arch, archIndex) => ({ archIndex, arch }));
  if (options.sample === undefined) return all;
  if (!Number.isInteger(options.sample) || options.sample < 1 || options.sample > all.length) {
    throw new TenasInputError(`--sample must be an integer from 1 to ${all.length}, got ${options.sample}`);
  }
  return Rng.stream(options.seed, 'correlate', 'sample').shuffle(all).slice(0, options.sample);
}

/** The selected archs at positions p (0-based) with p mod N = K − 1. */
export function shardOf<T>(selection: readonly T[], shard: Shard): T[] {
  return selection.filter((_, position) => position % shard.count === shard.index - 1);
}
