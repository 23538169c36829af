/** A community's budget: a gauge of ε, a meter of δ, and the cumulative spend over time. */
import { type Charge, type Community, get } from '../api.ts';
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
      <p class="muted small">
        {c.accounting === 'zcdp'
          ? `Zero-concentrated DP: charges add up as ρ (now ${num(c.spent.rho ?? 0, 4)}), converted to ε at δ = ${delta(c.budget.delta)}.`
          : 'Basic composition: ε and δ of every charge add up.'}
      </p>
    </section>
  );
}

/** Cumulative spend from the ledger, oldest first: ε (basic) or ρ (zCDP), and δ. */
export function SpendOverTime(props: { community: Community; refresh?: number }) {
  const { community } = props;
  const charges = useLoad(
    (signal) =>
      get<{ charges: Charge[] }>(`/v1/communities/${encodeURIComponent(community.id)}/ledger?limit=1000`, signal),
    [community.id, props.refresh],
  );
  const ordered = [...(charges.data?.charges ?? [])].reverse();
  const zcdp = community.accounting === 'zcdp';
  let main = 0;
  let d = 0;
  const mainPoints = [];
  const deltaPoints = [];
  for (const charge of ordered) {
    const at = Date.parse(charge.at);
    main += zcdp ? Number(charge.rho ?? 0) : Number(charge.epsilon);
    d += Number(charge.delta);
    mainPoints.push({ at, value: main });
    deltaPoints.push({ at, value: d });
  }
  return (
    <section class="card" aria-labelledby="spend-title">
      <h2 id="spend-title">Spend over time</h2>
      {charges.error && <p class="error">{charges.error}</p>}
      <div class="chart-pair">
        <StepChart
          title={zcdp ? 'Cumulative ρ (zCDP), the quantity this community composes' : 'Cumulative ε'}
          unit={zcdp ? 'ρ' : 'ε'}
          series={{ label: zcdp ? 'ρ' : 'ε', points: mainPoints, ...(zcdp ? {} : { limit: Number(community.budget.epsilon) }) }}
        />
        <StepChart
          title="Cumulative δ"
          unit="δ"
          series={{ label: 'δ', points: deltaPoints, dashed: true, limit: Number(community.budget.delta) }}
        />
      </div>
    </section>
  );
}
