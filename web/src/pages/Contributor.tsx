import { useState } from 'preact/hooks';
import { type Community, type Federation, get, type Me } from '../api.ts';
import { BudgetCard, SpendOverTime } from '../components/Budget.tsx';
import { FederationCard } from '../components/FederationView.tsx';
import { Ledger } from '../components/Ledger.tsx';
import { RenyiFilterCard } from '../components/RenyiFilter.tsx';
import { when } from '../format.ts';
import { useLoad } from '../hooks.ts';

export function ContributorPage(props: { me: Me }) {
  const [refresh, setRefresh] = useState(0);
  const communities = useLoad(
    (signal) => get<{ communities: Community[] }>('/v1/communities', signal),
    [refresh],
  );
  const federation = useLoad(
    (signal) => get<{ federation: Federation | null }>('/v1/federation', signal),
    [refresh],
  );
  const mine = communities.data?.communities.find((c) => c.id === props.me.community_id);
  return (
    <div class="page">
      <div class="page-head">
        <h1>{props.me.community_id}</h1>
        <button type="button" onClick={() => setRefresh((r) => r + 1)}>
          Refresh
        </button>
      </div>
      {communities.error && (
        <p class="error" role="alert">
          {communities.error}
        </p>
      )}
      {mine && (
        <>
          <p class="muted">
            Budget set by the council under policy <code>{mine.policy_version.slice(0, 12)}</code>; last
            charge {when(mine.updated_at)}.
          </p>
          <div class="grid-2">
            <BudgetCard community={mine} />
            <SpendOverTime community={mine} refresh={refresh} />
          </div>
          {mine.rdp && <RenyiFilterCard community={{ ...mine, rdp: mine.rdp }} />}
          <Ledger community={mine.id} refresh={refresh} />
          <FederationCard federation={federation.data?.federation} community={mine.id} />
        </>
      )}
    </div>
  );
}
