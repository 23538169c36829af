/**
 * Three hand-written SVG charts, small enough not to need a library: a step line of cumulative spend
 * over time, bars with error bars, and a curve over Rényi orders. Each carries a text description
 * for screen readers.
 */
import { num } from '../format.ts';

const W = 640;
const H = 220;
const PAD = { left: 72, right: 16, top: 16, bottom: 36 };

function ticks(max: number, count = 4): number[] {
  if (max <= 0) return [0];
  const raw = max / count;
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * power).find((s) => s >= raw) ?? raw;
  const out: number[] = [];
  for (let v = 0; v <= max * 1.0001; v += step) out.push(v);
  return out;
}

export interface Series {
  label: string;
  points: { at: number; value: number }[];
  /** Drawn as a dashed line, so two series differ by more than colour. */
  dashed?: boolean;
  /** A horizontal line: the total the series may reach. */
  limit?: number;
}

export function StepChart(props: {
  series: Series;
  title: string;
  unit: string;
  format?: (n: number) => string;
}) {
  const format = props.format ?? ((n: number) => num(n, 2));
  const { points, limit } = props.series;
  if (points.length === 0) return <p class="muted">Nothing charged yet.</p>;
  // From a little before the first charge until now, so even one charge draws as a step.
  const first = points[0]!.at;
  const t1 = Math.max(points.at(-1)!.at, Date.now());
  const t0 = first - Math.max(60_000, (t1 - first) * 0.05);
  const yMax = Math.max(limit ?? 0, ...points.map((p) => p.value)) * 1.05 || 1;
  const x = (t: number) => PAD.left + ((t - t0) / (t1 - t0)) * (W - PAD.left - PAD.right);
  const y = (v: number) => H - PAD.bottom - (v / yMax) * (H - PAD.top - PAD.bottom);
  let d = `M ${x(t0)} ${y(0)}`;
  for (const p of points) d += ` H ${x(p.at)} V ${y(p.value)}`;
  d += ` H ${x(t1)}`;
  const yTicks = ticks(yMax);
  const last = points.at(-1)!;
  const fmt = (t: number) =>
    new Date(t).toLocaleString('en-GB', {
      month: 'short',
      day: 'numeric',
      hour: '2-digit',
      minute: '2-digit',
    });
  return (
    <figure class="chart">
      <svg
        viewBox={`0 0 ${W} ${H}`}
        role="img"
        aria-label={`${props.title}: ${points.length} charges, reaching ${format(last.value)} ${props.unit}${limit ? ` of ${format(limit)}` : ''}`}
      >
        {yTicks.map((v) => (
          <g key={v}>
            <line x1={PAD.left} x2={W - PAD.right} y1={y(v)} y2={y(v)} class="grid" />
            <text x={PAD.left - 6} y={y(v) + 4} text-anchor="end" class="tick">
              {format(v)}
            </text>
          </g>
        ))}
        {limit !== undefined && (
          <g>
            <line x1={PAD.left} x2={W - PAD.right} y1={y(limit)} y2={y(limit)} class="limit" />
            <text x={W - PAD.right} y={y(limit) - 5} text-anchor="end" class="tick">
              budget {format(limit)}
            </text>
          </g>
        )}
        <path d={d} class={props.series.dashed ? 'line dashed' : 'line'} />
        {points.map((p) => (
          <circle key={`${p.at}-${p.value}`} cx={x(p.at)} cy={y(p.value)} r={3} class="dot" />
        ))}
        <text x={PAD.left} y={H - 10} class="tick">
          {fmt(t0)}
        </text>
        <text x={W - PAD.right} y={H - 10} text-anchor="end" class="tick">
          {fmt(t1)}
        </text>
      </svg>
      <figcaption>{props.title}</figcaption>
    </figure>
  );
}

export interface Bar {
  label: string;
  value: number;
  lower?: number;
  upper?: number;
}

