import { useEffect, useRef, useState } from 'preact/hooks';
import {
  type Answer,
  ApiError,
  type Catalog,
  type CellAccuracy,
  type DryRun,
  get,
  type HistoryQuery,
  type Me,
  post,
} from '../api.ts';
import { AnswerTable, accuracyText } from '../components/AnswerTable.tsx';
import { type Bar, ErrorBarChart } from '../components/charts.tsx';
import { boundsText, domainText, LimitsList } from '../components/PolicyView.tsx';
import { SqlBox } from '../components/SqlBox.tsx';
import { Training } from '../components/Training.tsx';
import { delta, mechanismName, num, when } from '../format.ts';
import { message, useDebounced, useLoad } from '../hooks.ts';
import type { SqlEditor } from '../sql-editor.ts';

const FIRST_QUERY = 'SELECT educ, COUNT(*) AS people, AVG(income) AS mean_income\nFROM people\nGROUP BY educ';

interface Request {
  sql: string;
  epsilon: number;
  delta: number | undefined;
  mechanism: 'laplace' | 'gaussian';
}

function body(request: Request, dryRun: boolean) {
  return {
    sql: request.sql,
    epsilon: request.epsilon,
    mechanism: request.mechanism,
    ...(request.delta ? { delta: request.delta } : {}),
    ...(dryRun ? { dry_run: true } : {}),
  };
}

function problemText(error: unknown, sql: string): string {
  if (error instanceof ApiError && typeof error.problem.position === 'number') {
    const before = sql.slice(0, error.problem.position);
    const line = before.split('\n').length;
    const column = before.length - before.lastIndexOf('\n');
    return `${error.message} (line ${line}, column ${column})`;
  }
  return message(error);
}

