/**
 * A TCP proxy in front of PostgreSQL that counts what clients send, whatever their code: statements
 * (a simple Query, or an Execute of the extended protocol) and round trips (a simple Query, or a
 * Sync, after which the client waits for the server). Used by throughput.bench.ts to count the
 * statements of one fresh answer on any checkout. Reads the frontend protocol only; no TLS.
 */
import { createConnection, createServer, type Server } from 'node:net';

export interface WireCounts {
  statements: number;
  roundTrips: number;
}

export interface WireCounter {
  /** The database URL through the proxy. */
  readonly url: string;
  readonly counts: WireCounts;
  close(): Promise<void>;
}

export async function startWireCounter(databaseUrl: string): Promise<WireCounter> {
  const target = new URL(databaseUrl);
  const counts: WireCounts = { statements: 0, roundTrips: 0 };
  const server: Server = createServer((client) => {
    const upstream = createConnection(Number(target.port || 5432), target.hostname);
    let buffered = Buffer.alloc(0);
    let started = false;
    client.on('data', (chunk: Buffer) => {
      upstream.write(chunk);
      buffered = Buffer.concat([buffered, chunk]);
      for (;;) {
        // The startup message has no type byte; every later one is a type byte and a length.
        const header = started ? 5 : 4;
        if (buffered.length < header) break;
        const length = buffered.readInt32BE(started ? 1 : 0) + (started ? 1 : 0);
        if (buffered.length < length) break;
        if (started) {
          const type = String.fromCharCode(buffered[0]!);
          if (type === 'Q' || type === 'E') counts.statements++;
          if (type === 'Q' || type === 'S') counts.roundTrips++;
        }
        started = true;
        buffered = buffered.subarray(length);
      }
    });
    upstream.on('data', (chunk) => client.write(chunk));
    const end = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('close', end).on('error', end);
    upstream.on('close', end).on('error', end);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('the proxy has no TCP address');
  const url = new URL(databaseUrl);
  url.hostname = '127.0.0.1';
  url.port = String(address.port);
  return {
    url: url.toString(),
    counts,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
