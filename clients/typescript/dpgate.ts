/**
 * A typed client for a dpgate gateway: `import { Dpgate } from 'dpgate/client'`. The request and
 * answer types come from the gateway's OpenAPI document (openapi.d.ts). A refusal or error arrives
 * as a `DpgateError` carrying the problem's stable `code`, and for SQL its `position` in the query.
 */
import type { components } from './openapi.d.ts';

export type Schemas = components['schemas'];
export type Answer = Schemas['Answer'];
export type QueryRequest = Schemas['QueryRequest'];
export type Community = Schemas['Community'];
export type Charge = Schemas['Charge'];
export type Principal = Schemas['Principal'];
export type Health = Schemas['Health'];
export type TrainingJob = Schemas['TrainingJob'];

/** An RFC 9457 problem from the gateway, or a failure to reach it (`code: 'unreachable'`). */
export class DpgateError extends Error {
  override name = 'DpgateError';
  /** Stable machine code: `budget_exhausted`, `syntax_error`, `row_level_output`, `unauthorized`, … */
  readonly code: string;
  /** HTTP status; 0 when the gateway could not be reached. */
  readonly status: number;
  /** For a refused query: the 0-based offset in the SQL text the refusal points at. */
  readonly position: number | undefined;
  readonly requestId: string | undefined;
  /** The whole problem body, with any route-specific fields (`issues`, `short`, …). */
  readonly problem: Readonly<Record<string, unknown>>;

  constructor(status: number, problem: Record<string, unknown>) {
    super(typeof problem.detail === 'string' ? problem.detail : `the gateway answered ${status}`);
    this.status = status;
    this.problem = problem;
    this.code = typeof problem.code === 'string' ? problem.code : 'http_error';
    this.position = typeof problem.position === 'number' ? problem.position : undefined;
    this.requestId = typeof problem.request_id === 'string' ? problem.request_id : undefined;
  }
}

export interface DpgateOptions {
  /** The gateway, e.g. `https://dpgate.example.org`. */
  readonly url: string;
  /** An API key (`Authorization: Bearer …`). */
  readonly key: string;
  /** Milliseconds before a request is abandoned; default 120 000. */
  readonly timeoutMs?: number;
  /** A fetch to use instead of the global one (tests, proxies). */
  readonly fetch?: typeof fetch;
}

export interface QueryOptions {
  readonly epsilon?: number;
  readonly delta?: number;
  readonly mechanism?: 'laplace' | 'gaussian';
  /** Cost, scope and planned accuracy only: nothing is run or charged. */
  readonly dryRun?: boolean;
  /** A retry with the same key returns the same answer, charged once. */
  readonly idempotencyKey?: string;
}

export class Dpgate {
  readonly #url: string;
  readonly #key: string;
  readonly #timeoutMs: number;
  readonly #fetch: typeof fetch;

  constructor(options: DpgateOptions) {
    this.#url = options.url;
    this.#key = options.key;
    this.#timeoutMs = options.timeoutMs ?? 120_000;
    this.#fetch = options.fetch ?? fetch;
  }

  /** Asks one aggregate SELECT; the answer is noisy, with its accuracy and the charge. */
  query(sql: string, options: QueryOptions = {}): Promise<Answer> {
    const body: QueryRequest = {
      sql,
      ...(options.epsilon === undefined ? {} : { epsilon: options.epsilon }),
      ...(options.delta === undefined ? {} : { delta: options.delta }),
      ...(options.mechanism === undefined ? {} : { mechanism: options.mechanism }),
      ...(options.dryRun ? { dry_run: true } : {}),
      ...(options.idempotencyKey === undefined ? {} : { idempotency_key: options.idempotencyKey }),
    } as QueryRequest;
    return this.request<Answer>('POST', '/v1/queries', body);
  }

  /** Who this key is. */
  me(): Promise<Principal> {
    return this.request<Principal>('GET', '/v1/me');
  }

  /** Every community's budget, spend and what is left. */
  async communities(): Promise<Community[]> {
    const body = await this.request<{ communities: Community[] }>('GET', '/v1/communities');
    return body.communities;
  }

  health(): Promise<Health> {
    return this.request<Health>('GET', '/health');
  }

  /** Any route of the API, answered as JSON; problems become `DpgateError`. */
  async request<T>(method: 'GET' | 'POST', path: string, payload?: unknown): Promise<T> {
    const url = new URL(path, this.#url);
    let response: Response;
    try {
      response = await this.#fetch(url, {
        method,
        headers: {
          authorization: `Bearer ${this.#key}`,
          ...(payload === undefined ? {} : { 'content-type': 'application/json' }),
        },
        ...(payload === undefined ? {} : { body: JSON.stringify(payload) }),
        signal: AbortSignal.timeout(this.#timeoutMs),
      });
    } catch (error) {
      const cause = (error as { cause?: { code?: string } }).cause?.code ?? (error as Error).message;
      throw new DpgateError(0, {
        code: 'unreachable',
        detail: `cannot reach the gateway at ${url.origin} (${cause})`,
      });
    }
    const text = await response.text();
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      throw new DpgateError(response.status, {
        code: 'not_json',
        detail: `${url.origin} answered ${response.status} without JSON; is this a dpgate gateway?`,
      });
    }
    if (!response.ok) throw new DpgateError(response.status, body as Record<string, unknown>);
    return body as T;
  }
}
