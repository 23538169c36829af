/**
 * The SQL parser's WASM for Workers: imported statically (wrangler bundles `.wasm` imports as
 * compiled modules) and instantiated by hand, because Workers cannot fetch or read it at run time.
 * worker.ts imports this first, before any SQL module loads.
 */
import glue from 'libpg-query/wasm/libpg-query.js';
import wasm from 'libpg-query/wasm/libpg-query.wasm';
import { type ModuleFactory, provideParserWasm } from './sql/pg-parser.ts';

provideParserWasm(glue as ModuleFactory, wasm);
