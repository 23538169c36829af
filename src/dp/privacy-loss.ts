/**
 * The privacy loss of one release, as the mechanism that made it reports it.
 *
 * - `pure`: ε-DP (Dwork, McSherry, Nissim, Smith 2006).
 * - `approx`: (ε, δ)-DP.
 * - `zcdp`: ρ-zero-concentrated DP (Bun & Steinke 2016, Def. 1.1).
 *
 * Mechanisms produce these from a sensitivity (`mechanism.loss(sensitivity)`); accountants only
 * compose them. Nothing else computes ε from a noise scale by hand.
 */
export type PrivacyLoss =
  | { readonly kind: 'pure'; readonly epsilon: number }
  | { readonly kind: 'approx'; readonly epsilon: number; readonly delta: number }
  | { readonly kind: 'zcdp'; readonly rho: number };
