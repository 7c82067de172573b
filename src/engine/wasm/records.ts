/**
 * A record the host writes into WebAssembly memory for a kernel that reads it as an `@unmanaged`
 * class: one 32-bit word per field, in the class's field order. Integer fields are written as their
 * 32-bit pattern (so −1 reads back as −1 in an i32 field), float fields as float32.
 */
export class RecordLayout<Field extends string> {
  readonly bytes: number;
  /** Per field, whether it is a float32 (the records are written per layer and cotangent). */
  private readonly isFloat: readonly boolean[];

  constructor(
    private readonly fields: readonly Field[],
    floats: readonly Field[] = [],
  ) {
    this.bytes = 4 * fields.length;
    this.isFloat = fields.map((field) => floats.includes(field));
  }

  write(buffer: ArrayBuffer, pointer: number, values: Readonly<Record<Field, number>>): void {
    const words = new Uint32Array(buffer, pointer, this.fields.length);
    const floats = new Float32Array(buffer, pointer, this.fields.length);
    this.fields.forEach((field, i) => {
      if (this.isFloat[i]) floats[i] = values[field];
      else words[i] = values[field];
    });
  }

  read(buffer: ArrayBuffer, pointer: number): Record<Field, number> {
    const words = new Uint32Array(buffer, pointer, this.fields.length);
    const floats = new Float32Array(buffer, pointer, this.fields.length);
    return Object.fromEntries(this.fields.map((field, i) => [field, this.isFloat[i] ? floats[i] : words[i]])) as Record<Field, number>;
  }
}

/** `ConvThroughBn` in assembly/conv.ts: a stride-1 conv read through BN, for conv_backward_through_bn. */
export const CONV_THROUGH_BN = new RecordLayout([
  'dy', 'xhat', 'coefficients', 'padded', 'dw', 'totals', 'din', 'wT', 'scratch',
  'cin', 'hin', 'win', 'cout', 'hout', 'wout', 'k', 'pad', 'dil', 'groups', 'accumulate', 'mask', 'winograd',
] as const);

/** `PoolBackward` in assembly/conv.ts: avgpool3_backward's arguments for one sample, run inside conv_backward_through_bn. */
export const POOL_BACKWARD = new RecordLayout(['dy', 'dyScale', 'dx', 'channels', 'h', 'w', 'accumulate', 'withSkip', 'skipScale', 'box', 'reuseBox'] as const, ['dyScale', 'skipScale']);

/** `BnGroupMember` in assembly/batchnorm.ts: one BN of a bn_gradient_coefficients group; dgammaOffset −1 is none. */
export const BN_GROUP_MEMBER = new RecordLayout(['dyScale', 'xhat', 'invstd', 'gamma', 'coefficients', 'dgammaOffset'] as const, ['dyScale']);
