/**
 * `GET /metrics`: Prometheus text format. Not behind API keys (scrapers have none); when the
 * gateway is given a metrics token, the scraper sends it as a bearer token. The figures are
 * operational (rates, latencies, codes, budget left), never values from private rows.
 */
import { timingSafeEqual } from 'node:crypto';
import { Hono } from 'hono';
import type { AppEnv } from '../context.ts';
import type { GatewayMetrics } from '../middleware/metrics.ts';
import { Problem } from '../problem.ts';

export function metricsRoutes(metrics: GatewayMetrics, token: string | undefined) {
  return new Hono<AppEnv>().get('/metrics', async (c) => {
    if (token && !sameSecret(c.req.header('authorization') ?? '', `Bearer ${token}`)) {
      throw new Problem('unauthorized', 'Send the metrics token as "Authorization: Bearer <token>".', {
        headers: { 'www-authenticate': 'Bearer realm="dpgate-metrics"' },
      });
    }
    return c.body(await metrics.render(), 200, { 'content-type': metrics.contentType });
  });
}

function sameSecret(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}
