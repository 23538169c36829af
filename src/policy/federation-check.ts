/** Cross-checks of the `federation` section: nodes, communities, threshold and node tables. */
import type { PolicyIssue } from './issues.ts';
import type { Policy } from './schema.ts';

type Issue = Omit<PolicyIssue, 'file' | 'line' | 'column'>;

export function checkFederation(policy: Policy): Issue[] {
  const federation = policy.federation;
  if (!federation) return [];
  const issues: Issue[] = [];
  const nodes = Object.entries(federation.nodes);
  const holders = new Map<string, string>();
  for (const [id, node] of nodes) {
    if (!(node.community in policy.budgets)) {
      issues.push({
        path: ['federation', 'nodes', id, 'community'],
        message: `names community "${node.community}", which has no budget`,
      });
    }
    const other = holders.get(node.community);
    if (other) {
      issues.push({
        path: ['federation', 'nodes', id, 'community'],
        message: `community "${node.community}" is already held by node "${other}"; one node per community`,
      });
    }
    holders.set(node.community, id);
    if (id === federation.gateway.id) {
      issues.push({ path: ['federation', 'nodes', id], message: 'a node cannot share the gateway’s id' });
    }
  }
  const keys = [federation.gateway.public_key, ...nodes.map(([, node]) => node.public_key)];
  if (new Set(keys).size !== keys.length) {
    issues.push({ path: ['federation'], message: 'every node and the gateway need their own public key' });
  }
  if (federation.threshold > nodes.length) {
    issues.push({
      path: ['federation', 'threshold'],
      message: `is ${federation.threshold}, above the number of nodes (${nodes.length})`,
    });
  }
  if (federation.max_colluding_nodes >= federation.threshold) {
    issues.push({
      path: ['federation', 'max_colluding_nodes'],
      message:
        'must be below the threshold: the noise of threshold − max_colluding_nodes nodes is what protects a sum',
    });
  }
  federation.tables.forEach((table, index) => {
    const declared = policy.tables[table];
    if (!declared) {
      issues.push({
        path: ['federation', 'tables', index],
        message: `refers to table "${table}", which is not declared under tables`,
      });
    } else if (declared.public) {
      issues.push({
        path: ['federation', 'tables', index],
        message: `"${table}" is public; only private tables live on nodes`,
      });
    }
  });
  return issues;
}
