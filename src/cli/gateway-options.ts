/** The options of commands that talk to a running gateway: where it is and which key to use. */
import { type Command, Option } from 'commander';

export interface GatewayOptions {
  readonly url: string;
  readonly key: string;
}

export function withGatewayOptions(command: Command, keyRole: string): Command {
  return command
    .addOption(new Option('--url <url>', 'the gateway').env('DPGATE_URL').default('http://127.0.0.1:8787'))
    .addOption(new Option('--key <key>', `${keyRole} API key`).env('DPGATE_KEY').makeOptionMandatory());
}

/**
 * For commands that work either on the database directly or, given a key, through a running
 * gateway's API (the way to reach an embedded gateway's database while it runs).
 */
export function withOptionalGatewayOptions(command: Command): Command {
  return command
    .addOption(
      new Option('--url <url>', 'a running gateway to do this through')
        .env('DPGATE_URL')
        .default('http://127.0.0.1:8787'),
    )
    .addOption(
      new Option('--key <key>', 'a council API key: work through the gateway instead of the database').env(
        'DPGATE_KEY',
      ),
    );
}

/** A problem answered by the gateway, printed by the CLI as `code: detail`. */
export class GatewayProblemError extends Error {
  override name = 'GatewayProblemError';
}

/** The body of a successful answer; a problem becomes a `GatewayProblemError` with its code. */
export async function expectOk<Body>(
  options: GatewayOptions,
  method: 'GET' | 'POST',
  path: string,
  payload?: unknown,
): Promise<Body> {
  const response = await callGateway<Body & { code?: string; detail?: string }>(
    options,
    method,
    path,
    payload,
  );
  if (!response.ok) {
    const { code, detail } = response.body;
    throw new GatewayProblemError(
      `${code ?? response.status}: ${detail ?? 'the gateway refused the request'}`,
    );
  }
  return response.body;
}

/** Raised when the gateway cannot be reached or does not answer in JSON; the CLI prints the message. */
export class GatewayUnreachableError extends Error {
  override name = 'GatewayUnreachableError';
}

/**
 * One authenticated request to the gateway, answered as `{ status, ok, body }`. A refused
 * connection, an unknown host or a timeout becomes a sentence naming the URL and the cause, not
 * undici's bare `fetch failed`.
 */
export async function callGateway<Body = Record<string, unknown>>(
  options: GatewayOptions,
  method: 'GET' | 'POST',
  path: string,
  payload?: unknown,
): Promise<{ status: number; ok: boolean; body: Body }> {
  const url = new URL(path, options.url);
  let response: Response;
  try {
    response = await fetch(url, {
      method,
      headers: {
        authorization: `Bearer ${options.key}`,
        ...(payload === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(payload === undefined ? {} : { body: JSON.stringify(payload) }),
      signal: AbortSignal.timeout(120_000),
    });
  } catch (error) {
    throw new GatewayUnreachableError(
      `cannot reach the gateway at ${url.origin} (${networkCause(error)}); is it running? Set --url or DPGATE_URL`,
    );
  }
  const text = await response.text();
  try {
    return { status: response.status, ok: response.ok, body: JSON.parse(text) as Body };
  } catch {
    throw new GatewayUnreachableError(
      `${url.origin} answered ${response.status} without JSON; is --url pointing at a dpgate gateway?`,
    );
  }
}

const NETWORK_ERRORS: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ENOTFOUND: 'unknown host',
  EAI_AGAIN: 'host lookup failed',
  ECONNRESET: 'connection reset',
  UND_ERR_CONNECT_TIMEOUT: 'connection timed out',
};

function networkCause(error: unknown): string {
  if (error instanceof Error && error.name === 'TimeoutError') return 'no answer within 120 s';
  const cause =
    error instanceof Error ? (error.cause as { code?: string; message?: string } | undefined) : undefined;
  const code = cause?.code;
  if (code) return NETWORK_ERRORS[code] ?? code;
  return cause?.message ?? (error instanceof Error ? error.message : String(error));
}
