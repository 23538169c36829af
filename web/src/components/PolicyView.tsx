/** The policy in force, as a council reads it: budgets, tables and columns, grants and limits. */
import { Fragment } from 'preact';
import { delta, num } from '../format.ts';

interface ColumnPolicy {
  type: string;
  bounds?: [unknown, unknown];
  granularity?: number;
  public_values?: unknown[];
  public_range?: [number, number];
  public_domain?: string | { from: string; to: string };
  max_distinct_per_unit?: number;
  hidden?: boolean;
}

interface TablePolicy {
  public: boolean;
  unit_path?: string[];
  contributions?: { max_rows_per_unit: number; max_groups_per_unit: number };
  population?: number;
  columns: Record<string, ColumnPolicy>;
}

export interface PolicyDoc {
  privacy_unit: { table: string; column: string };
  communities: { column: string; domain?: string };
  accounting: string;
  default_mechanism: string;
  reuse_answers: boolean;
  budgets: Record<string, { epsilon: number; delta: number }>;
  limits: Record<string, number>;
  tables: Record<string, TablePolicy>;
  access: Record<string, { tables: string[] }>;
  federation?: { tables: string[] };
}

export function domainText(column: {
  public_values?: unknown[] | null;
  public_range?: [number, number] | null;
  public_domain?: string | { from: string; to: string } | null;
}): string {
  if (column.public_values) return `{${column.public_values.map(String).join(', ')}}`;
  if (column.public_range) return `${column.public_range[0]}…${column.public_range[1]}`;
  if (typeof column.public_domain === 'object' && column.public_domain)
    return `days ${column.public_domain.from}…${column.public_domain.to}`;
  if (column.public_domain) return `values of ${column.public_domain}`;
  return '—';
}

export function boundsText(column: {
  bounds?: [unknown, unknown] | null;
  granularity?: number | null;
}): string {
  if (!column.bounds) return '—';
  return `[${String(column.bounds[0])}, ${String(column.bounds[1])}]${column.granularity ? ` step ${column.granularity}` : ''}`;
}

const LIMIT_NAMES: Record<string, string> = {
  max_epsilon_per_query: 'Largest ε per query',
  max_delta_per_query: 'Largest δ per query',
  default_epsilon: 'Default ε',
  default_delta: 'Default δ',
  statement_timeout_ms: 'Statement timeout (ms)',
  max_result_cells: 'Largest result (cells)',
  max_epsilon_per_job: 'Largest ε per training job',
  max_delta_per_job: 'Largest δ per training job',
};

export function LimitsList(props: { limits: Record<string, number> }) {
  return (
    <dl class="facts limits">
      {Object.entries(props.limits).map(([name, value]) => (
        <Fragment key={name}>
          <dt>{LIMIT_NAMES[name] ?? name}</dt>
          <dd>{name.includes('delta') ? delta(value) : num(value)}</dd>
        </Fragment>
      ))}
    </dl>
  );
}

export function PolicyView(props: { policy: PolicyDoc }) {
  const p = props.policy;
  return (
    <div class="policy">
      <dl class="facts">
        <dt>Privacy unit</dt>
        <dd>
          one person:{' '}
          <code>
            {p.privacy_unit.table}.{p.privacy_unit.column}
          </code>
        </dd>
        <dt>Communities by</dt>
        <dd>
          <code>{p.communities.column}</code>
          {p.communities.domain && (
            <>
              {' '}
              (listed in <code>{p.communities.domain}</code>)
            </>
          )}
        </dd>
        <dt>Accounting</dt>
        <dd>
          {p.accounting === 'zcdp'
            ? 'zero-concentrated DP (ρ and pure ε add up, converted to ε)'
            : 'basic composition (ε and δ add up)'}
        </dd>
        <dt>Default mechanism</dt>
        <dd>{p.default_mechanism}</dd>
        <dt>Repeated queries</dt>
        <dd>{p.reuse_answers ? 'answered again from the stored answer, free' : 'charged each time'}</dd>
      </dl>
      <h3>Budgets</h3>
      <table class="compact-table">
        <thead>
          <tr>
            <th scope="col">Community</th>
            <th scope="col" class="num">
              ε
            </th>
            <th scope="col" class="num">
              δ
            </th>
          </tr>
        </thead>
        <tbody>
          {Object.entries(p.budgets).map(([id, b]) => (
            <tr key={id}>
              <th scope="row">{id}</th>
              <td class="num">{num(b.epsilon)}</td>
              <td class="num">{delta(b.delta)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <h3>Tables</h3>
      {Object.entries(p.tables).map(([name, table]) => (
        <details key={name} class="table-policy" open={!table.public}>
          <summary>
            <code>{name}</code>{' '}
            {table.public ? <span class="tag">public</span> : <span class="tag tag-private">private</span>}
            {p.federation?.tables.includes(name) && <span class="tag">on community nodes</span>}
            {table.contributions && (
              <span class="muted small">
                {' '}
                · ≤ {table.contributions.max_rows_per_unit} row(s) per person per group, ≤{' '}
                {table.contributions.max_groups_per_unit} group(s)
              </span>
            )}
            {table.population && <span class="muted small"> · population {table.population}</span>}
          </summary>
          {table.unit_path && (
            <p class="small">
              Linked to a person by <code>{table.unit_path.join(' → ')}</code>
            </p>
          )}
          <table class="compact-table">
            <thead>
              <tr>
                <th scope="col">Column</th>
                <th scope="col">Type</th>
                <th scope="col">Bounds</th>
                <th scope="col">Public domain</th>
              </tr>
            </thead>
            <tbody>
              {Object.entries(table.columns).map(([columnName, column]) => (
                <tr key={columnName}>
                  <th scope="row">
                    <code>{columnName}</code>
                    {column.hidden && <span class="tag">hidden</span>}
                  </th>
                  <td>{column.type}</td>
                  <td>{boundsText(column)}</td>
                  <td>{domainText(column)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </details>
      ))}
      <h3>Who may read what</h3>
      <ul>
        {Object.entries(p.access).map(([role, grant]) => (
          <li key={role}>
            <strong>{role}</strong>:{' '}
            {grant.tables.map((t) => (
              <code key={t}>{t} </code>
            ))}
          </li>
        ))}
      </ul>
      <h3>Limits</h3>
      <LimitsList limits={p.limits} />
    </div>
  );
}
