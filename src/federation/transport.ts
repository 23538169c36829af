/**
 * How the gateway reaches nodes: one signed request, one signed response. `HttpTransport` POSTs to
 * a node's `/federation/v1/secagg`; `InProcessTransport` (tests, benchmarks) calls the node directly
 * but still passes every message through JSON, so sizes and parsing are those of the wire.
 */
import type { Envelope } from './messages.ts';

export interface FederationTransport {
  call(node: string, request: Envelope, timeoutMs: number): Promise<unknown>;
}

export interface MessageHandler {
  handle(message: unknown): Promise<Envelope>;
}

/** Bytes each node sent and received, for the benchmark. */
export class TrafficMeter {
  readonly sent = new Map<string, number>();
  readonly received = new Map<string, number>();
  record(node: string, requestBytes: number, responseBytes: number): void {
    this.received.set(node, (this.received.get(node) ?? 0) + requestBytes);
    this.sent.set(node, (this.sent.get(node) ?? 0) + responseBytes);
  }
}

export class InProcessTransport implements FederationTransport {
  constructor(
    private readonly nodes: ReadonlyMap<string, MessageHandler>,
    readonly meter = new TrafficMeter(),
  ) {}

  async call(node: string, request: Envelope, timeoutMs: number): Promise<unknown> {
    const handler = this.nodes.get(node);
    if (!handler) throw new Error(`node ${node} is unreachable`);
    const requestText = JSON.stringify(request);
    const response = await withTimeout(handler.handle(JSON.parse(requestText)), timeoutMs);
    const responseText = JSON.stringify(response);
    this.meter.record(node, requestText.length, responseText.length);
    return JSON.parse(responseText);
  }
}

export class HttpTransport implements FederationTransport {
  constructor(
    private readonly urls: Readonly<Record<string, string>>,
    readonly meter = new TrafficMeter(),
  ) {}

  async call(node: string, request: Envelope, timeoutMs: number): Promise<unknown> {
    const base = this.urls[node];
    if (!base) throw new Error(`node ${node} has no url`);
    const body = JSON.stringify(request);
    const response = await fetch(new URL('/federation/v1/secagg', base), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
      signal: AbortSignal.timeout(timeoutMs),
    });
    const text = await response.text();
    this.meter.record(node, body.length, text.length);
    if (!response.ok) throw new Error(`node ${node} refused (${response.status})`);
    return JSON.parse(text);
  }
}

async function withTimeout<T>(promise: Promise<T>, timeoutMs: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error('timed out')), timeoutMs);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
