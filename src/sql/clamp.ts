/**
 * The range of LEAST/GREATEST, the analyst's clamp (`LEAST(GREATEST(total, 0), 1000)`). Both skip
 * NULL arguments and return NULL only when every argument is NULL, so the result is the least (the
 * greatest) of a set S of arguments that holds at least every argument that cannot be NULL. A
 * non-NULL literal c is in every such S: LEAST(…, c) ≤ c and GREATEST(…, c) ≥ c. The other side
 * keeps the hull of all arguments (a NULL-able argument may be the only one left besides c).
 */
import type { Interval } from './bounds.ts';
import type { Expr } from './ir.ts';

export function clampBounds(
  form: 'least' | 'greatest',
  hull: Interval | undefined,
  args: readonly Expr[],
): Interval | undefined {
  if (!hull) return undefined;
  const literals = args.flatMap((a) =>
    a.kind === 'constant' && a.literal !== 'null' && a.info.bounds ? [a.info.bounds] : [],
  );
  if (literals.length === 0) return hull;
  return form === 'least'
    ? { low: hull.low, high: Math.min(...literals.map((b) => b.high)) }
    : { low: Math.max(...literals.map((b) => b.low)), high: hull.high };
}
