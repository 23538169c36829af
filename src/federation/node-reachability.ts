/**
 * Whether the gateway can reach each node, from the nodes' unauthenticated health route (node id,
 * community, policy version: nothing private). Probed at most once per `ttlMs` however often the
 * dashboard asks, all nodes at once, each with its own timeout, so a page view never waits long and
 * never makes the gateway hammer the nodes.
 */

export interface NodeReachability {
  /** Answered the health route as this node, in time. */
  readonly reachable: boolean;
  /** The policy version the node runs, when it answered; the gateway refuses rounds with another. */
  readonly policy_version: string | null;
  readonly same_policy: boolean;
  readonly checked_at: string;
}

export class NodeProber {
  private last: { at: number; result: Promise<Record<string, NodeReachability>> } | undefined;

  constructor(
    private readonly nodes: Readonly<Record<string, string>>,
    private readonly policyVersion: string,
    private readonly timeoutMs = 2_000,
    private readonly ttlMs = 30_000,
    private readonly now: () => number = Date.now,
  ) {}

  check(): Promise<Record<string, NodeReachability>> {
    const at = this.now();
    if (!this.last || at - this.last.at >= this.ttlMs) this.last = { at, result: this.probeAll(at) };
    return this.last.result;
  }

  private async probeAll(at: number): Promise<Record<string, NodeReachability>> {
    const checkedAt = new Date(at).toISOString();
    const entries = await Promise.all(
      Object.entries(this.nodes).map(async ([id, url]) => {
        const version = await this.probe(id, url);
        const reachability: NodeReachability = {
          reachable: version !== undefined,
          policy_version: version ?? null,
          same_policy: version === this.policyVersion,
          checked_at: checkedAt,
        };
        return [id, reachability] as const;
      }),
    );
    return Object.fromEntries(entries);
  }

  /** The node's policy version, or undefined when it did not answer as itself in time. */
  private async probe(id: string, url: string): Promise<string | undefined> {
    try {
      const response = await fetch(new URL('/federation/v1/health', url), {
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      if (!response.ok) return undefined;
      const body = (await response.json()) as { node?: unknown; policy_version?: unknown };
      return body.node === id && typeof body.policy_version === 'string' ? body.policy_version : undefined;
    } catch {
      return undefined;
    }
  }
}
