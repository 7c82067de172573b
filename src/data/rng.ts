import { TenasInputError } from '../errors.js';

/*
 * Seeded random numbers with independent streams, in plain 32-bit arithmetic (no BigInt).
 *
 * Stream key: (seed, ...path) is encoded as a prefix-free sequence of 32-bit words (every element tagged
 * with its type; numbers by their float64 bits, strings by their UTF-16 code units and length; the element
 * count last) and hashed into 128 bits with MurmurHash3_x86_128 rounds (zero-padded to whole blocks).
 * Those 128 bits are the state of a xoshiro128** generator (Blackman & Vigna; period 2^128 − 1). A stream
 * therefore depends only on (seed, path); streams of different keys start at unrelated points of the period.
 */

const TAG_NUMBER = 0x4e554d42; // 'NUMB'
const TAG_STRING = 0x53545247; // 'STRG'
const TWO_POW_32 = 4294967296;
const TWO_POW_53 = 9007199254740992;

const float64Scratch = new DataView(new ArrayBuffer(8));

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

function encodeKey(parts: readonly (number | string)[]): number[] {
  const words: number[] = [];
  for (const part of parts) {
    if (typeof part === 'number') {
      if (!Number.isFinite(part)) throw new TenasInputError(`random stream keys must be finite numbers or strings, got ${part}`);
      float64Scratch.setFloat64(0, part === 0 ? 0 : part, true); // -0 and 0 name the same stream
      words.push(TAG_NUMBER, float64Scratch.getUint32(0, true), float64Scratch.getUint32(4, true));
    } else {
      words.push(TAG_STRING, part.length);
      for (let i = 0; i < part.length; i += 2) {
        words.push(part.charCodeAt(i) | ((i + 1 < part.length ? part.charCodeAt(i + 1) : 0) << 16));
      }
    }
  }
  words.push(parts.length);
  return words;
}

function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return h ^ (h >>> 16);
}

/** MurmurHash3_x86_128 rounds and finaliser over a word sequence, zero-padded to whole 16-byte blocks. */
function murmur3x128(words: readonly number[]): [number, number, number, number] {
  const c1 = 0x239b961b;
  const c2 = 0xab0e9789;
  const c3 = 0x38b34ae5;
  const c4 = 0xa1e38b93;
  let h1 = 0x9e3779b9;
  let h2 = 0x9e3779b9;
  let h3 = 0x9e3779b9;
  let h4 = 0x9e3779b9;
  for (let i = 0; i < words.length; i += 4) {
    let k1 = words[i] | 0;
    let k2 = (words[i + 1] ?? 0) | 0;
    let k3 = (words[i + 2] ?? 0) | 0;
    let k4 = (words[i + 3] ?? 0) | 0;
    k1 = Math.imul(rotl(Math.imul(k1, c1), 15), c2);
    h1 ^= k1;
    h1 = (Math.imul(rotl(h1, 19) + h2, 5) + 0x561ccd1b) | 0;
    k2 = Math.imul(rotl(Math.imul(k2, c2), 16), c3);
    h2 ^= k2;
    h2 = (Math.imul(rotl(h2, 17) + h3, 5) + 0x0bcaa747) | 0;
    k3 = Math.imul(rotl(Math.imul(k3, c3), 17), c4);
    h3 ^= k3;
    h3 = (Math.imul(rotl(h3, 15) + h4, 5) + 0x96cd1c35) | 0;
    k4 = Math.imul(rotl(Math.imul(k4, c4), 18), c1);
    h4 ^= k4;
    h4 = (Math.imul(rotl(h4, 13) + h1, 5) + 0x32ac3b17) | 0;
  }
  const length = words.length * 4;
  h1 ^= length;
  h2 ^= length;
  h3 ^= length;
  h4 ^= length;
  h1 = (h1 + h2 + h3 + h4) | 0;
  h2 = (h2 + h1) | 0;
  h3 = (h3 + h1) | 0;
  h4 = (h4 + h1) | 0;
  h1 = fmix32(h1);
  h2 = fmix32(h2);
  h3 = fmix32(h3);
  h4 = fmix32(h4);
  h1 = (h1 + h2 + h3 + h4) | 0;
  h2 = (h2 + h1) | 0;
  h3 = (h3 + h1) | 0;
  h4 = (h4 + h1) | 0;
  return [h1, h2, h3, h4];
}

export class Rng {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;
  private spareNormal: number | undefined = undefined;

  private constructor(state: readonly [number, number, number, number]) {
    [this.s0, this.s1, this.s2, this.s3] = state;
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 1; // the all-zero state is a fixed point
  }

  /** The stream named by (seed, ...path); e.g. `Rng.stream(seed, 'ntk-data', round, candidate, repeat)`. */
  static stream(seed: number, ...path: (number | string)[]): Rng {
    return new Rng(murmur3x128(encodeKey([seed, ...path])));
  }

  /** Next 32 random bits as an unsigned integer (xoshiro128**). */
  nextU32(): number {
    const s1 = this.s1;
    const result = Math.imul(rotl(Math.imul(s1, 5), 7), 9) >>> 0;
    const t = s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    return result;
  }

  /** Uniform in [0, 1) with 53 random bits. */
  uniform(): number {
    const high = this.nextU32() >>> 5; // 27 bits
    const low = this.nextU32() >>> 6; // 26 bits
    return (high * 67108864 + low) / TWO_POW_53;
  }

  /** Unbiased integer in [0, n), by rejection; 1 ≤ n ≤ 2^53. */
  int(n: number): number {
    if (!Number.isSafeInteger(n) || n < 1) throw new TenasInputError(`Rng.int needs a positive integer bound, got ${n}`);
    if (n <= TWO_POW_32) {
      const limit = TWO_POW_32 - (TWO_POW_32 % n);
      for (;;) {
        const x = this.nextU32();
        if (x < limit) return x % n;
      }
    }
    const limit = TWO_POW_53 - (TWO_POW_53 % n);
    for (;;) {
      const x = (this.nextU32() >>> 5) * 67108864 + (this.nextU32() >>> 6);
      if (x < limit) return x % n;
    }
  }

  /** Standard normal N(0, 1) (Box–Muller; the second value of each pair is kept for the next call). */
  normal(): number {
    if (this.spareNormal !== undefined) {
      const spare = this.spareNormal;
      this.spareNormal = undefined;
      return spare;
    }
    const radius = Math.sqrt(-2 * Math.log(1 - this.uniform())); // 1 − u ∈ (0, 1], so the log is finite
    const angle = 2 * Math.PI * this.uniform();
    this.spareNormal = radius * Math.sin(angle);
    return radius * Math.cos(angle);
  }

  /** Fisher–Yates shuffle in place; returns `items`. */
  shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const item = items[i];
      items[i] = items[j];
      items[j] = item;
    }
    return items;
  }
}
