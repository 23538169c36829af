/**
 * `/openapi.json` and a `/docs` page. The page's viewer (Swagger UI) is served from this process,
 * not from a CDN, so it works behind firewalls and offline.
 */
import { Hono } from 'hono';
import type { AppDependencies, AppEnv } from '../context.ts';

export const DOCS_ASSETS = {
  'swagger-ui.css': 'text/css; charset=utf-8',
  'swagger-ui-bundle.js': 'text/javascript; charset=utf-8',
} as const;

const PAGE = `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>dpgate API</title>
  <link rel="stylesheet" href="/docs/assets/swagger-ui.css">
</head>
<body>
  <div id="api"></div>
  <script src="/docs/assets/swagger-ui-bundle.js"></script>
  <script src="/docs/assets/init.js"></script>
</body>
</html>`;

const INIT = `window.ui = SwaggerUIBundle({ url: '/openapi.json', dom_id: '#api', deepLinking: true });`;

export function docsRoutes(deps: AppDependencies) {
  return new Hono<AppEnv>()
    .get('/docs', (c) => c.html(PAGE))
    .get('/docs/assets/init.js', (c) =>
      c.body(INIT, 200, { 'content-type': 'text/javascript; charset=utf-8' }),
    )
    .get('/docs/assets/:name', async (c) => {
      const name = c.req.param('name');
      const type = DOCS_ASSETS[name as keyof typeof DOCS_ASSETS];
      const bytes = type ? await deps.readAsset?.(name) : undefined;
      if (!type || !bytes) return c.notFound();
      return c.body(bytes as Uint8Array<ArrayBuffer>, 200, {
        'content-type': type,
        'cache-control': 'public, max-age=86400',
      });
    });
}
