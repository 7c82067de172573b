import type { BackendName } from '../engine/backend.js';
import type { SearchSettings } from '../search/settings.js';
import type { ArchScore } from './arch-scorer.js';
import type { CorrelationRow, ScoringKey } from './rows.js';
import type { IndexedArch } from './selection.js';

/** The settings of a scoring run that its rows record (the evaluation network's when it has one). */
export function scoringKeyOfSettings(settings: SearchSettings): ScoringKey {
  const { evalNetwork } = settings;
  return {
    dataset: settings.dataset,
    protocol: settings.protocol,
    seed: settings.seed,
    batch: settings.ntkBatch,
    repeats: settings.repeats,
    patches: settings.regionPatches,
    ...(evalNetwork && { channels: evalNetwork.channels, cells: evalNetwork.cells, evalBatch: evalNetwork.batch }),
  };
}

/** The row of one scored architecture, as `tenas correlate` writes it. */
export function correlationRow(key: ScoringKey, { archIndex, arch }: IndexedArch, score: ArchScore, backend: BackendName, seconds: number): CorrelationRow {
  return { ...key, archIndex, arch, ...score.values, backend, seconds };
}
