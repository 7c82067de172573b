import { TenasInputError } from '../errors.js';

export type DatasetName = 'cifar10' | 'cifar100' | 'imagenet16-120' | 'imagenet-1k';

/** Shape and preprocessing constants of a search dataset (docs/algorithm.md §6.1). */
export interface DatasetSpec {
  name: DatasetName;
  classes: number;
  /** Side of the square network input, in pixels. */
  inputSize: number;
  /** Per-channel (R, G, B) mean and std of pixel/255. */
  mean: [number, number, number];
  std: [number, number, number];
  /** Zero padding before the random crop of NTK batches. */
  cropPadding: number;
}

const over255 = (r: number, g: number, b: number): [number, number, number] => [r / 255, g / 255, b / 255];

const SPECS: Record<DatasetName, DatasetSpec> = {
  cifar10: { name: 'cifar10', classes: 10, inputSize: 32, mean: over255(125.3, 123.0, 113.9), std: over255(63.0, 62.1, 66.7), cropPadding: 4 },
  cifar100: { name: 'cifar100', classes: 100, inputSize: 32, mean: over255(129.3, 124.1, 112.4), std: over255(68.2, 65.4, 70.4), cropPadding: 4 },
  'imagenet16-120': {
    name: 'imagenet16-120',
    classes: 120,
    inputSize: 16,
    mean: over255(122.68, 116.66, 104.01),
    std: over255(63.22, 61.26, 65.09),
    cropPadding: 2,
  },
  'imagenet-1k': { name: 'imagenet-1k', classes: 1000, inputSize: 32, mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225], cropPadding: 4 },
};

export const DATASET_NAMES = Object.keys(SPECS) as DatasetName[];

export function isDatasetName(name: string): name is DatasetName {
  return Object.hasOwn(SPECS, name);
}

/** The spec of a dataset; the name is matched case-insensitively (so `ImageNet16-120` works). */
export function datasetSpec(name: string): DatasetSpec {
  const key = name.trim().toLowerCase();
  if (!isDatasetName(key)) {
    throw new TenasInputError(`unknown dataset '${name}'; choose one of ${DATASET_NAMES.join(', ')}`);
  }
  const spec = SPECS[key];
  return { ...spec, mean: [...spec.mean], std: [...spec.std] };
}
