import { TenasInputError } from '../../errors.js';
import type { MeasureContext } from '../indicator.js';

type Floats = Float32Array | Float64Array;

export interface CrossEntropy<T extends Floats = Float32Array> {
  /** Mean over the batch of −log softmax(logits)[label]. */
  readonly loss: number;
  /** ∂loss/∂logits, `batch × classes`: (softmax − one-hot) / batch, in the logits' precision. */
  readonly gradient: T;
}

/** PyTorch's `F.cross_entropy` (mean reduction), computed in float64 from float32 (or float64) logits. */
export function crossEntropy<T extends Floats = Float32Array>(logits: T, labels: Int32Array, classes: number): CrossEntropy<T> {
  const batch = labels.length;
  if (logits.length !== batch * classes) throw new RangeError(`cross-entropy: ${logits.length} logits for ${batch} labels × ${classes} classes`);
  const gradient = (logits instanceof Float64Array ? new Float64Array(batch * classes) : new Float32Array(batch * classes)) as T;
  let loss = 0;
  for (let n = 0; n < batch; n++) {
    const row = logits.subarray(n * classes, (n + 1) * classes);
    const label = labels[n];
    if (!(label >= 0 && label < classes)) throw new TenasInputError(`label ${label} of sample ${n} is not a class number 0…${classes - 1}; check the labels match the data set's classes`);
    let max = -Infinity;
    for (const value of row) max = Math.max(max, value);
    let total = 0;
    for (const value of row) total += Math.exp(value - max);
    const logNormaliser = max + Math.log(total);
    loss += (logNormaliser - row[label]) / batch;
    for (let k = 0; k < classes; k++) gradient[n * classes + k] = (Math.exp(row[k] - logNormaliser) - (k === label ? 1 : 0)) / batch;
  }
  return { loss, gradient };
}

/** The labels of every batch, or a clear error naming the indicator that needs them and how to supply them. */
export function requireLabels(context: MeasureContext, indicator: string): readonly Int32Array[] {
  const { labels, inputs, batch } = context;
  if (!labels || labels.length !== inputs.length || labels.some((batchLabels) => batchLabels.length !== batch)) {
    throw new TenasInputError(
      `${indicator} needs class labels and this data has none; use the embedded CIFAR-10 images, a folder of images with one sub-folder per class, or --labels Y.npy with --input`,
    );
  }
  return labels;
}
