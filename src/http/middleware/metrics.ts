/**
 * Times every request and reports it by route pattern (`/v1/queries/:id`, never the raw path, so
 * label sets stay bounded) and, for problem responses, by their stable `code`.
 */
import type { MiddlewareHandler } from 'hono';
import { routePath } from 'hono/route';
import type { AppEnv } from '../context.ts';

export interface RequestObservation {
  readonly method: string;
  readonly route: string;
  readonly status: number;
  readonly seconds: number;
  readonly problemCode?: string;
}

export interface RequestMetrics {
  observe(observation: RequestObservation): void;
}

/** What `/metrics` serves: the request observer plus the registry's text exposition. */
export interface GatewayMetrics extends RequestMetrics {
  readonly contentType: string;
  render(): Promise<string>;
}

export function measureRequests(metrics: RequestMetrics): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const started = performance.now();
    await next();
    const matched = routePath(c, -1);
    const route = matched.endsWith('*') ? 'unmatched' : matched;
    const { status } = c.res;
    let problemCode: string | undefined;
    if (status >= 400 && c.res.headers.get('content-type')?.startsWith('application/problem+json')) {
      const body = (await c.res
        .clone()
        .json()
        .catch(() => undefined)) as { code?: unknown } | undefined;
      if (typeof body?.code === 'string') problemCode = body.code;
    }
    metrics.observe({
      method: c.req.method,
      route,
      status,
      seconds: (performance.now() - started) / 1000,
      ...(problemCode ? { problemCode } : {}),
    });
  };
}
