import { useState } from 'preact/hooks';
import { type Community, type Federation, get, type Me } from '../api.ts';
import { BudgetCard } from '../components/Budget.tsx';
import { CandidateEditor } from '../components/Candidate.tsx';
import { FederationCard } from '../components/FederationView.tsx';
import { Keys } from '../components/Keys.tsx';
import { Ledger } from '../components/Ledger.tsx';
import { type PolicyDoc, PolicyView } from '../components/PolicyView.tsx';
import { when } from '../format.ts';
import { useLoad } from '../hooks.ts';

interface PolicyState {
  version: string;
  policy: PolicyDoc;
  files: { name: string; text: string }[];
  last_refusal: { at: string; issues: string[] } | null;
}

interface AuditStatus {
  ok: boolean;
  entries: number;
  head_hash: string | null;
  broken_at_id: number | null;
  reason: string | null;
}

const SECTIONS = [
  ['communities', 'Communities'],
  ['policy', 'Policy in force'],
  ['candidate', 'Candidate'],
  ['audit', 'Audit'],
  ['keys', 'Keys'],
] as const;

export function CouncilPage(_props: { me: Me }) {
  const communities = useLoad((signal) => get<{ communities: Community[] }>('/v1/communities', signal));
  const policy = useLoad((signal) => get<PolicyState>('/v1/policies', signal));
  const versions = useLoad((signal) =>
    get<{ versions: { version: string; applied_at: string; files: string[]; in_force: boolean }[] }>(
      '/v1/policies/versions',
      signal,
    ),
  );
  const audit = useLoad((signal) => get<AuditStatus>('/v1/audit/status', signal));
  const federation = useLoad((signal) => get<{ federation: Federation | null }>('/v1/federation', signal));
  const sections = federation.data?.federation
    ? [...SECTIONS.slice(0, 2), ['federation', 'Federation'] as const, ...SECTIONS.slice(2)]
    : SECTIONS;
  const [ledgerOf, setLedgerOf] = useState<string>();
  const list = communities.data?.communities ?? [];
  return (
    <div class="page">
      <nav class="section-nav" aria-label="Sections">
        {sections.map(([id, label]) => (
          <a key={id} href={`#${id}`}>
            {label}
          </a>
        ))}
      </nav>
      <section id="communities" aria-labelledby="communities-title">
        <div class="page-head">
          <h1 id="communities-title">Communities</h1>
          <button type="button" onClick={communities.reload}>
            Refresh
          </button>
        </div>
        {communities.error && <p class="error">{communities.error}</p>}
        <div class="grid-cards">
          {list.map((c) => (
            <div key={c.id} class="community-tile">
              <BudgetCard community={c} compact />
              <button
                type="button"
                class="link"
                aria-pressed={ledgerOf === c.id}
                onClick={() => setLedgerOf(ledgerOf === c.id ? undefined : c.id)}
              >
                {ledgerOf === c.id ? 'Hide ledger' : `Open ${c.id}’s ledger`}
              </button>
            </div>
          ))}
        </div>
        {ledgerOf && <Ledger community={ledgerOf} />}
      </section>
      <FederationCard federation={federation.data?.federation} />

      <div class="grid-2 wide-left">
        <section class="card" id="policy" aria-labelledby="policy-title">
          <h2 id="policy-title">Policy in force</h2>
          {policy.data && (
            <>
              <p class="muted">
                Version <code>{policy.data.version.slice(0, 12)}</code> from{' '}
                {policy.data.files.map((f) => f.name).join(', ')}
              </p>
              {policy.data.last_refusal && (
                <div class="warning-box" role="status">
                  <strong>The last reload was refused</strong> ({when(policy.data.last_refusal.at)}); the
                  policy above keeps serving.
                  <ul>
                    {policy.data.last_refusal.issues.map((issue) => (
                      <li key={issue}>{issue}</li>
                    ))}
                  </ul>
                </div>
              )}
              <PolicyView policy={policy.data.policy} />
            </>
          )}
        </section>
        <div class="stack">
          <section class="card" aria-labelledby="versions-title">
            <h2 id="versions-title">Version history</h2>
            <ol class="versions">
              {(versions.data?.versions ?? []).map((v) => (
                <li key={v.version}>
                  <code>{v.version.slice(0, 12)}</code>
                  {v.in_force && <span class="tag tag-ok">in force</span>}
                  <div class="muted small">
                    {when(v.applied_at)} · {v.files.join(', ')}
                  </div>
                </li>
              ))}
            </ol>
          </section>
          <section class="card" id="audit" aria-labelledby="audit-title">
            <h2 id="audit-title">Audit chain</h2>
            {audit.loading && <p class="muted">Verifying…</p>}
            {audit.data &&
              (audit.data.ok ? (
                <p class="ok-text">
                  <span class="status-icon" aria-hidden="true">
                    ✓
                  </span>{' '}
                  Intact: {audit.data.entries} entries verify, head{' '}
                  <code>{audit.data.head_hash?.slice(0, 16)}…</code>
                </p>
              ) : (
                <p class="error">
                  <span class="status-icon" aria-hidden="true">
                    ✕
                  </span>{' '}
                  Broken at entry {audit.data.broken_at_id}: {audit.data.reason}. {audit.data.entries} entries
                  before it verify.
                </p>
              ))}
            <p class="muted small">
              Each entry’s hash covers the one before it, so an edited, inserted or deleted entry breaks the
              chain. Compare the head with a copy kept elsewhere to detect truncation.
            </p>
            <button type="button" onClick={audit.reload}>
              Verify again
            </button>
          </section>
        </div>
      </div>

      <div id="candidate">
        {policy.data && <CandidateEditor files={policy.data.files} currentVersion={policy.data.version} />}
      </div>
      <Keys communities={list.map((c) => c.id)} />
    </div>
  );
}
