/** API keys for the council: list, create, rotate, revoke. A new secret is shown once. */
import { useState } from 'preact/hooks';
import { type ApiKey, get, post, type Role } from '../api.ts';
import { when } from '../format.ts';
import { message, useLoad } from '../hooks.ts';

export function Keys(props: { communities: string[] }) {
  const keys = useLoad((signal) => get<{ keys: ApiKey[] }>('/v1/keys', signal));
  const [name, setName] = useState('');
  const [role, setRole] = useState<Role>('analyst');
  const [community, setCommunity] = useState(props.communities[0] ?? '');
  const [secret, setSecret] = useState<{ key: ApiKey; secret: string }>();
  const [error, setError] = useState<string>();
  const [showRevoked, setShowRevoked] = useState(false);

  const act = async (work: () => Promise<void>) => {
    setError(undefined);
    try {
      await work();
      keys.reload();
    } catch (failure) {
      setError(message(failure));
    }
  };
  const create = (event: Event) => {
    event.preventDefault();
    void act(async () => {
      setSecret(await post('/v1/keys', { name, role, ...(role === 'contributor' ? { community } : {}) }));
      setName('');
    });
  };
  const rotate = (key: ApiKey) => {
    if (!confirm(`Rotate “${key.name}”? The old key stops working at once.`)) return;
    void act(async () => setSecret(await post(`/v1/keys/${key.id}/rotate`)));
  };
  const revoke = (key: ApiKey) => {
    if (!confirm(`Revoke “${key.name}”? Requests made with it will be refused.`)) return;
    void act(async () => {
      await post(`/v1/keys/${key.id}/revoke`);
    });
  };
  const list = (keys.data?.keys ?? []).filter((k) => showRevoked || !k.revoked_at);
  return (
    <section class="card" id="keys" aria-labelledby="keys-title">
      <h2 id="keys-title">API keys</h2>
      <form class="inline-form" onSubmit={create}>
        <label>
          Name
          <input
            value={name}
            onInput={(e) => setName(e.currentTarget.value)}
            required
            placeholder="who holds it"
          />
        </label>
        <label>
          Role
          <select value={role} onChange={(e) => setRole(e.currentTarget.value as Role)}>
            <option value="analyst">analyst</option>
            <option value="contributor">contributor</option>
            <option value="council">council</option>
          </select>
        </label>
        {role === 'contributor' && (
          <label>
            Community
            <select value={community} onChange={(e) => setCommunity(e.currentTarget.value)}>
              {props.communities.map((c) => (
                <option key={c}>{c}</option>
              ))}
            </select>
          </label>
        )}
        <button type="submit" class="primary" disabled={!name.trim()}>
          Create key
        </button>
      </form>
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      {secret && (
        <div class="secret" role="status">
          <p>
            <strong>
              New key for “{secret.key.name}” ({secret.key.role}).
            </strong>{' '}
            Copy it now: it is not shown again.
          </p>
          <div class="secret-row">
            <input
              readOnly
              value={secret.secret}
              aria-label="The new API key"
              onFocus={(e) => e.currentTarget.select()}
            />
            <button type="button" onClick={() => navigator.clipboard?.writeText(secret.secret)}>
              Copy
            </button>
            <button type="button" class="ghost" onClick={() => setSecret(undefined)}>
              Done
            </button>
          </div>
        </div>
      )}
      <label class="checkbox">
        <input
          type="checkbox"
          checked={showRevoked}
          onChange={(e) => setShowRevoked(e.currentTarget.checked)}
        />{' '}
        Show revoked keys
      </label>
      <div class="table-scroll">
        <table>
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Role</th>
              <th scope="col">Prefix</th>
              <th scope="col">Created</th>
              <th scope="col">Status</th>
              <th scope="col">
                <span class="visually-hidden">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {list.map((key) => (
              <tr key={key.id} class={key.revoked_at ? 'revoked' : ''}>
                <td>{key.name}</td>
                <td>
                  {key.role}
                  {key.community && <span class="muted"> · {key.community}</span>}
                </td>
                <td>
                  <code>{key.prefix}…</code>
                </td>
                <td class="nowrap">{when(key.created_at)}</td>
                <td>{key.revoked_at ? `revoked ${when(key.revoked_at)}` : 'active'}</td>
                <td class="nowrap">
                  {!key.revoked_at && (
                    <>
                      <button
                        type="button"
                        class="small-button"
                        onClick={() => rotate(key)}
                        aria-label={`Rotate ${key.name}`}
                      >
                        Rotate
                      </button>{' '}
                      <button
                        type="button"
                        class="small-button danger"
                        onClick={() => revoke(key)}
                        aria-label={`Revoke ${key.name}`}
                      >
                        Revoke
                      </button>
                    </>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}
