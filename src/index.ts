// The Node public API: the browser API plus loaders for files, the embedded images and the
// NAS-Bench-201 table.
export * from './browser.js';
export { loadEmbeddedCifar } from './data/embedded.js';
export { loadImageSet } from './data/files.js';
export { loadNb201Table } from './spaces/nb201/table.js';
