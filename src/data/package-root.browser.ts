/** The browser build's stand-in for `package-root.ts`: a page has no package folder to read. */
export function packageDataPath(relativePath: string): string {
  throw new Error(`${relativePath} is read from the installed package only in Node; in a browser fetch it (fetchEmbeddedCifar, fetchNb201Table)`);
}
