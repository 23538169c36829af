import './styles.css';
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { ApiError, get, type Me, session } from './api.ts';
import { message } from './hooks.ts';
import { AnalystPage } from './pages/Analyst.tsx';
import { ContributorPage } from './pages/Contributor.tsx';
import { CouncilPage } from './pages/Council.tsx';

const ROLE_TITLES = {
  analyst: 'Analyst workspace',
  contributor: 'Community budget',
  council: 'Governance council',
} as const;

function SignIn(props: { onSignedIn: (me: Me) => void; notice?: string }) {
  const [key, setKey] = useState('');
  const [error, setError] = useState(props.notice);
  const [busy, setBusy] = useState(false);
  const submit = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    setError(undefined);
    session.save(key.trim());
    try {
      props.onSignedIn(await get<Me>('/v1/me'));
    } catch (failure) {
      session.clear();
      setError(
        failure instanceof ApiError && failure.problem.status === 401
          ? 'This API key is unknown or revoked.'
          : message(failure),
      );
    } finally {
      setBusy(false);
    }
  };
  return (
    <main class="signin">
      <div class="signin-card">
        <Logo />
        <h1>Sign in to dpgate</h1>
        <p class="muted">
          Paste your API key. It stays in this tab’s session storage and is sent only as an Authorization
          header; closing the tab forgets it.
        </p>
        <form onSubmit={submit}>
          <label for="api-key">API key</label>
          <input
            id="api-key"
            type="password"
            autocomplete="off"
            spellcheck={false}
            placeholder="dpg_…"
            value={key}
            onInput={(e) => setKey(e.currentTarget.value)}
            aria-describedby={error ? 'signin-error' : undefined}
            required
          />
          {error && (
            <p id="signin-error" class="error" role="alert">
              {error}
            </p>
          )}
          <button type="submit" class="primary" disabled={busy || !key.trim()}>
            {busy ? 'Signing in…' : 'Sign in'}
          </button>
        </form>
        <p class="muted small">
          No key? A council member makes one (<code>dpgate keys create</code>). The API is described at{' '}
          <a href="/docs">/docs</a>.
        </p>
      </div>
    </main>
  );
}

function Logo() {
  return (
    <span class="logo" aria-hidden="true">
      <svg viewBox="0 0 24 24" width="28" height="28" aria-hidden="true">
        <title>dpgate</title>
        <circle cx="12" cy="12" r="10" class="logo-ring" />
        <path d="M7 13c2-5 8-5 10 0" class="logo-arc" />
        <circle cx="12" cy="14" r="2" class="logo-dot" />
      </svg>
      dpgate
    </span>
  );
}

function App() {
  const [me, setMe] = useState<Me | undefined>();
  const [checking, setChecking] = useState(Boolean(session.key()));
  const [notice, setNotice] = useState<string>();
  useEffect(() => {
    if (!session.key()) return;
    get<Me>('/v1/me').then(
      (who) => {
        setMe(who);
        setChecking(false);
      },
      () => {
        session.clear();
        setNotice('Your session ended: sign in again.');
        setChecking(false);
      },
    );
  }, []);
  if (checking) return <p class="loading-page">Loading…</p>;
  if (!me) return <SignIn onSignedIn={setMe} notice={notice} />;
  const signOut = () => {
    session.clear();
    setMe(undefined);
  };
  return (
    <>
      <a class="skip" href="#main">
        Skip to content
      </a>
      <header class="topbar">
        <Logo />
        <span class="topbar-title">{ROLE_TITLES[me.role]}</span>
        <span class="who">
          <span class={`role-badge role-${me.role}`}>{me.role}</span>
          <span>{me.name}</span>
          {me.community_id && <span class="muted">· {me.community_id}</span>}
          <button type="button" class="ghost" onClick={signOut}>
            Sign out
          </button>
        </span>
      </header>
      <main id="main" tabIndex={-1}>
        {me.role === 'contributor' && <ContributorPage me={me} />}
        {me.role === 'council' && <CouncilPage me={me} />}
        {me.role === 'analyst' && <AnalystPage me={me} />}
      </main>
    </>
  );
}

render(<App />, document.getElementById('app')!);
