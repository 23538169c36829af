import { checkDpSgdSetting, type DpSgdSetting } from './dp-sgd-setting.ts';
import { rdpToApprox } from './rdp-to-approx.ts';
import { DEFAULT_RDP_ORDERS, subsampledGaussianRdp } from './subsampled-gaussian-rdp.ts';

export interface RdpEpsilon {
  readonly epsilon: number;
  /** The Rényi order that gave the smallest ε. */
  readonly order: number;
}

/**
 * ε of T steps of DP-SGD by the RDP accountant: RDP composes additively over adaptively chosen
 * steps (Mironov 2017, "Rényi Differential Privacy", Prop. 1), so T steps have T·ε(α) at every
 * order; then Balle et al. 2020 Thm 21 converts, minimised over `orders`. The cost does not grow
 * with T (one RDP evaluation per order).
 */
export function dpSgdEpsilonByRdp(
  setting: DpSgdSetting,
  orders: readonly number[] = DEFAULT_RDP_ORDERS,
): RdpEpsilon {
  checkDpSgdSetting(setting);
  const composed = orders.map((order) => setting.steps * subsampledGaussianRdp(setting, order));
  return rdpToApprox(orders, composed, setting.delta);
}
