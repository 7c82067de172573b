import { TenasInputError } from '../errors.js';
import { dartsSpace } from './darts/space.js';
import { nb201Space } from './nb201/space.js';
import type { SearchSpace } from './space.js';

/** Every search space, by name: adding a space is one folder under `spaces/` and one line here. */
const SPACES = { nb201: nb201Space, darts: dartsSpace } as const satisfies Record<string, SearchSpace>;

export type SpaceName = keyof typeof SPACES;

export const SPACE_NAMES = Object.keys(SPACES) as readonly SpaceName[];

export function searchSpace(name: string): SearchSpace & { readonly name: SpaceName } {
  const space = (SPACES as Record<string, SearchSpace & { readonly name: SpaceName }>)[name];
  if (!space) throw new TenasInputError(`unknown search space '${name}'; choose one of: ${SPACE_NAMES.join(', ')}`);
  return space;
}
