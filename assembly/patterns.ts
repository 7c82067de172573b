// Activation patterns for the linear-region count: sign bits of ReLU outputs packed per sample,
// and the number of distinct packed rows, counted with an open-addressing hash set.

// Sets bit (bitOffset + t) of row s in `packed` (rows of `words` u32) when act[s, t] > 0. Each word
// of a row gets its bits in a register and one read-modify-write (a layer's bits may share a word
// with the previous layer's): a branch per value on its sign mispredicts half the time.
export function pack_signs(act: usize, n: i32, size: i32, packed: usize, words: i32, bitOffset: i32): void {
  for (let s = 0; s < n; s++) {
    const row = packed + (<usize>(s * words) << 2);
    const src = act + (<usize>(s * size) << 2);
    let t = 0;
    while (t < size) {
      const bit = bitOffset + t;
      const first = bit & 31;
      const end = min(size, t + 32 - first);
      let bits: u32 = 0;
      let shift = first;
      // Four signs per vector compare (lane i is bit i of the mask), then the rest one at a time.
      for (; t + 4 <= end; t += 4) {
        bits |= <u32>i32x4.bitmask(f32x4.gt(v128.load(src + (<usize>t << 2)), f32x4.splat(0))) << shift;
        shift += 4;
      }
      for (; t < end; t++) {
        bits |= <u32>(load<f32>(src + (<usize>t << 2)) > 0) << shift;
        shift++;
      }
      const word = row + (<usize>(bit >>> 5) << 2);
      store<u32>(word, load<u32>(word) | bits);
    }
  }
}

@inline function mix(h: u64): u64 {
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccd;
  h ^= h >> 33;
  h *= 0xc4ceb9fe1a85ec53;
  h ^= h >> 33;
  return h;
}

function rowHash(row: usize, words: i32): u64 {
  let h: u64 = 0x9e3779b97f4a7c15 ^ <u64>words;
  for (let w = 0; w < words; w++) h = mix(h ^ <u64>load<u32>(row + (<usize>w << 2)) + (<u64>w << 32));
  return h;
}

function rowsEqual(a: usize, b: usize, words: i32): bool {
  for (let w = 0; w < words; w++) {
    if (load<u32>(a + (<usize>w << 2)) != load<u32>(b + (<usize>w << 2))) return false;
  }
  return true;
}

// `table` holds `capacity` (a power of two ≥ 2·rows) i32 slots; returns the number of distinct rows.
export function count_distinct_rows(packed: usize, rows: i32, words: i32, table: usize, capacity: i32): i32 {
  memory.fill(table, 0xff, <usize>capacity << 2);
  const maskBits = <u64>(capacity - 1);
  let distinct = 0;
  for (let r = 0; r < rows; r++) {
    const row = packed + (<usize>(r * words) << 2);
    let slot = <i32>(rowHash(row, words) & maskBits);
    while (true) {
      const held = load<i32>(table + (<usize>slot << 2));
      if (held < 0) {
        store<i32>(table + (<usize>slot << 2), r);
        distinct++;
        break;
      }
      if (rowsEqual(packed + (<usize>(held * words) << 2), row, words)) break;
      slot = (slot + 1) & (capacity - 1);
    }
  }
  return distinct;
}

// NASWOT's kernel: adds to K[i, j] (f64, rows × rows) the number of bits in [bitStart, bitEnd)
// where packed rows i and j agree, i.e. the units where samples i and j are on the same side of 0.
export function add_sign_agreements(packed: usize, rows: i32, words: i32, bitStart: i32, bitEnd: i32, k: usize): void {
  if (bitEnd <= bitStart) return;
  const first = bitStart >>> 5;
  const last = (bitEnd - 1) >>> 5;
  let firstMask: u32 = <u32>0xffffffff << (<u32>bitStart & 31);
  const lastMask: u32 = (bitEnd & 31) == 0 ? <u32>0xffffffff : <u32>0xffffffff >>> (32 - (<u32>bitEnd & 31));
  if (first == last) firstMask &= lastMask;
  const span = <f64>(bitEnd - bitStart);
  for (let i = 0; i < rows; i++) {
    const a = packed + (<usize>(i * words) << 2);
    for (let j = i; j < rows; j++) {
      const b = packed + (<usize>(j * words) << 2);
      let differ: i32 = <i32>popcnt<u32>((load<u32>(a + (<usize>first << 2)) ^ load<u32>(b + (<usize>first << 2))) & firstMask);
      for (let w = first + 1; w < last; w++) differ += <i32>popcnt<u32>(load<u32>(a + (<usize>w << 2)) ^ load<u32>(b + (<usize>w << 2)));
      if (last > first) differ += <i32>popcnt<u32>((load<u32>(a + (<usize>last << 2)) ^ load<u32>(b + (<usize>last << 2))) & lastMask);
      const agree = span - <f64>differ;
      const ij = k + (<usize>(i * rows + j) << 3);
      store<f64>(ij, load<f64>(ij) + agree);
      if (j != i) {
        const ji = k + (<usize>(j * rows + i) << 3);
        store<f64>(ji, load<f64>(ji) + agree);
      }
    }
  }
}
