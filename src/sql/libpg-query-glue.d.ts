// The emscripten glue inside libpg-query: a factory for the WASM module (see pg-parser.ts).
declare module 'libpg-query/wasm/libpg-query.js' {
  const factory: unknown;
  export default factory;
}

// The compiled parser, as Workers bundle a `.wasm` import: a WebAssembly.Module.
declare module 'libpg-query/wasm/libpg-query.wasm' {
  const wasm: object;
  export default wasm;
}
