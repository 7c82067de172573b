// Asset imports resolved by the bundler (esbuild loaders `binary` and `text`) and by the vitest plugin.
declare module '*.wasm' {
  const bytes: Uint8Array;
  export default bytes;
}

declare module '*.wgsl' {
  const source: string;
  export default source;
}
