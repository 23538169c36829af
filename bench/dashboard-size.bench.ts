/**
 * The dashboard's download size: what the first load fetches (the page, its entry script and
 * stylesheet) and what the analyst's page adds (the SQL editor, loaded on demand), gzip -9 and
 * brotli, as the gateway or a proxy in front of it would send them. Builds web/dist first.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';
import { build } from 'vite';

const root = fileURLToPath(new URL('..', import.meta.url));
const dist = join(root, 'web', 'dist');
await build({ configFile: join(root, 'web', 'vite.config.ts') });

const page = readFileSync(join(dist, 'index.html'), 'utf8');
const firstLoad = [
  'index.html',
  ...[...page.matchAll(/(?:src|href)="\/(assets\/[^"]+)"/g)].map((m) => m[1]!),
];
const lazy = readdirSync(join(dist, 'assets'))
  .map((name) => `assets/${name}`)
  .filter((name) => !firstLoad.includes(name));

function sizes(files: string[]) {
  return files.reduce(
    (sum, file) => {
      const bytes = readFileSync(join(dist, file));
      return {
        raw: sum.raw + bytes.length,
        gzip: sum.gzip + gzipSync(bytes, { level: 9 }).length,
        brotli:
          sum.brotli + brotliCompressSync(bytes, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }).length,
      };
    },
    { raw: 0, gzip: 0, brotli: 0 },
  );
}

const kb = (n: number) => `${(n / 1024).toFixed(1)} KB`;
const first = sizes(firstLoad);
const editor = sizes(lazy);
console.log('| load | files | raw | gzip -9 | brotli 11 |');
console.log('|---|---|---:|---:|---:|');
console.log(
  `| first load (sign-in, contributor, council) | ${firstLoad.join(', ')} | ${kb(first.raw)} | ${kb(first.gzip)} | ${kb(first.brotli)} |`,
);
console.log(
  `| + analyst's SQL editor (on demand) | ${lazy.join(', ')} | ${kb(editor.raw)} | ${kb(editor.gzip)} | ${kb(editor.brotli)} |`,
);
console.log(
  `| analyst page in all | | ${kb(first.raw + editor.raw)} | ${kb(first.gzip + editor.gzip)} | ${kb(first.brotli + editor.brotli)} |`,
);
