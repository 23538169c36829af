/** A released answer as a table: each noisy cell with its ± (or interval) at the stated confidence. */
import type { CellAccuracy } from '../api.ts';
import { num } from '../format.ts';

export function accuracyText(accuracy: CellAccuracy | null | undefined): string | undefined {
  if (!accuracy) return undefined;
  if (accuracy.kind === 'noise') return `± ${num(accuracy.halfWidth)}`;
  if (accuracy.kind === 'interval')
    return `${num(accuracy.lower)} to ${num(accuracy.upper)}${accuracy.approximate ? ' (approx.)' : ''}`;
  return `± ${num(accuracy.resolution / 2)} (bucket)`;
}

export function AnswerTable(props: {
  columns: string[];
  rows: unknown[][];
  accuracy: (CellAccuracy | null)[][];
  caption?: string;
}) {
  const confidence = props.accuracy.flat().find((a) => a && 'confidence' in a) as
    | { confidence: number }
    | undefined;
  return (
    <div class="table-scroll">
      <table class="answer">
        {props.caption && <caption>{props.caption}</caption>}
        <thead>
          <tr>
            {props.columns.map((column, c) => (
              <th
                scope="col"
                key={column}
                class={props.rows.some((row) => typeof row[c] === 'number') ? 'num' : ''}
              >
                {column}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {props.rows.map((row, r) => (
            <tr key={r}>
              {row.map((cell, c) => {
                const acc = accuracyText(props.accuracy[r]?.[c]);
                return (
                  <td key={c} class={typeof cell === 'number' ? 'num' : ''}>
                    {typeof cell === 'number' ? num(cell, 4) : cell === null ? '—' : String(cell)}
                    {acc && <span class="pm"> {acc}</span>}
                  </td>
                );
              })}
            </tr>
          ))}
        </tbody>
      </table>
      {confidence && (
        <p class="muted small">
          ± is the half-width of an interval that holds the true value with at least{' '}
          {Math.round(confidence.confidence * 100)}% probability.
        </p>
      )}
    </div>
  );
}
