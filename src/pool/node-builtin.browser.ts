/** The browser build's stand-in for `node-builtin.ts`: only reached when code takes a Node-only path by mistake. */
export async function nodeBuiltin<T>(id: string): Promise<T> {
  throw new Error(`${id} is a Node built-in and does not exist in a browser`);
}
