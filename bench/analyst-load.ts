/**
 * The load generator of the throughput bench, also run by the CI smoke test: analysts, each with
 * its own API key and its own connection, sending queries one after another for a while, analyst i
 * to gateway i mod n (autocannon cannot give each connection its own key). Counts answers,
 * failures and their latencies; nothing here asserts a speed.
 */
import { readFileSync } from 'node:fs';
import { Agent, request as httpRequest } from 'node:http';

export interface LoadResult {
  readonly answers: number;
  readonly perSecond: number;
  readonly p50: number;
  readonly p99: number;
  readonly failures: number;
  /** The first few failures, for a test to print. */
  readonly failureSamples: readonly string[];
}

/**
 * One query over HTTP; resolves with its latency in ms, throws unless the answer is 200. Each key
 * keeps its own connection (`node:http` with a keep-alive agent of one socket): the analyst's own
 * connection, and a client that costs a fraction of `fetch`'s CPU, which on a shared machine is
 * taken from the gateways being measured.
 */
export function askQuery(gatewayUrl: string, key: string, sqlText: string): Promise<number> {
  const started = performance.now();
  const body = JSON.stringify({ sql: sqlText, epsilon: 0.001 });
  return new Promise((resolve, reject) => {
    const request = httpRequest(
      `${gatewayUrl}/v1/queries`,
      {
        method: 'POST',
        agent: agentOf(gatewayUrl, key),
        headers: {
          authorization: `Bearer ${key}`,
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(body),
        },
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('error', reject);
        response.on('end', () => {
          if (response.statusCode === 200) return resolve(performance.now() - started);
          const text = Buffer.concat(chunks).toString('utf8');
          reject(new Error(`status ${response.statusCode}: ${text.slice(0, 200)}`));
        });
      },
    );
    request.on('error', reject);
    request.end(body);
  });
}

const agents = new Map<string, Agent>();
function agentOf(gatewayUrl: string, key: string): Agent {
  const name = `${gatewayUrl} ${key}`;
  let agent = agents.get(name);
  if (!agent) {
    agent = new Agent({ keepAlive: true, maxSockets: 1 });
    agents.set(name, agent);
  }
  return agent;
}

const percentile = (sorted: readonly number[], p: number) =>
  sorted.length === 0 ? Number.NaN : sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;

/** Every analyst (one per key) asks `sqlFor(analyst)` again and again for `seconds`. */
export async function runAnalysts(
  gatewayUrls: readonly string[],
  keys: readonly string[],
  sqlFor: (analyst: number) => string,
  seconds: number,
): Promise<LoadResult> {
  const latencies: number[] = [];
  const failureSamples: string[] = [];
  let failures = 0;
  const until = performance.now() + seconds * 1000;
  await Promise.all(
    keys.map(async (key, analyst) => {
      const url = gatewayUrls[analyst % gatewayUrls.length]!;
      while (performance.now() < until) {
        try {
          latencies.push(await askQuery(url, key, sqlFor(analyst)));
        } catch (error) {
          failures++;
          if (failureSamples.length < 5) failureSamples.push(String(error));
        }
      }
    }),
  );
  const sorted = latencies.sort((a, b) => a - b);
  return {
    answers: sorted.length,
    perSecond: sorted.length / seconds,
    p50: percentile(sorted, 0.5),
    p99: percentile(sorted, 0.99),
    failures,
    failureSamples,
  };
}

/** CPU time (user + system) a process has used so far, in ms, from /proc (Linux). */
export function processCpuMs(pid: number): number {
  // Fields after the command name, which is in parentheses and may hold spaces.
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]);
  return (ticks * 1000) / CLOCK_TICKS_PER_SECOND;
}
/** USER_HZ, 100 on every Linux this runs on. */
const CLOCK_TICKS_PER_SECOND = 100;
