/**
 * `dpgate query "<sql>"`: an analyst's client. Sends the query to a running gateway and prints the
 * noisy rows as a table, each noisy cell with its 95% interval, then the cost and what is left.
 */
import { Command, InvalidArgumentError } from 'commander';
import { callGateway, withGatewayOptions } from './gateway-options.ts';

interface Accuracy {
  kind: 'noise' | 'interval' | 'quantile';
  halfWidth?: number;
  lower?: number;
  upper?: number;
  approximate?: boolean;
}

interface AnswerBody {
  columns?: string[];
  rows?: unknown[][];
  accuracy?: (Accuracy | null)[][];
  cost?: { epsilon: number; delta: number; mechanism: string };
  charged?: { community: string; epsilon: string; delta: string; rho: string | null }[];
  remaining?: Record<string, { epsilon: number; delta: number }>;
  repeated?: boolean;
  dry_run?: boolean;
  planned_accuracy?: (Accuracy | null)[];

  scope?: { communities: string[] };
  code?: string;
  detail?: string;
  position?: number;
}

export function queryCommand(): Command {
  const command = new Command('query')
    .description('Ask a running gateway an aggregate SQL query and print the noisy answer with ± intervals.')
    .argument('<sql>', 'one SELECT')
    .option('--epsilon <e>', 'privacy cost of this query', parsePositive)
    .option('--delta <d>', 'δ, for Gaussian noise or thresholded groups', parsePositive)
    .option('--mechanism <m>', 'laplace or gaussian')
    .option('--dry-run', 'show cost and accuracy without running the query or spending budget')
    .option('--json', 'print the raw JSON answer');
  return withGatewayOptions(command, 'an analyst').action(
    async (
      sqlText: string,
      options: {
        epsilon?: number;
        delta?: number;
        mechanism?: string;
        dryRun?: boolean;
        url: string;
        key?: string;
        json?: boolean;
      },
    ) => {
      const response = await callGateway<AnswerBody>(
        { url: options.url, key: options.key ?? '' },
        'POST',
        '/v1/queries',
        {
          sql: sqlText,
          ...(options.epsilon === undefined ? {} : { epsilon: options.epsilon }),
          ...(options.delta === undefined ? {} : { delta: options.delta }),
          ...(options.mechanism === undefined ? {} : { mechanism: options.mechanism }),
          ...(options.dryRun ? { dry_run: true } : {}),
        },
      );
      const { body } = response;
      if (options.json) {
        console.log(JSON.stringify(body, null, 2));
      } else if (!response.ok) {
        console.error(`refused (${body.code}): ${body.detail}`);
        if (body.position !== undefined) console.error(`  ${sqlText}\n  ${' '.repeat(body.position)}^`);
      } else {
        console.log(formatAnswer(body));
      }
      if (!response.ok) process.exitCode = 1;
    },
  );
}

/** The answer as people read it: a table, then cost and budget lines. */
export function formatAnswer(body: AnswerBody): string {
  const lines: string[] = [];
  if (body.dry_run) {
    lines.push(`dry run: nothing was run or charged; scope ${body.scope?.communities.join(', ')}`);
    for (const [c, column] of (body.columns ?? []).entries()) {
      const planned = body.planned_accuracy?.[c];
      if (planned?.kind === 'noise')
        lines.push(`  ${column}: ± ${formatNumber(planned.halfWidth ?? 0)} at 95%`);
      else if (planned) lines.push(`  ${column}: ${planned.kind}`);
    }
  } else {
    const header = body.columns ?? [];
    const cells = (body.rows ?? []).map((row, r) =>
      row.map((value, c) => formatCell(value, body.accuracy?.[r]?.[c] ?? null)),
    );
    lines.push(...table(header, cells));
    if (body.repeated) lines.push('(a repeat of an earlier query: the stored answer, at no new cost)');
  }
  if (body.cost) {
    lines.push(
      `cost: ε = ${formatNumber(body.cost.epsilon)}, δ = ${body.cost.delta} (${body.cost.mechanism})`,
    );
  }
  for (const [community, left] of Object.entries(body.remaining ?? {})) {
    lines.push(`  ${community}: ε ${formatNumber(left.epsilon)} left`);
  }
  return lines.join('\n');
}

function formatCell(value: unknown, accuracy: Accuracy | null): string {
  const text = typeof value === 'number' ? formatNumber(value) : value === null ? 'NULL' : String(value);
  if (!accuracy) return text;
  if (accuracy.kind === 'noise' && accuracy.halfWidth !== undefined)
    return `${text} ± ${formatNumber(accuracy.halfWidth)}`;
  if (accuracy.kind === 'interval' && accuracy.lower !== undefined && accuracy.upper !== undefined) {
    return `${text} [${formatNumber(accuracy.lower)}, ${formatNumber(accuracy.upper)}]${accuracy.approximate ? '~' : ''}`;
  }
  return text;
}

function formatNumber(value: number): string {
  return Number.isInteger(value) ? String(value) : value.toPrecision(6).replace(/\.?0+$/, '');
}

function table(header: readonly string[], rows: readonly (readonly string[])[]): string[] {
  const widths = header.map((name, c) => Math.max(name.length, ...rows.map((row) => row[c]?.length ?? 0)));
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, c) => cell.padEnd(widths[c] ?? 0))
      .join('  ')
      .trimEnd();
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)];
}

function parsePositive(value: string): number {
  const number = Number(value);
  if (!(Number.isFinite(number) && number > 0)) throw new InvalidArgumentError('must be a positive number');
  return number;
}