export function ErrorBarChart(props: { bars: Bar[]; title: string }) {
  const bars = props.bars.slice(0, 40);
  if (bars.length === 0) return null;
  const hi = Math.max(0, ...bars.map((b) => b.upper ?? b.value));
  const lo = Math.min(0, ...bars.map((b) => b.lower ?? b.value));
  const span = hi - lo || 1;
  const top = hi + span * 0.05;
  const bottom = lo < 0 ? lo - span * 0.05 : 0;
  const y = (v: number) => PAD.top + ((top - v) / (top - bottom)) * (H - PAD.top - PAD.bottom);
  const slot = (W - PAD.left - PAD.right) / bars.length;
  const barWidth = Math.max(4, Math.min(48, slot * 0.6));
  const yTicks = ticks(top).filter((v) => v >= bottom);
  return (
    <figure class="chart">
      <svg
        viewBox={`0 0 ${W} ${H}`}
        role="img"
        aria-label={`${props.title}. ${bars.map((b) => `${b.label}: ${num(b.value)}${b.lower !== undefined ? ` (${num(b.lower)} to ${num(b.upper)})` : ''}`).join('; ')}`}
      >
        {yTicks.map((v) => (
          <g key={v}>
            <line x1={PAD.left} x2={W - PAD.right} y1={y(v)} y2={y(v)} class="grid" />
            <text x={PAD.left - 6} y={y(v) + 4} text-anchor="end" class="tick">
              {num(v, 2)}
            </text>
          </g>
        ))}
        {bars.map((b, i) => {
          const cx = PAD.left + slot * (i + 0.5);
          const y0 = y(Math.max(0, bottom));
          return (
            <g key={b.label}>
              <rect
                x={cx - barWidth / 2}
                width={barWidth}
                y={Math.min(y(b.value), y0)}
                height={Math.abs(y0 - y(b.value))}
                class="bar"
              />
              {b.lower !== undefined && b.upper !== undefined && (
                <g class="errorbar">
                  <line x1={cx} x2={cx} y1={y(b.lower)} y2={y(b.upper)} />
                  <line x1={cx - 6} x2={cx + 6} y1={y(b.lower)} y2={y(b.lower)} />
                  <line x1={cx - 6} x2={cx + 6} y1={y(b.upper)} y2={y(b.upper)} />
                </g>
              )}
              {bars.length <= 16 && (
                <text x={cx} y={H - PAD.bottom + 16} text-anchor="middle" class="tick">
                  {b.label.length > 10 ? `${b.label.slice(0, 9)}…` : b.label}
                </text>
              )}
            </g>
          );
        })}
      </svg>
      <figcaption>{props.title}</figcaption>
    </figure>
  );
}

/**
 * A curve over Rényi orders α (log scale), with one order marked: what an rdp community's composed
 * spend converts to at each order, and the order its filter uses. Values above `cap` are clipped to
 * the top edge so the marked order stays readable.
 */
export function OrderCurveChart(props: {
  points: { order: number; value: number }[];
  marked: number;
  limit: number;
  cap: number;
  title: string;
}) {
  const { points, marked, limit } = props;
  const yMax = props.cap * 1.05;
  const [a0, a1] = [Math.log(points[0]!.order), Math.log(points.at(-1)!.order)];
  const x = (order: number) => PAD.left + ((Math.log(order) - a0) / (a1 - a0)) * (W - PAD.left - PAD.right);
  const y = (v: number) => H - PAD.bottom - (Math.min(v, yMax) / yMax) * (H - PAD.top - PAD.bottom);
  const d = points.map((p, i) => `${i === 0 ? 'M' : 'L'} ${x(p.order)} ${y(p.value)}`).join(' ');
  const at = points.find((p) => p.order === marked);
  const orderTicks = [1.25, 2, 4, 8, 16, 32, 64, 128, 256].filter((o) => o >= points[0]!.order);
  return (
    <figure class="chart">
      <svg
        viewBox={`0 0 ${W} ${H}`}
        role="img"
        aria-label={`${props.title}. At the filter's order α = ${marked}: ${num(at?.value ?? 0)} of ${num(limit)}.`}
      >
        {ticks(yMax).map((v) => (
          <g key={v}>
            <line x1={PAD.left} x2={W - PAD.right} y1={y(v)} y2={y(v)} class="grid" />
            <text x={PAD.left - 6} y={y(v) + 4} text-anchor="end" class="tick">
              {num(v, 2)}
            </text>
          </g>
        ))}
        <line x1={PAD.left} x2={W - PAD.right} y1={y(limit)} y2={y(limit)} class="limit" />
        <text x={W - PAD.right} y={y(limit) - 5} text-anchor="end" class="tick">
          budget {num(limit, 2)}
        </text>
        <line x1={x(marked)} x2={x(marked)} y1={PAD.top} y2={H - PAD.bottom} class="marker" />
        <path d={d} class="line" />
        {points.map((p) => (
          <circle
            key={p.order}
            cx={x(p.order)}
            cy={y(p.value)}
            r={p.order === marked ? 5 : 2.5}
            class="dot"
          />
        ))}
        {orderTicks.map((o) => (
          <text key={o} x={x(o)} y={H - PAD.bottom + 16} text-anchor="middle" class="tick">
            {o}
          </text>
        ))}
        <text x={x(marked) + 6} y={PAD.top + 12} class="tick">
          α = {marked} (binds)
        </text>
        <text x={W - PAD.right} y={H - 4} text-anchor="end" class="tick">
          Rényi order α
        </text>
      </svg>
      <figcaption>{props.title}</figcaption>
    </figure>
  );
}
