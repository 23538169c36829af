/**
 * An rdp community's Rényi filter: the composed curve of its charges over the Rényi orders, the
 * one order the filter fixed (the only one valid for adaptively chosen charges), and what is left
 * there. The gateway computes every figure; this only draws them.
 */
import type { Community, RenyiFilter } from '../api.ts';
import { delta, num, percent } from '../format.ts';
import { OrderCurveChart } from './charts.tsx';

export function RenyiFilterCard(props: { community: Community & { rdp: RenyiFilter } }) {
  const c = props.community;
  const f = c.rdp;
  const total = Number(c.budget.epsilon);
  const charged = f.curve.some((point) => point.rdp > 0);
  return (
    <section class="card" aria-labelledby="renyi-title">
      <h2 id="renyi-title">Rényi filter</h2>
      <p class="muted small">
        Every charge adds its Rényi curve, order by order. The filter fixed the order α = {f.order} when the
        budget was set and admits a charge while the composed curve at α stays within B(α); the ε on the gauge
        is that value converted at δ = {delta(f.conversion_delta)}.
      </p>
      <div class="grid-2 wide-left">
        {charged ? (
          <OrderCurveChart
            points={f.curve.map((point) => ({ order: point.order, value: point.epsilon }))}
            marked={f.order}
            limit={total}
            cap={2 * total}
            title="ε each Rényi order would give for the composed spend (only α binds)"
          />
        ) : (
          <p class="muted">Nothing charged yet.</p>
        )}
        <dl class="facts">
          <dt>Order that binds</dt>
          <dd>α = {f.order}</dd>
          <dt>Rényi spend at α</dt>
          <dd>
            {num(f.spent, 4)} of B(α) = {num(f.budget, 4)} ({percent(f.spent, f.budget)})
          </dd>
          <dt>ε left at δ = {delta(c.budget.delta)}</dt>
          <dd>{num(c.remaining.epsilon)}</dd>
          <dt>Largest Gaussian release that fits</dt>
          <dd>ρ = {num(f.gaussian_rho_left, 4)}</dd>
          <dt>δ of approximate parts</dt>
          <dd>
            {delta(f.delta_parts.spent)} of {delta(f.delta_parts.total)}
          </dd>
        </dl>
      </div>
      <details>
        <summary>The composed curve, order by order</summary>
        <div class="table-scroll">
          <table class="curve">
            <caption class="visually-hidden">Composed Rényi curve</caption>
            <thead>
              <tr>
                <th scope="col" class="num symbol">
                  α
                </th>
                <th scope="col" class="num symbol">
                  Σ τ(α)
                </th>
                <th scope="col" class="num symbol">
                  ε at δ = {delta(f.conversion_delta)}
                </th>
              </tr>
            </thead>
            <tbody>
              {f.curve.map((point) => (
                <tr key={point.order} class={point.order === f.order ? 'binding' : ''}>
                  <td class="num">{point.order}</td>
                  <td class="num">{num(point.rdp, 4)}</td>
                  <td class="num">{num(point.epsilon)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </details>
    </section>
  );
}
