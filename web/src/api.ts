/**
 * The gateway's API as the dashboard uses it. The key lives in session storage only: it goes in the
 * Authorization header, never in a URL, and is gone when the tab closes.
 */

const KEY_ITEM = 'dpgate.key';

export type Role = 'analyst' | 'contributor' | 'council';

export interface Me {
  id: string;
  name: string;
  role: Role;
  community_id: string | null;
}

export interface ProblemBody {
  code: string;
  title: string;
  detail: string;
  status: number;
  position?: number;
  issues?: PolicyIssue[];
}

export interface PolicyIssue {
  file?: string;
  line?: number;
  column?: number;
  path: string;
  message: string;
}

export class ApiError extends Error {
  constructor(readonly problem: ProblemBody) {
    super(problem.detail || problem.title);
  }
}

export const session = {
  key: () => sessionStorage.getItem(KEY_ITEM),
  save: (key: string) => sessionStorage.setItem(KEY_ITEM, key),
  clear: () => sessionStorage.removeItem(KEY_ITEM),
};

function headers(extra: Record<string, string> = {}): Record<string, string> {
  const key = session.key();
  return { ...(key ? { authorization: `Bearer ${key}` } : {}), ...extra };
}

async function failure(response: Response): Promise<ApiError> {
  const body = await response.json().catch(() => ({}));
  return new ApiError({
    status: response.status,
    code: 'error',
    title: response.statusText,
    detail: '',
    ...body,
  });
}

export async function get<T>(path: string, signal?: AbortSignal): Promise<T> {
  const response = await fetch(path, { headers: headers(), signal: signal ?? null });
  if (!response.ok) throw await failure(response);
  return response.json() as Promise<T>;
}

export async function post<T>(path: string, body?: unknown, signal?: AbortSignal): Promise<T> {
  const response = await fetch(path, {
    method: 'POST',
    headers: headers(body === undefined ? {} : { 'content-type': 'application/json' }),
    body: body === undefined ? null : JSON.stringify(body),
    signal: signal ?? null,
  });
  if (!response.ok) throw await failure(response);
  return response.json() as Promise<T>;
}

/** A file download that needs the Authorization header, so a plain link will not do. */
export async function download(path: string, filename: string): Promise<void> {
  const response = await fetch(path, { headers: headers() });
  if (!response.ok) throw await failure(response);
  const url = URL.createObjectURL(await response.blob());
  const link = Object.assign(document.createElement('a'), { href: url, download: filename });
  link.click();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

/**
 * Server-sent events read with fetch, because EventSource cannot send an Authorization header.
 * Calls `onEvent` for each event until the stream ends or `signal` aborts.
 */
export async function readEvents(
  path: string,
  onEvent: (event: string, data: unknown) => void,
  signal: AbortSignal,
): Promise<void> {
  const response = await fetch(path, { headers: headers({ accept: 'text/event-stream' }), signal });
  if (!response.ok || !response.body) throw await failure(response);
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += value;
    let end = buffer.indexOf('\n\n');
    while (end >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      let event = 'message';
      const data: string[] = [];
      for (const line of block.split('\n')) {
        if (line.startsWith('event:')) event = line.slice(6).trim();
        else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''));
      }
      if (data.length > 0) onEvent(event, JSON.parse(data.join('\n')));
      end = buffer.indexOf('\n\n');
    }
  }
}

// Shapes of the responses the pages read.

export type Accounting = 'basic' | 'zcdp' | 'rdp';

/** An rdp community's fixed-order Rényi filter, as the gateway computes it. */
export interface RenyiFilter {
  order: number;
  conversion_delta: number;
  budget: number;
  spent: number;
  gaussian_rho_left: number;
  delta_parts: { spent: number; total: number };
  curve: { order: number; rdp: number; epsilon: number }[];
}

export interface Community {
  id: string;
  accounting: Accounting;
  budget: { epsilon: string; delta: string };
  spent: { epsilon: number; delta: string; rho?: string; approx_epsilon?: string };
  remaining: { epsilon: number; delta: number };
  rdp?: RenyiFilter;
  policy_version: string;
  updated_at: string;
}