export function AnalystPage(_props: { me: Me }) {
  const catalog = useLoad((signal) => get<Catalog>('/v1/catalog', signal));
  const [refresh, setRefresh] = useState(0);
  const history = useLoad(
    (signal) => get<{ queries: HistoryQuery[] }>('/v1/queries?limit=20', signal),
    [refresh],
  );
  const [request, setRequest] = useState<Request>({
    sql: FIRST_QUERY,
    epsilon: 0.1,
    delta: undefined,
    mechanism: 'laplace',
  });
  const [dry, setDry] = useState<{ result?: DryRun; error?: string; checking: boolean }>({ checking: false });
  const [answer, setAnswer] = useState<Answer>();
  const [runError, setRunError] = useState<string>();
  const [running, setRunning] = useState(false);
  const editor = useRef<SqlEditor | undefined>(undefined);
  const settled = useDebounced(request, 350);
  const runRef = useRef<() => void>(() => {});

  useEffect(() => {
    if (!catalog.data) return;
    setRequest((r) => ({ ...r, mechanism: catalog.data!.default_mechanism }));
  }, [catalog.data]);

  useEffect(() => {
    if (!settled.sql.trim() || !(settled.epsilon > 0)) return;
    const controller = new AbortController();
    setDry((d) => ({ ...d, checking: true }));
    post<DryRun>('/v1/queries', body(settled, true), controller.signal).then(
      (result) => setDry({ result, checking: false }),
      (error) =>
        controller.signal.aborted || setDry({ error: problemText(error, settled.sql), checking: false }),
    );
    return () => controller.abort();
  }, [settled]);

  const run = async () => {
    setRunning(true);
    setRunError(undefined);
    try {
      setAnswer(await post<Answer>('/v1/queries', body(request, false)));
      setRefresh((r) => r + 1);
    } catch (error) {
      setRunError(problemText(error, request.sql));
    } finally {
      setRunning(false);
    }
  };
  runRef.current = run;

  const limits = catalog.data?.limits ?? {};
  const schema = Object.fromEntries(
    (catalog.data?.tables ?? []).map((t) => [t.name, t.columns.map((c) => c.name)]),
  );
  const update = (patch: Partial<Request>) => setRequest((r) => ({ ...r, ...patch }));

  return (
    <div class="page analyst">
      <aside class="card catalog" aria-labelledby="catalog-title">
        <h2 id="catalog-title">Catalog</h2>
        {catalog.error && <p class="error">{catalog.error}</p>}
        {catalog.data && (
          <>
            <p class="muted small">
              What your role may query under policy <code>{catalog.data.policy_version.slice(0, 8)}</code>.
              Values outside a column’s bounds are clamped; a public domain is released in full, empty groups
              included.
            </p>
            {catalog.data.tables.map((table) => (
              <details key={table.name} open>
                <summary>
                  <code>{table.name}</code>{' '}
                  {table.public ? (
                    <span class="tag">public · free</span>
                  ) : (
                    <span class="tag tag-private">private</span>
                  )}
                </summary>
                {table.contributions && (
                  <p class="small muted">
                    Each person: ≤ {table.contributions.max_rows_per_unit} row(s) per group, ≤{' '}
                    {table.contributions.max_groups_per_unit} group(s)
                    {table.population ? ` · ${table.population} people` : ''}
                  </p>
                )}
                <ul class="columns">
                  {table.columns.map((column) => (
                    <li key={column.name}>
                      <button
                        type="button"
                        class="column-chip"
                        onClick={() => editor.current?.insert(column.name)}
                        title="Insert into the query"
                      >
                        <code>{column.name}</code>
                      </button>
                      <span class="col-type">{column.type}</span>
                      <span class="col-meta">
                        {column.bounds && <>bounds {boundsText(column)}</>}
                        {(column.public_values || column.public_range || column.public_domain) && (
                          <> domain {domainText(column)}</>
                        )}
                      </span>
                    </li>
                  ))}
                </ul>
              </details>
            ))}
            <details>
              <summary>Limits</summary>
              <LimitsList limits={catalog.data.limits} />
            </details>
          </>
        )}
      </aside>

      <div class="work">
        <section class="card" aria-labelledby="query-title">
          <h2 id="query-title">Query</h2>
          <SqlBox
            value={request.sql}
            schema={schema}
            editorRef={editor}
            onChange={(sql) => update({ sql })}
            onRun={() => runRef.current()}
          />
          <div class="controls">
            <label>
              ε
              <input
                type="range"
                min={0.01}
                max={limits.max_epsilon_per_query ?? 1}
                step={0.01}
                value={request.epsilon}
                onInput={(e) => update({ epsilon: Number(e.currentTarget.value) })}
                aria-label="ε (slider)"
              />
              <input
                type="number"
                class="narrow"
                min={0.001}
                max={limits.max_epsilon_per_query}
                step="any"
                value={request.epsilon}
                onInput={(e) => update({ epsilon: Number(e.currentTarget.value) })}
                aria-label="ε"
              />
            </label>
            <label>
              δ
              <input
                type="number"
                class="narrow"
                min={0}
                max={limits.max_delta_per_query}
                step="any"
                placeholder="default"
                value={request.delta ?? ''}
                onInput={(e) =>
                  update({ delta: e.currentTarget.value ? Number(e.currentTarget.value) : undefined })
                }
                aria-label="δ"
              />
            </label>
            <label>
              Mechanism
              <select
                value={request.mechanism}
                onChange={(e) => update({ mechanism: e.currentTarget.value as Request['mechanism'] })}
              >
                <option value="laplace">Laplace (pure ε)</option>
                <option value="gaussian">Gaussian (ε, δ)</option>
              </select>
            </label>
            <button type="button" class="primary" onClick={run} disabled={running || Boolean(dry.error)}>
              {running ? 'Running…' : 'Run query'}
            </button>
            <span class="muted small">Ctrl+Enter runs</span>
          </div>
          <DryRunPanel dry={dry} />
        </section>

        {runError && (
          <p class="error card" role="alert">
            {runError}
          </p>
        )}
        {answer && <Results answer={answer} />}

        <section class="card" aria-labelledby="history-title">
          <h2 id="history-title">Your queries</h2>
          {history.data?.queries.length === 0 && <p class="muted">None yet.</p>}
          <ul class="history">
            {(history.data?.queries ?? []).map((q) => (
              <li key={q.id}>
                <button
                  type="button"
                  class="link history-sql"
                  onClick={() => {
                    editor.current?.setText(q.sql ?? '');
                    void get<Answer>(`/v1/queries/${q.id}`).then(setAnswer, () => {});
                  }}
                >
                  <code>{q.sql}</code>
                </button>
                <span class="muted small">
                  {when(q.created_at)} · {q.status} · ε {num(q.epsilon)}
                  {q.delta && Number(q.delta) > 0 ? ` · δ ${delta(q.delta)}` : ''} ·{' '}
                  {q.communities.join(', ')}
                </span>
              </li>
            ))}
          </ul>
        </section>

        <Training catalog={catalog.data} />
      </div>
    </div>
  );
}

