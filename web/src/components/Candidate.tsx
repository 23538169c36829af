/**
 * A candidate policy set, edited in place, pasted or uploaded, checked by the gateway as it is
 * typed (debounced): every issue with its file, line and message, or, when valid, its effect.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import { type PolicyIssue, post } from '../api.ts';
import { delta, num } from '../format.ts';
import { message, useDebounced } from '../hooks.ts';

interface PolicyFile {
  name: string;
  text: string;
}

type Bounds = [unknown, unknown] | null;

interface Effect {
  budgets_changed: {
    community: string;
    from: { epsilon: number; delta: number };
    to: { epsilon: number; delta: number };
  }[];
  communities_added: string[];
  communities_removed: string[];
  columns_exposed: string[];
  columns_hidden: string[];
  bounds_changed: { column: string; from: Bounds; to: Bounds }[];
  tables_added: string[];
  tables_removed: string[];
  tables_made_public: string[];
  tables_made_private: string[];
  accounting_changed: { from: string; to: string } | null;
  limits_changed: { limit: string; from: unknown; to: unknown }[];
}

interface Validation {
  valid: boolean;
  version?: string;
  issues: PolicyIssue[];
  effect: Effect | null;
}

const bounds = (b: Bounds) => (b ? `[${String(b[0])}, ${String(b[1])}]` : 'none');

export function CandidateEditor(props: { files: PolicyFile[]; currentVersion: string }) {
  const [files, setFiles] = useState<PolicyFile[]>(props.files);
  const [selected, setSelected] = useState(props.files[0]?.name ?? '');
  const [result, setResult] = useState<Validation>();
  const [checking, setChecking] = useState(false);
  const [error, setError] = useState<string>();
  const editor = useRef<HTMLTextAreaElement>(null);
  const settled = useDebounced(files, 500);
  const edited = files !== props.files;

  useEffect(() => {
    if (settled === props.files) {
      setResult(undefined);
      return;
    }
    const controller = new AbortController();
    setChecking(true);
    post<Validation>('/v1/policies/validate', { files: settled }, controller.signal).then(
      (validation) => {
        setResult(validation);
        setError(undefined);
        setChecking(false);
      },
      (failure) => {
        if (controller.signal.aborted) return;
        setError(message(failure));
        setChecking(false);
      },
    );
    return () => controller.abort();
  }, [settled, props.files]);

  const current = files.find((f) => f.name === selected);
  const edit = (text: string) => setFiles((fs) => fs.map((f) => (f.name === selected ? { ...f, text } : f)));
  const upload = async (event: Event) => {
    const input = event.currentTarget as HTMLInputElement;
    const added = await Promise.all(
      [...(input.files ?? [])].map(async (f) => ({ name: f.name, text: await f.text() })),
    );
    setFiles((fs) => [...fs.filter((f) => !added.some((a) => a.name === f.name)), ...added]);
    if (added[0]) setSelected(added[0].name);
    input.value = '';
  };
  const goTo = (issue: PolicyIssue) => {
    if (!issue.file || !issue.line) return;
    setSelected(issue.file);
    requestAnimationFrame(() => {
      const area = editor.current;
      const text = files.find((f) => f.name === issue.file)?.text ?? '';
      if (!area) return;
      const offset =
        text
          .split('\n')
          .slice(0, issue.line! - 1)
          .join('\n').length + (issue.line! > 1 ? 1 : 0);
      area.focus();
      area.setSelectionRange(offset, offset);
    });
  };

  return (
    <section class="card" aria-labelledby="candidate-title">
      <div class="card-head">
        <h2 id="candidate-title">Candidate policy</h2>
        <div class="actions">
          <label class="button">
            Upload files
            <input type="file" accept=".yaml,.yml" multiple class="visually-hidden" onChange={upload} />
          </label>
          <button type="button" disabled={!edited} onClick={() => setFiles(props.files)}>
            Reset to policy in force
          </button>
        </div>
      </div>
      <p class="muted">
        Edit, paste or upload the YAML files. The gateway checks the set as you type — the policy schema, the
        cross-checks, the database and the ledger — and shows what applying it would change. Nothing is
        applied from here: commit the files to the policy directory and the gateway reloads them.
      </p>
      <div class="tabs" role="tablist" aria-label="Policy files">
        {files.map((f) => (
          <button
            type="button"
            role="tab"
            key={f.name}
            aria-selected={f.name === selected}
            class={f.name === selected ? 'tab active' : 'tab'}
            onClick={() => setSelected(f.name)}
          >
            {f.name}
            {result?.issues.some((i) => i.file === f.name) && <span class="tab-issue"> (issues)</span>}
          </button>
        ))}
      </div>
      {current && (
        <div class="editor-pane">
          <label for="candidate-text" class="visually-hidden">
            Contents of {current.name}
          </label>
          <textarea
            id="candidate-text"
            ref={editor}
            class="code-input"
            spellcheck={false}
            rows={14}
            value={current.text}
            onInput={(e) => edit(e.currentTarget.value)}
          />
        </div>
      )}
      <div class="validation" aria-live="polite">
        {!edited && <p class="muted">This is the policy in force. Change it to check a candidate.</p>}
        {edited && checking && <p class="muted">Checking…</p>}
        {error && <p class="error">{error}</p>}
        {edited && !checking && result && !result.valid && (
          <div class="refused" role="alert">
            <h3>
              <span class="status-icon" aria-hidden="true">
                ✕
              </span>{' '}
              Refused: {result.issues.length} issue
              {result.issues.length === 1 ? '' : 's'}
            </h3>
            <ul class="issues">
              {result.issues.map((issue) => (
                <li key={`${issue.file}:${issue.line}:${issue.path}:${issue.message}`}>
                  <button type="button" class="link" onClick={() => goTo(issue)} disabled={!issue.line}>
                    <code>
                      {issue.file ?? 'policy'}
                      {issue.line ? `:${issue.line}` : ''}
                      {issue.column ? `:${issue.column}` : ''}
                    </code>
                  </button>{' '}
                  {issue.path && <code class="muted">{issue.path}</code>} {issue.message}
                </li>
              ))}
            </ul>
          </div>
        )}
        {edited && !checking && result?.valid && result.effect && (
          <div class="accepted">
            <h3>
              <span class="status-icon" aria-hidden="true">
                ✓
              </span>{' '}
              Valid — version <code>{result.version?.slice(0, 12)}</code>
            </h3>
            <EffectDiff effect={result.effect} />
          </div>
        )}
      </div>
    </section>
  );
}

function EffectDiff(props: { effect: Effect }) {
  const e = props.effect;
  const items: { sign: '+' | '−' | '~' | '!'; text: string }[] = [];
  for (const b of e.budgets_changed)
    items.push({
      sign: '~',
      text: `Budget of ${b.community}: ε ${num(b.from.epsilon)} → ${num(b.to.epsilon)}, δ ${delta(b.from.delta)} → ${delta(b.to.delta)}`,
    });
  for (const c of e.communities_added) items.push({ sign: '+', text: `Community ${c} added` });
  for (const c of e.communities_removed) items.push({ sign: '−', text: `Community ${c} removed` });
  for (const t of e.tables_added) items.push({ sign: '+', text: `Table ${t} added` });
  for (const t of e.tables_removed)
    items.push({ sign: '−', text: `Table ${t} removed: queries reading it will be refused` });
  for (const t of e.tables_made_public)
    items.push({ sign: '!', text: `Table ${t} made public: its rows would be answered without noise` });
  for (const t of e.tables_made_private)
    items.push({ sign: '~', text: `Table ${t} made private: reading it will cost budget` });
  for (const c of e.columns_exposed)
    items.push({ sign: '+', text: `Column ${c} becomes readable by analysts` });
  for (const c of e.columns_hidden)
    items.push({ sign: '−', text: `Column ${c} no longer readable: queries using it will be refused` });
  for (const b of e.bounds_changed)
    items.push({ sign: '~', text: `Bounds of ${b.column}: ${bounds(b.from)} → ${bounds(b.to)}` });
  if (e.accounting_changed)
    items.push({ sign: '!', text: `Accounting: ${e.accounting_changed.from} → ${e.accounting_changed.to}` });
  for (const l of e.limits_changed)
    items.push({ sign: '~', text: `Limit ${l.limit}: ${String(l.from)} → ${String(l.to)}` });
  if (items.length === 0)
    return (
      <p class="muted">No change in budgets, grants, bounds, tables or limits (comments or layout only).</p>
    );
  const names = { '+': 'added', '−': 'removed', '~': 'changed', '!': 'needs care' };
  return (
    <ul class="diff" aria-label="What applying it would change">
      {items.map((item) => (
        <li key={item.text} class={`diff-${names[item.sign].replace(' ', '-')}`}>
          <span class="diff-sign" title={names[item.sign]}>
            {item.sign}
          </span>
          <span class="visually-hidden">{names[item.sign]}: </span>
          {item.text}
        </li>
      ))}
    </ul>
  );
}