export interface Charge {
  id: string;
  at: string;
  kind: 'query' | 'training' | 'evaluation';
  subject_id: string;
  description: string;
  principal: { id: string; name: string | null; role: string | null };
  epsilon: string;
  delta: string;
  rho: string | null;
  mechanism: string;
  policy_version: string;
  request_id: string;
  /** rdp only: the charge's own (ε, δ); `epsilon` is what it added to the composed spend. */
  own: { epsilon: number; delta: number } | null;
}

export interface CatalogColumn {
  name: string;
  type: string;
  bounds: [unknown, unknown] | null;
  granularity: number | null;
  public_values: unknown[] | null;
  public_range: [number, number] | null;
  public_domain: string | null;
}

export interface CatalogTable {
  name: string;
  public: boolean;
  privacy_unit: boolean;
  unit_path: string[] | null;
  contributions: { max_rows_per_unit: number; max_groups_per_unit: number } | null;
  population: number | null;
  columns: CatalogColumn[];
}

export interface Catalog {
  role: string;
  policy_version: string;
  accounting: 'basic' | 'zcdp';
  default_mechanism: 'laplace' | 'gaussian';
  reuse_answers: boolean;
  communities: string[];
  limits: Record<string, number>;
  tables: CatalogTable[];
}

export type CellAccuracy =
  | { kind: 'noise'; mechanism: string; scale: number; halfWidth: number; confidence: number }
  | {
      kind: 'interval';
      mechanism: string;
      lower: number;
      upper: number;
      confidence: number;
      approximate: boolean;
    }
  | { kind: 'quantile'; mechanism: string; epsilon: number; resolution: number };

export interface Cost {
  epsilon: number;
  delta: number;
  rho?: number;
  mechanism: string;
}

export interface Answer {
  id: string | null;
  status: string;
  sql?: string;
  columns: string[];
  rows: unknown[][];
  accuracy: (CellAccuracy | null)[][];
  cost: Cost;
  scope: { communities: string[]; narrowed: boolean };
  charged: { community: string; accounting: string; epsilon: string; delta: string; rho: string | null }[];
  remaining: Record<string, { epsilon: number; delta: number }>;
  repeated?: boolean;
  released_at?: string;
}

export interface DryRun {
  dry_run: true;
  public?: boolean;
  cost: Cost;
  scope: { communities: string[]; narrowed: boolean };
  columns?: string[];
  planned_accuracy?: (CellAccuracy | null)[];
  remaining?: Record<string, { epsilon: number; delta: number }>;
}

export interface HistoryQuery {
  id: string;
  status: string;
  sql: string | null;
  created_at: string;
  epsilon: string | null;
  delta: string | null;
  mechanism: string | null;
  communities: string[];
}

export interface JobView {
  id: string;
  status: string;
  spec: Record<string, unknown>;
  cost: Record<string, unknown> | null;
  progress: {
    step: number;
    steps: number;
    epoch: number;
    epsilonSpent: number;
    examplesPerSecond: number;
  } | null;
  error: string | null;
  model_id: string | null;
  created_at: string;
  finished_at: string | null;
}

export interface ApiKey {
  id: string;
  name: string;
  role: Role;
  community: string | null;
  prefix: string;
  created_at: string;
  revoked_at: string | null;
}

export interface NodeReachability {
  reachable: boolean;
  policy_version: string | null;
  same_policy: boolean;
  checked_at: string;
}

export interface FederationNode {
  id: string;
  community: string;
  public_key: string;
  fingerprint: string;
  url: string | null;
  /** null when the gateway holds no federation key and so never contacts the nodes. */
  reachability: NodeReachability | null;
}

export interface Federation {
  gateway: { id: string; public_key: string; fingerprint: string };
  threshold: number;
  max_colluding_nodes: number;
  guaranteed_nodes: number;
  tables: string[];
  node_timeout_ms: number;
  nodes: FederationNode[];
}
