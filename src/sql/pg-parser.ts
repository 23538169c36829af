/**
 * The PostgreSQL parser (libpg_query compiled to WASM) behind a synchronous `parseSync`, with the
 * WASM instantiated by us rather than by the package's own loader. That loader instantiates at
 * import and looks for the .wasm file beside its script, which a Worker cannot do (it has no script
 * URL and no file system); a Worker imports the .wasm statically and hands it over with
 * `provideParserWasm` before the first parse. On Node the file is read from the package.
 */
import type { ParseResult } from 'libpg-query';

/** The part of the emscripten module this file uses. */
interface ParserModule {
  _malloc(size: number): number;
  _free(pointer: number): void;
  _wasm_parse_query_raw(queryPointer: number): number;
  _wasm_free_parse_result(resultPointer: number): void;
  getValue(pointer: number, type: 'i32'): number;
  UTF8ToString(pointer: number): string;
  stringToUTF8(text: string, pointer: number, maxBytes: number): void;
  lengthBytesUTF8(text: string): number;
}

/** A compiled `WebAssembly.Module` (typed loosely: the project's `lib` has no WebAssembly types). */
export type CompiledWasm = object;

export type ModuleFactory = (options?: {
  instantiateWasm?: (imports: object, receive: (instance: object, module: CompiledWasm) => void) => object;
}) => Promise<ParserModule>;

const { WebAssembly: wasmApi } = globalThis as unknown as {
  WebAssembly: { Instance: new (module: CompiledWasm, imports: object) => object };
};

/** A syntax error from the parser, with its 0-based offset into the query text. */
export class SqlSyntaxError extends Error {
  override name = 'SqlSyntaxError';
  constructor(
    message: string,
    readonly cursorPosition: number,
  ) {
    super(message);
  }
}

let loading: Promise<ParserModule> | undefined;
let parser: ParserModule | undefined;

/**
 * Instantiates the parser from an already compiled module (a Worker's static `.wasm` import) with
 * the emscripten glue's imports. Call before anything imports the SQL modules.
 */
export function provideParserWasm(factory: ModuleFactory, wasm: CompiledWasm): void {
  loading ??= factory({
    instantiateWasm(imports, receive) {
      receive(new wasmApi.Instance(wasm, imports), wasm);
      return {};
    },
  });
}

/** Resolves once `parseSync` can run; on Node, loads the WASM file from the libpg-query package. */
export async function loadParser(): Promise<void> {
  loading ??= import('libpg-query/wasm/libpg-query.js').then((glue) => (glue.default as ModuleFactory)());
  parser = await loading;
}

/** The parse tree of `sql` (one or more statements); raises `SqlSyntaxError` for invalid SQL. */
export function parseSync(sql: string): ParseResult {
  if (!parser) throw new Error('the SQL parser is not loaded yet: await loadParser() first');
  const bytes = parser.lengthBytesUTF8(sql) + 1;
  const queryPointer = parser._malloc(bytes);
  let resultPointer = 0;
  try {
    parser.stringToUTF8(sql, queryPointer, bytes);
    resultPointer = parser._wasm_parse_query_raw(queryPointer);
    if (!resultPointer) throw new Error('the SQL parser ran out of memory');
    // struct PgQueryParseResult { char *parse_tree; char *stderr_buffer; PgQueryError *error; }
    const treePointer = parser.getValue(resultPointer, 'i32');
    const errorPointer = parser.getValue(resultPointer + 8, 'i32');
    if (errorPointer) {
      // struct PgQueryError { char *message; char *funcname; char *filename; int lineno; int cursorpos; }
      const messagePointer = parser.getValue(errorPointer, 'i32');
      const cursor = parser.getValue(errorPointer + 16, 'i32');
      const message = messagePointer ? parser.UTF8ToString(messagePointer) : 'syntax error';
      throw new SqlSyntaxError(message, cursor > 0 ? cursor - 1 : 0);
    }
    return JSON.parse(parser.UTF8ToString(treePointer)) as ParseResult;
  } finally {
    parser._free(queryPointer);
    if (resultPointer) parser._wasm_free_parse_result(resultPointer);
  }
}
