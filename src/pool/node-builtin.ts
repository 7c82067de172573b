/**
 * Node built-ins without an `import` statement that a browser bundler would try to resolve:
 * `process.getBuiltinModule` (Node ≥ 20.16), else a dynamic import the bundler leaves alone.
 */
export async function nodeBuiltin<T>(id: string): Promise<T> {
  const getBuiltinModule = (process as { getBuiltinModule?: (id: string) => unknown }).getBuiltinModule;
  if (getBuiltinModule) return getBuiltinModule(id) as T;
  return (await import(/* @vite-ignore */ id)) as T;
}
