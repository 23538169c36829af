/**
 * A budget gauge: a half-ring filled by the share spent, with the numbers written out beside it so
 * no meaning rests on colour or shape alone.
 */
import { num, percent } from '../format.ts';

export function Gauge(props: { spent: number; total: number; label: string; unit?: string; size?: number }) {
  const { spent, total, label, unit = 'ε', size = 160 } = props;
  const share = total > 0 ? Math.min(1, Math.max(0, spent / total)) : 0;
  const r = size / 2 - 12;
  const cx = size / 2;
  const cy = size / 2 + 4;
  const arc = (fraction: number) => {
    const angle = Math.PI * (1 - fraction);
    return `M ${cx - r} ${cy} A ${r} ${r} 0 0 1 ${cx + r * Math.cos(angle)} ${cy - r * Math.sin(angle)}`;
  };
  const level = share >= 0.9 ? 'critical' : share >= 0.7 ? 'warning' : 'ok';
  const text = `${label}: ${num(spent)} of ${num(total)} ${unit} spent (${percent(spent, total)}), ${num(Math.max(0, total - spent))} left`;
  return (
    <figure class={`gauge gauge-${level}`}>
      <svg
        viewBox={`0 0 ${size} ${size / 2 + 16}`}
        width={size}
        height={size / 2 + 16}
        role="img"
        aria-label={text}
      >
        <path d={arc(1)} class="gauge-track" />
        {share > 0 && <path d={arc(share)} class="gauge-fill" />}
        <text x={cx} y={cy - 8} text-anchor="middle" class="gauge-value">
          {percent(spent, total)}
        </text>
        <text x={cx} y={cy + 10} text-anchor="middle" class="gauge-caption">
          spent
        </text>
      </svg>
      <figcaption>
        <strong>
          {num(spent)} / {num(total)} {unit}
        </strong>
        <span>
          {num(Math.max(0, total - spent))} {unit} left{level === 'critical' ? ' — nearly exhausted' : ''}
        </span>
      </figcaption>
    </figure>
  );
}

/** A thin labelled bar for a second quantity (δ) next to the gauge. */
export function Meter(props: { spent: number; total: number; label: string; format: (n: number) => string }) {
  return (
    <div class="meter">
      <div class="meter-label">
        <span>{props.label}</span>
        <span>
          {props.format(props.spent)} of {props.format(props.total)} ({percent(props.spent, props.total)})
        </span>
      </div>
      <meter
        class="meter-track"
        aria-label={props.label}
        min={0}
        max={props.total || 1}
        value={Math.min(props.spent, props.total)}
        title={`${props.format(props.spent)} of ${props.format(props.total)}`}
      />
    </div>
  );
}
