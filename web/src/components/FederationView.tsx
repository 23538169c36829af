/**
 * The federation section of the policy: which communities keep their rows on their own node, how
 * many nodes a round needs, which tables live on the nodes, each node's key fingerprint and, when
 * the gateway contacts the nodes, whether it can reach them now.
 */
import type { Federation, FederationNode } from '../api.ts';
import { when } from '../format.ts';

function Reachability(props: { node: FederationNode }) {
  const r = props.node.reachability;
  if (!r) return <span class="muted">not contacted by this gateway</span>;
  if (!r.reachable)
    return (
      <span class="tag tag-private" title={`checked ${when(r.checked_at)}`}>
        unreachable
      </span>
    );
  return (
    <span title={`checked ${when(r.checked_at)}`}>
      <span class="tag tag-ok">reachable</span>
      {!r.same_policy && <span class="tag tag-private">other policy version</span>}
    </span>
  );
}

export function FederationView(props: { federation: Federation; community?: string | null }) {
  const f = props.federation;
  const dropouts = f.nodes.length - f.threshold;
  return (
    <div class="federation">
      <dl class="facts">
        <dt>Nodes</dt>
        <dd>
          {f.nodes.length} communities keep their rows on their own node; the gateway sees only securely
          aggregated, noised sums
        </dd>
        <dt>Dropout threshold</dt>
        <dd>
          a round needs {f.threshold} of {f.nodes.length} nodes ({dropouts} may drop out); fewer and it aborts
          with nothing released
        </dd>
        <dt>Noise sized for</dt>
        <dd>
          {f.guaranteed_nodes} node{f.guaranteed_nodes === 1 ? '' : 's'} ({f.max_colluding_nodes} assumed able
          to collude with the gateway)
        </dd>
        <dt>Tables on the nodes</dt>
        <dd>
          {f.tables.map((t) => (
            <code key={t}>{t} </code>
          ))}
        </dd>
        <dt>Gateway key fingerprint</dt>
        <dd>
          <code class="fingerprint">{f.gateway.fingerprint}</code>
        </dd>
      </dl>
      <table class="compact-table">
        <caption class="visually-hidden">Federation nodes</caption>
        <thead>
          <tr>
            <th scope="col">Node</th>
            <th scope="col">Community</th>
            <th scope="col">Key fingerprint</th>
            <th scope="col">Reachability</th>
          </tr>
        </thead>
        <tbody>
          {f.nodes.map((node) => (
            <tr key={node.id} class={node.community === props.community ? 'own' : ''}>
              <th scope="row">
                <code>{node.id}</code>
                {node.url && <div class="muted small">{node.url}</div>}
              </th>
              <td>
                {node.community}
                {node.community === props.community && <span class="tag">yours</span>}
              </td>
              <td>
                <code class="fingerprint" title={node.public_key}>
                  {node.fingerprint}
                </code>
              </td>
              <td>
                <Reachability node={node} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/** The federation as a card of its own, or nothing when the commons has none. */
export function FederationCard(props: {
  federation: Federation | null | undefined;
  community?: string | null;
}) {
  if (!props.federation) return null;
  return (
    <section class="card" id="federation" aria-labelledby="federation-title">
      <h2 id="federation-title">Federation</h2>
      <FederationView federation={props.federation} community={props.community ?? null} />
    </section>
  );
}
