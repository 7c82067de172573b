import { nb201NtkNetwork, nb201ThinNetwork } from './networks.js';
import { NB201_EDGES, NB201_OPS, formatNb201Mask, fullSupernetMask, maskToArch, parseNb201Mask } from './arch.js';
import type { SearchSpace } from '../space.js';

export const nb201Space: SearchSpace = {
  name: 'nb201',
  ops: NB201_OPS,
  cellTypes: ['cell'],
  edgeCount: NB201_EDGES.length,
  edgeGroups: [],
  supernetMask: () => [fullSupernetMask()],
  ntkNetwork: (mask, classes, inputSize) => nb201NtkNetwork({ mask: mask[0], classes, inputSize }),
  thinNetwork: (mask, classes) => nb201ThinNetwork({ mask: mask[0], classes }),
  parseArchitecture: (text) => [parseNb201Mask(text)],
  formatMask: (mask) => formatNb201Mask(mask[0]),
  formatArchitecture: (mask) => maskToArch(mask[0]),
};
