/**
 * The dashboard at `/`: the page and its hashed assets from `web/dist` (built by `npm run
 * build:web`), served by this process, never from a CDN. The page holds no key: it signs in with
 * one the person pastes and keeps it in session storage.
 */
import { Hono } from 'hono';
import { compress } from 'hono/compress';
import type { AppDependencies, AppEnv } from '../context.ts';

const TYPES: Record<string, string> = {
  js: 'text/javascript; charset=utf-8',
  css: 'text/css; charset=utf-8',
  svg: 'image/svg+xml',
  png: 'image/png',
  woff2: 'font/woff2',
};

/** Scripts and data from this origin only; CodeMirror sets element styles, hence inline styles. */
const PAGE_HEADERS = {
  'content-security-policy':
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
  'referrer-policy': 'no-referrer',
  'x-content-type-options': 'nosniff',
  'cache-control': 'no-cache',
};

const NOT_BUILT = `<!doctype html><html lang="en"><meta charset="utf-8"><title>dpgate</title>
<body style="font-family:system-ui;max-width:40rem;margin:4rem auto">
<h1>The dashboard is not built</h1><p>Run <code>npm run build:web</code> (or <code>npm start</code>,
which builds it first). The API works without it: see <a href="/docs">/docs</a>.</p></body></html>`;

export function dashboardRoutes(deps: AppDependencies) {
  const read = deps.readWebAsset;
  return new Hono<AppEnv>()
    .use('/', compress())
    .use('/assets/*', compress())
    .get('/', async (c) => {
      // A runtime with no dashboard bundled (Workers) keeps `/` pointing at the API docs.
      if (!read) return c.redirect('/docs');
      const page = await read('index.html');
      if (!page) return c.html(NOT_BUILT, 503);
      return c.body(page as Uint8Array<ArrayBuffer>, 200, {
        'content-type': 'text/html; charset=utf-8',
        ...PAGE_HEADERS,
      });
    })
    .get('/assets/:name', async (c) => {
      const name = c.req.param('name');
      const type = TYPES[name.split('.').pop() ?? ''];
      // Hashed names only: letters, digits, '-', '_' and one extension; nothing that walks paths.
      const bytes = type && /^[\w-]+\.\w+$/.test(name) ? await read?.(`assets/${name}`) : undefined;
      if (!bytes) return c.notFound();
      return c.body(bytes as Uint8Array<ArrayBuffer>, 200, {
        'content-type': type!,
        'cache-control': 'public, max-age=31536000, immutable',
        'x-content-type-options': 'nosniff',
      });
    });
}
