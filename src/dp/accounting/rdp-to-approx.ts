/**
 * From Rényi DP to (ε, δ)-DP.
 *
 * Balle, Barthe, Gaboardi, Hsu & Sato 2020, "Hypothesis Testing Interpretations and Rényi
 * Differential Privacy", Thm 21: an (α, r)-RDP mechanism is (ε, δ)-DP with
 * ε = r + log((α − 1)/α) − (log δ + log α)/(α − 1).
 * It is never worse than Mironov's 2017 ε = r + log(1/δ)/(α − 1), and it is the same bound as
 * Canonne, Kamath & Steinke 2020, Prop. 12, which is why the zCDP conversion reuses it.
 * Any order gives a valid ε, so minimising over a grid (or numerically) is always sound.
 */

/** ε at one order α > 1 for RDP value r (nats) and target δ ∈ (0, 1); clamped at 0. */
export function epsilonFromRdpAtOrder(order: number, rdp: number, delta: number): number {
  const epsilon = rdp + Math.log1p(-1 / order) - (Math.log(delta) + Math.log(order)) / (order - 1);
  return Math.max(0, epsilon);
}

/** The best ε over the given orders, with the order that achieved it. */
export function rdpToApprox(
  orders: readonly number[],
  rdp: readonly number[],
  delta: number,
): { readonly epsilon: number; readonly order: number } {
  let best = { epsilon: Number.POSITIVE_INFINITY, order: Number.NaN };
  orders.forEach((order, index) => {
    const epsilon = epsilonFromRdpAtOrder(order, rdp[index]!, delta);
    if (epsilon < best.epsilon) best = { epsilon, order };
  });
  return best;
}
