/** A community's ledger: filters, search, CSV export, and each charge opened to what it paid for. */
import { useMemo, useState } from 'preact/hooks';
import { type Accounting, type Charge, type Community, download, get } from '../api.ts';
import { delta, mechanismName, num, when } from '../format.ts';
import { message, useLoad } from '../hooks.ts';
import { AnswerTable } from './AnswerTable.tsx';

interface LedgerPage {
  community: Community;
  charges: Charge[];
  next_cursor: string | null;
}

interface Filters {
  kind: string;
  analyst: string;
  from: string;
  to: string;
}

function ledgerQuery(filters: Filters, extra: Record<string, string> = {}): string {
  const params = new URLSearchParams({ limit: '200', ...extra });
  if (filters.kind) params.set('kind', filters.kind);
  if (filters.analyst.trim()) params.set('analyst', filters.analyst.trim());
  if (filters.from) params.set('from', new Date(filters.from).toISOString());
  if (filters.to) params.set('to', new Date(filters.to).toISOString());
  return params.toString();
}

export function Ledger(props: { community: string; refresh?: number }) {
  const [filters, setFilters] = useState<Filters>({ kind: '', analyst: '', from: '', to: '' });
  const [search, setSearch] = useState('');
  const [more, setMore] = useState<Charge[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const [open, setOpen] = useState<string>();
  const [exportError, setExportError] = useState<string>();
  const base = `/v1/communities/${encodeURIComponent(props.community)}/ledger`;
  const page = useLoad(
    async (signal) => {
      const result = await get<LedgerPage>(`${base}?${ledgerQuery(filters)}`, signal);
      setMore([]);
      setCursor(result.next_cursor);
      return result;
    },
    [props.community, filters, props.refresh],
  );
  const charges = [...(page.data?.charges ?? []), ...more];
  // Under rdp a row's ε is what the charge added to the composed spend; its own (ε, δ) differs.
  const rdp = page.data?.community.accounting === 'rdp';
  const needle = search.trim().toLowerCase();
  const shown = useMemo(
    () =>
      needle
        ? charges.filter((c) =>
            [c.description, c.principal.name ?? '', c.principal.id, c.kind, c.mechanism].some((field) =>
              field.toLowerCase().includes(needle),
            ),
          )
        : charges,
    [charges, needle],
  );
  const loadMore = async () => {
    if (!cursor) return;
    const next = await get<LedgerPage>(`${base}?${ledgerQuery(filters, { cursor })}`);
    setMore((m) => [...m, ...next.charges]);
    setCursor(next.next_cursor);
  };
  const exportCsv = async () => {
    setExportError(undefined);
    try {
      await download(
        `${base}?${ledgerQuery(filters, { format: 'csv', limit: '1000' })}`,
        `${props.community}-ledger.csv`,
      );
    } catch (error) {
      setExportError(message(error));
    }
  };
  const set = (key: keyof Filters) => (event: Event) =>
    setFilters((f) => ({ ...f, [key]: (event.currentTarget as HTMLInputElement).value }));
  return (
    <section class="card" aria-labelledby="ledger-title">
      <div class="card-head">
        <h2 id="ledger-title">Ledger</h2>
        <button type="button" onClick={exportCsv}>
          Export CSV
        </button>
      </div>
      <p class="muted">
        Every charge made to {props.community}’s budget: who asked, what, when, and what it cost.
      </p>
      {exportError && (
        <p class="error" role="alert">
          {exportError}
        </p>
      )}
      <fieldset class="filters">
        <legend class="visually-hidden">Filter the ledger</legend>
        <label>
          Search
          <input
            type="search"
            value={search}
            onInput={(e) => setSearch(e.currentTarget.value)}
            placeholder="SQL, analyst, mechanism…"
          />
        </label>
        <label>
          Kind
          <select value={filters.kind} onChange={set('kind')}>
            <option value="">All</option>
            <option value="query">Queries</option>
            <option value="training">Training</option>
            <option value="evaluation">Evaluation</option>
          </select>
        </label>
        <label>
          Analyst
          <input value={filters.analyst} onChange={set('analyst')} placeholder="key name or id" />
        </label>
        <label>
          From
          <input type="datetime-local" value={filters.from} onChange={set('from')} />
        </label>
        <label>
          To
          <input type="datetime-local" value={filters.to} onChange={set('to')} />
        </label>
      </fieldset>
      {page.error && (
        <p class="error" role="alert">
          {page.error}
        </p>
      )}
      <div class="table-scroll">
        <table class="ledger">
          <caption class="visually-hidden">Charges, newest first</caption>
          <thead>
            <tr>
              <th scope="col">When</th>
              <th scope="col">Who</th>
              <th scope="col">What</th>
              <th scope="col" class="num symbol">
                {rdp ? 'ε added' : 'ε'}
              </th>
              <th scope="col" class="num symbol">
                δ
              </th>
              {rdp && (
                <th scope="col" class="num symbol">
                  own (ε, δ)
                </th>
              )}
              <th scope="col">Mechanism</th>
            </tr>
          </thead>
          <tbody>
            {shown.map((charge) => (
              <ChargeRow
                key={charge.id}
                charge={charge}
                community={props.community}
                rdp={rdp}
                open={open === charge.id}
                onToggle={() => setOpen(open === charge.id ? undefined : charge.id)}
              />
            ))}
          </tbody>
        </table>
      </div>
      {!page.loading && shown.length === 0 && <p class="muted empty">No charges match.</p>}
      <p class="muted small">
        {shown.length} charge{shown.length === 1 ? '' : 's'} shown
        {cursor && (
          <>
            {' · '}
            <button type="button" class="link" onClick={loadMore}>
              Load older charges
            </button>
          </>
        )}
      </p>
    </section>
  );
}

function ChargeRow(props: {
  charge: Charge;
  community: string;
  rdp: boolean;
  open: boolean;
  onToggle: () => void;
}) {
  const { charge } = props;
  return (
    <>
      <tr class={props.open ? 'open' : ''}>
        <td class="nowrap">{when(charge.at)}</td>
        <td>
          {charge.principal.name ?? charge.principal.id.slice(0, 8)}
          {charge.principal.role && <span class="muted small"> · {charge.principal.role}</span>}
        </td>
        <td class="what">
          <button
            type="button"
            class="disclosure"
            aria-expanded={props.open}
            aria-controls={`charge-${charge.id}`}
            onClick={props.onToggle}
          >
            <span class={`kind kind-${charge.kind}`}>{charge.kind}</span>
            {isFederated(charge) && <span class="tag">federated</span>}
            <code>{charge.description}</code>
          </button>
        </td>
        <td class="num">{num(charge.epsilon)}</td>
        <td class="num">{delta(charge.delta)}</td>
        {props.rdp && (
          <td class="num nowrap">
            {charge.own ? `${num(charge.own.epsilon)}, ${delta(charge.own.delta)}` : '—'}
          </td>
        )}
        <td>{mechanismName(charge.mechanism)}</td>
      </tr>
      {props.open && (
        <tr class="detail-row">
          <td colSpan={props.rdp ? 7 : 6} id={`charge-${charge.id}`}>
            <ChargeDetail community={props.community} id={charge.id} />
          </td>
        </tr>
      )}
    </>
  );
}

/** A federated query or training job: computed on the community nodes, charged like any other. */
function isFederated(charge: { mechanism: string; description: string }): boolean {
  return charge.mechanism === 'distributed_discrete_gaussian' || charge.description.startsWith('Federated ');
}

interface Detail {
  kind: string;
  description: string;
  epsilon: string;
  delta: string;
  rho: string | null;
  mechanism: string;
  accounting: Accounting;
  policy_version: string;
  request_id: string;
  communities: string[];
  answer: {
    status: string;
    columns: string[];
    rows: unknown[][];
    accuracy: never[][];
    cost: { epsilon: number; delta: number } | null;
    scope: { narrowed: boolean } | null;
  } | null;
  job: {
    status: string;
    request: Record<string, unknown> | null;
    cost: Record<string, unknown> | null;
    model_card: Record<string, unknown> | null;
  } | null;
}

/** Why a charge cost what it did, in words, from the figures the ledger holds. */
function costReason(d: Detail): string {
  const shared =
    d.communities.length > 1
      ? ` The same request charged ${d.communities.join(', ')} alike: each community pays in full for its own members.`
      : '';
  const eps = num(d.epsilon);
  const mech = mechanismName(d.mechanism).replace(/^./, (c) => c.toUpperCase());
  if (d.mechanism === 'dp_sgd' && d.accounting === 'rdp') {
    return `DP-SGD adds Gaussian noise to clipped per-person gradients at every step; the run entered the ledger by its Rényi curve, charged before training began, and raised the composed spend by ε = ${eps}.${shared}`;
  }
  if (d.mechanism === 'dp_sgd') {
    return `DP-SGD adds Gaussian noise to clipped per-person gradients at every step; the accountant bounds the whole run at ε = ${eps}, δ = ${delta(d.delta)}, charged before training began.${shared}`;
  }
  const calibrated = `${mech} noise calibrated to ε = ${eps}${Number(d.delta) > 0 ? `, δ = ${delta(d.delta)}` : ''}`;
  if (d.accounting === 'zcdp' && Number(d.rho ?? 0) > 0) {
    return `${calibrated}. This community composes under zero-concentrated DP, and this charge is stated as ρ = ${num(d.rho, 4)}${Number(d.epsilon) > 0 ? ` plus ε = ${eps}` : ''}; the running total converts to the ε on the gauge.${shared}`;
  }
  if (d.accounting === 'zcdp') {
    return `${calibrated}. An ε-DP release is also (ξ = ε, ρ = 0)-zCDP (Bun & Steinke 2016); this community composes under zero-concentrated DP, and the ledger charged it in that form (ξ = ${eps}, ρ = 0) because here it leaves more budget than ρ = ε²/2 would.${shared}`;
  }
  if (d.accounting === 'rdp') {
    return `${calibrated}. This community composes every charge by its Rényi curve under a fixed-order filter; ε here is how much this charge raised the composed spend on the gauge, and the ledger lists its own (ε, δ) beside it.${shared}`;
  }
  return `${calibrated}; under basic composition the ε and δ of every charge add up.${shared}`;
}

function ChargeDetail(props: { community: string; id: string }) {
  const detail = useLoad(
    (signal) =>
      get<Detail>(`/v1/communities/${encodeURIComponent(props.community)}/charges/${props.id}`, signal),
    [props.id],
  );
  if (detail.error) return <p class="error">{detail.error}</p>;
  const d = detail.data;
  if (!d) return <p class="muted">Loading…</p>;
  return (
    <div class="charge-detail">
      <h3>Why it cost this</h3>
      <p>{costReason(d)}</p>
      <dl class="facts">
        <dt>ε</dt>
        <dd>{num(d.epsilon, 4)}</dd>
        <dt>δ</dt>
        <dd>{delta(d.delta)}</dd>
        {d.rho && (
          <>
            <dt>ρ (zCDP)</dt>
            <dd>{num(d.rho, 4)}</dd>
          </>
        )}
        <dt>Policy</dt>
        <dd>
          <code>{d.policy_version.slice(0, 12)}</code>
        </dd>
        <dt>Request</dt>
        <dd>
          <code>{d.request_id}</code>
        </dd>
      </dl>
      {d.answer && (
        <>
          <h3>What was released</h3>
          {d.answer.status === 'released' ? (
            <AnswerTable columns={d.answer.columns} rows={d.answer.rows} accuracy={d.answer.accuracy} />
          ) : (
            <p class="muted">
              No answer was released ({d.answer.status}): the charge stands because the failure could depend
              on the data.
            </p>
          )}
        </>
      )}
      {d.job && (
        <>
          <h3>What was trained</h3>
          <p>
            Job status: <strong>{d.job.status}</strong>
            {d.job.model_card ? ' — a model was released with the card below.' : '.'}
          </p>
          {d.job.model_card && <pre class="json">{JSON.stringify(d.job.model_card, null, 2)}</pre>}
        </>
      )}
    </div>
  );
}
