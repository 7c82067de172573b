import { TenasInputError } from '../errors.js';
import { dartsSpace } from './darts-space.js';
import { nb201Space } from './nb201-space.js';
import type { SearchSpace, SpaceName } from './space.js';

const SPACES: Record<string, SearchSpace> = { nb201: nb201Space, darts: dartsSpace };

export const SPACE_NAMES: SpaceName[] = ['nb201', 'darts'];

export function searchSpace(name: string): SearchSpace {
  const space = SPACES[name];
  if (!space) throw new TenasInputError(`unknown search space '${name}'; choose one of: ${Object.keys(SPACES).join(', ')}`);
  return space;
}
