import type { BenchmarkEntry } from '../spaces/nb201/table.js';

/** The datasets NAS-Bench-201 reports accuracies for. */
export const BENCHMARK_DATASETS = ['cifar10', 'cifar100', 'imagenet16-120'] as const;
export type BenchmarkDataset = (typeof BENCHMARK_DATASETS)[number];

export const DATASET_LABELS: Record<BenchmarkDataset, string> = {
  cifar10: 'CIFAR-10',
  cifar100: 'CIFAR-100',
  'imagenet16-120': 'ImageNet16-120',
};

/** 200-epoch test accuracy (%) of a table entry on the dataset. */
export function benchmarkAccuracy(entry: BenchmarkEntry, dataset: BenchmarkDataset): number {
  return dataset === 'imagenet16-120' ? entry.imagenet16 : entry[dataset];
}

/** TE-NAS on NB201, 4 seeds, searched and evaluated on the same dataset (docs/algorithm.md §14, paper Table 1). */
export const PAPER_SEARCH_ACCURACY: Record<BenchmarkDataset, { mean: number; std: number }> = {
  cifar10: { mean: 93.9, std: 0.47 },
  cifar100: { mean: 71.24, std: 0.56 },
  'imagenet16-120': { mean: 42.38, std: 0.46 },
};

/** The best test accuracy in the space as the paper quotes it (docs/algorithm.md §14). */
export const PAPER_SPACE_OPTIMUM: Record<BenchmarkDataset, number> = {
  cifar10: 94.37,
  cifar100: 73.51,
  'imagenet16-120': 47.31,
};

/**
 * Kendall τ with test accuracy in the paper's figures (Figs. 1, 3, 9; the axis ranges suggest
 * CIFAR-100): κ −0.42, R +0.50, rank(κ) + rank(R) −0.64.
 */
export const PAPER_KENDALL_TAU = { kappa: -0.42, regions: 0.5, combined: -0.64 } as const;