function DryRunPanel(props: { dry: { result?: DryRun; error?: string; checking: boolean } }) {
  const { result, error, checking } = props.dry;
  return (
    <div class="dry-run" aria-live="polite" aria-busy={checking}>
      <h3>
        Before you run it{' '}
        <span class="muted small">{checking ? 'checking…' : 'dry run: no data read, nothing charged'}</span>
      </h3>
      {error && (
        <p class="error" role="alert">
          <span class="status-icon" aria-hidden="true">
            ✕
          </span>{' '}
          {error}
        </p>
      )}
      {!error && result?.public && <p>This reads public tables only: it costs nothing.</p>}
      {!error && result && !result.public && (
        <div class="dry-grid">
          <div>
            <div class="stat-label">Cost to each community</div>
            <div class="stat">
              ε {num(result.cost.epsilon)}
              {result.cost.delta > 0 && <span class="small"> · δ {delta(result.cost.delta)}</span>}
            </div>
            <div class="muted small">
              {mechanismName(result.cost.mechanism)}
              {result.cost.rho !== undefined && ` · ρ ${num(result.cost.rho, 4)}`}
              {result.scope.narrowed && ' · scope narrowed by WHERE'}
            </div>
          </div>
          <div>
            <div class="stat-label">Charged to</div>
            <ul class="remaining">
              {result.scope.communities.map((c) => (
                <li key={c}>
                  <strong>{c}</strong>{' '}
                  <span class="muted small">
                    {result.remaining?.[c] ? `${num(result.remaining[c]!.epsilon)} ε left` : ''}
                  </span>
                </li>
              ))}
            </ul>
          </div>
          <div>
            <div class="stat-label">Expected accuracy (95%)</div>
            <ul class="remaining">
              {(result.columns ?? []).map((column, i) => {
                const acc = result.planned_accuracy?.[i];
                return (
                  <li key={column}>
                    <code>{column}</code>{' '}
                    <span class="small">
                      {acc ? accuracyText(acc) : 'group key, or an interval given with the result'}
                    </span>
                  </li>
                );
              })}
            </ul>
          </div>
        </div>
      )}
    </div>
  );
}

function errorBar(value: number, accuracy: CellAccuracy | null | undefined): Pick<Bar, 'lower' | 'upper'> {
  if (accuracy?.kind === 'noise')
    return { lower: value - accuracy.halfWidth, upper: value + accuracy.halfWidth };
  if (accuracy?.kind === 'interval') return { lower: accuracy.lower, upper: accuracy.upper };
  return {};
}

function Results(props: { answer: Answer }) {
  const a = props.answer;
  const valueColumn = a.columns.findIndex(
    (_, i) => a.rows.some((row) => typeof row[i] === 'number') && a.accuracy.some((acc) => acc[i]),
  );
  const labelColumn = a.columns.findIndex((_, i) => i !== valueColumn && a.accuracy.every((acc) => !acc[i]));
  const bars: Bar[] =
    valueColumn >= 0
      ? a.rows.map((row, r) => {
          const value = Number(row[valueColumn]);
          return {
            label: labelColumn >= 0 ? String(row[labelColumn]) : `row ${r + 1}`,
            value,
            ...errorBar(value, a.accuracy[r]?.[valueColumn]),
          };
        })
      : [];
  return (
    <section class="card" aria-labelledby="results-title">
      <div class="card-head">
        <h2 id="results-title">Result</h2>
        <span class="muted small">
          {a.repeated ? 'Repeated query: the stored answer, no new charge · ' : ''}
          cost ε {num(a.cost.epsilon)}
          {a.cost.delta > 0 ? ` · δ ${delta(a.cost.delta)}` : ''} · {a.rows.length} row(s)
        </span>
      </div>
      <AnswerTable columns={a.columns} rows={a.rows} accuracy={a.accuracy} />
      {bars.length > 1 && (
        <ErrorBarChart
          bars={bars}
          title={`${a.columns[valueColumn]} by ${labelColumn >= 0 ? a.columns[labelColumn] : 'row'}, with 95% intervals`}
        />
      )}
      {Object.keys(a.remaining).length > 0 && (
        <p class="muted small">
          Left after this query:{' '}
          {Object.entries(a.remaining)
            .map(([c, r]) => `${c} ${num(r.epsilon)} ε`)
            .join(' · ')}
        </p>
      )}
    </section>
  );
}
