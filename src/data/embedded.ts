import { parseCifarBinary, type ImageSet } from './cifar.js';
import { nodeBuiltin } from '../pool/node-builtin.js';

/** The default image set shipped with the package: CIFAR-10 test images 0–999 (see its PROVENANCE.md). */
export const EMBEDDED_CIFAR_PATH = 'data/cifar10-test-1000/cifar10_test_first1000.bin';
export const EMBEDDED_CIFAR_SOURCE = 'the embedded CIFAR-10 test images 0-999';

/** Parses the bytes of the embedded file (browser or Node: the caller fetches them). */
export function parseEmbeddedCifar(bytes: Uint8Array): ImageSet {
  return parseCifarBinary(bytes, 'cifar10', EMBEDDED_CIFAR_SOURCE);
}

/** Node: reads the embedded file from the package's `data/` folder. */
export async function loadEmbeddedCifar(): Promise<ImageSet> {
  // Imported lazily so that browser bundles of this module carry no top-level Node built-ins.
  const [{ readFile }, { packageDataPath }] = await Promise.all([nodeBuiltin<typeof import('node:fs/promises')>('node:fs/promises'), import('./package-root.js')]);
  const bytes = await readFile(packageDataPath(EMBEDDED_CIFAR_PATH));
  return parseEmbeddedCifar(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength));
}
