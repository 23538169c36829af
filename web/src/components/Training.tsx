/** Training jobs: start one, watch its progress live (server-sent events), read its model card. */
import { Fragment } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { type Catalog, get, type JobView, post, readEvents } from '../api.ts';
import { num, when } from '../format.ts';
import { message, useLoad } from '../hooks.ts';

const EXAMPLE = {
  table: 'people',
  features: ['age', 'educ'],
  label: 'married',
  model: { kind: 'logistic' },
  optimizer: { kind: 'sgd', learning_rate: 0.5 },
  clip_norm: 1,
  batch_size: 100,
  epochs: 1,
  epsilon: 0.5,
  delta: 1e-6,
  accountant: 'rdp',
};

interface JobSummary {
  id: string;
  status: string;
  spec: { table?: string } | null;
  model_id: string | null;
  progress: JobView['progress'];
  created_at: string;
  finished_at: string | null;
}

const TERMINAL = new Set(['succeeded', 'failed', 'cancelled']);

export function Training(props: { catalog: Catalog | undefined }) {
  const [refresh, setRefresh] = useState(0);
  const jobs = useLoad(
    (signal) => get<{ items: JobSummary[] }>('/v1/training-jobs?limit=10', signal),
    [refresh],
  );
  const [spec, setSpec] = useState(JSON.stringify(EXAMPLE, null, 2));
  const [error, setError] = useState<string>();
  const [starting, setStarting] = useState(false);
  const [model, setModel] = useState<string>();
  const start = async (event: Event) => {
    event.preventDefault();
    setError(undefined);
    setStarting(true);
    try {
      await post('/v1/training-jobs', JSON.parse(spec));
      setRefresh((r) => r + 1);
    } catch (failure) {
      setError(
        failure instanceof SyntaxError
          ? `The request is not valid JSON: ${failure.message}`
          : message(failure),
      );
    } finally {
      setStarting(false);
    }
  };
  return (
    <section class="card" aria-labelledby="training-title">
      <h2 id="training-title">Training jobs</h2>
      <form onSubmit={start} class="training-form">
        <label for="job-spec">
          Job request (DP-SGD over a governed table; its whole cost is charged before training starts, up to ε{' '}
          {num(props.catalog?.limits.max_epsilon_per_job)})
        </label>
        <textarea
          id="job-spec"
          class="code-input"
          rows={8}
          spellcheck={false}
          value={spec}
          onInput={(e) => setSpec(e.currentTarget.value)}
        />
        <button type="submit" class="primary" disabled={starting}>
          {starting ? 'Starting…' : 'Start training'}
        </button>
      </form>
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      <ul class="jobs">
        {(jobs.data?.items ?? []).map((job) => (
          <JobRow key={job.id} job={job} onModel={setModel} onDone={() => setRefresh((r) => r + 1)} />
        ))}
      </ul>
      {model && <ModelCard id={model} onClose={() => setModel(undefined)} />}
    </section>
  );
}

function JobRow(props: { job: JobSummary; onModel: (id: string) => void; onDone: () => void }) {
  const [live, setLive] = useState<Pick<JobView, 'status' | 'progress' | 'model_id' | 'error'>>({
    status: props.job.status,
    progress: props.job.progress,
    model_id: props.job.model_id,
    error: null,
  });
  useEffect(() => {
    if (TERMINAL.has(props.job.status)) return;
    const controller = new AbortController();
    readEvents(
      `/v1/training-jobs/${props.job.id}/events`,
      (event, data) => {
        const view = data as JobView;
        setLive({ status: view.status, progress: view.progress, model_id: view.model_id, error: view.error });
        if (event === 'done') props.onDone();
      },
      controller.signal,
    ).catch(() => {});
    return () => controller.abort();
  }, [props.job.id, props.job.status, props.onDone]);
  const p = live.progress;
  const fraction = live.status === 'succeeded' ? 1 : p && p.steps > 0 ? p.step / p.steps : 0;
  return (
    <li class="job">
      <div class="job-head">
        <strong>{props.job.spec?.table ?? 'job'}</strong>
        <span class={`status status-${live.status}`}>{live.status}</span>
        <span class="muted small">{when(props.job.created_at)}</span>
      </div>
      <progress
        class="progress"
        aria-label={`Training on ${props.job.spec?.table ?? 'a table'}`}
        max={100}
        value={Math.round(fraction * 100)}
        aria-valuetext={p ? `step ${p.step} of ${p.steps}, ${Math.round(fraction * 100)}%` : live.status}
      />
      <div class="muted small">
        {p
          ? `step ${p.step} / ${p.steps} · epoch ${num(p.epoch, 2)} · ε spent ${num(p.epsilonSpent)} · ${num(p.examplesPerSecond)} examples/s`
          : 'waiting to start'}
        {live.error && <span class="error"> · {live.error}</span>}
      </div>
      {live.model_id && (
        <button type="button" class="link" onClick={() => props.onModel(live.model_id!)}>
          Model card
        </button>
      )}
    </li>
  );
}

function ModelCard(props: { id: string; onClose: () => void }) {
  const model = useLoad(
    (signal) =>
      get<{ id: string; created_at: string; card: Record<string, unknown> }>(
        `/v1/models/${props.id}`,
        signal,
      ),
    [props.id],
  );
  return (
    <section class="model-card" aria-label="Model card">
      <div class="card-head">
        <h3>Model card</h3>
        <button type="button" class="ghost" onClick={props.onClose}>
          Close
        </button>
      </div>
      {model.error && <p class="error">{model.error}</p>}
      {model.data && (
        <dl class="facts">
          {Object.entries(model.data.card).map(([key, value]) => (
            <Fragment key={key}>
              <dt>{key.replace(/_/g, ' ')}</dt>
              <dd>
                <CardValue value={value} />
              </dd>
            </Fragment>
          ))}
        </dl>
      )}
    </section>
  );
}

/** A model card field: numbers rounded, objects as `key value` pairs, feature lists with bounds. */
function CardValue(props: { value: unknown }) {
  const { value } = props;
  if (value === null || value === undefined) return <span class="muted">—</span>;
  if (typeof value === 'number') return <>{num(value, 4)}</>;
  if (Array.isArray(value)) {
    return (
      <>
        {value.map((item, i) => (
          <span key={i} class="card-item">
            <CardValue value={item} />
          </span>
        ))}
      </>
    );
  }
  if (typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>);
    const { name, lower, upper } = value as { name?: unknown; lower?: unknown; upper?: unknown };
    if (typeof name === 'string' && lower !== undefined)
      return <>{`${name} [${String(lower)}, ${String(upper)}]`}</>;
    return (
      <span class="card-pairs">
        {entries.map(([k, v]) => (
          <span key={k}>
            <span class="muted">{k}</span> <CardValue value={v} />
          </span>
        ))}
      </span>
    );
  }
  return <>{String(value)}</>;
}
