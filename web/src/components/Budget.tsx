/** A community's budget: a gauge of ε, a meter of δ, and the cumulative spend over time. */
import { type Accounting, type Community, get } from '../api.ts';
import { delta, num } from '../format.ts';
import { useLoad } from '../hooks.ts';
import { StepChart } from './charts.tsx';
import { Gauge, Meter } from './Gauge.tsx';

export function BudgetCard(props: { community: Community; compact?: boolean }) {
  const c = props.community;
  const total = Number(c.budget.epsilon);
  return (
    <section class={props.compact ? 'card budget compact' : 'card budget'} aria-label={`Budget of ${c.id}`}>
      <h2>{props.compact ? c.id : `${c.id}’s privacy budget`}</h2>
      <Gauge spent={c.spent.epsilon} total={total} label={`${c.id} ε`} size={props.compact ? 140 : 200} />
      <Meter spent={Number(c.spent.delta)} total={Number(c.budget.delta)} label="δ spent" format={delta} />
      <p class="muted small">{props.compact ? ACCOUNTING_NAMES[c.accounting] : accountingNote(c)}</p>
    </section>
  );
}

const ACCOUNTING_NAMES: Record<Accounting, string> = {
  basic: 'basic composition',
  zcdp: 'zCDP accounting',
  rdp: 'Rényi accounting',
};

function accountingNote(c: Community): string {
  if (c.accounting === 'zcdp') {
    return `Zero-concentrated DP: Gaussian charges add up as ρ (now ${num(c.spent.rho ?? 0, 4)}), pure ones as ε (now ${num(c.spent.approx_epsilon ?? 0)}); the gauge shows their total converted to ε at δ = ${delta(c.budget.delta)}.`;
  }
  if (c.accounting === 'rdp') {
    return `Rényi DP: every charge adds its Rényi curve; the gauge shows the composed curve at the filter’s order α = ${c.rdp?.order ?? '—'} converted to ε, δ its conversion δ plus the δ of approximate parts.`;
  }
  return 'Basic composition: ε and δ of every charge add up.';
}

interface Spend {
  accounting: Accounting;
  budget: { epsilon: number; delta: number };
  points: { at: string; epsilon: number; delta: number; rho?: number }[];
}

const SPEND_TITLES: Record<Accounting, string> = {
  basic: 'ε spent (basic composition)',
  zcdp: 'ε spent (zCDP, converted at the community’s δ)',
  rdp: 'ε spent (composed Rényi curve at the filter’s order)',
};

/** ε spent (as the accounting states it) and δ after each charge, computed by the gateway. */
export function SpendOverTime(props: { community: Community; refresh?: number }) {
  const { community } = props;
  const spend = useLoad(
    (signal) => get<Spend>(`/v1/communities/${encodeURIComponent(community.id)}/spend`, signal),
    [community.id, props.refresh],
  );
  const points = spend.data?.points ?? [];
  const series = (pick: (p: Spend['points'][number]) => number) =>
    points.map((p) => ({ at: Date.parse(p.at), value: pick(p) }));
  return (
    <section class="card" aria-labelledby="spend-title">
      <h2 id="spend-title">Spend over time</h2>
      {spend.error && <p class="error">{spend.error}</p>}
      <div class="chart-pair">
        <StepChart
          title={SPEND_TITLES[community.accounting]}
          unit="ε"
          series={{ label: 'ε', points: series((p) => p.epsilon), limit: Number(community.budget.epsilon) }}
        />
        <StepChart
          title="δ spent"
          unit="δ"
          format={delta}
          series={{
            label: 'δ',
            points: series((p) => p.delta),
            dashed: true,
            limit: Number(community.budget.delta),
          }}
        />
      </div>
    </section>
  );
}
