import { SSEProvider } from '@ssehub/react';
import { useState } from 'react';
import { Session } from '../lib/api.ts';
import '../lib/register.ts';
import { Login } from './Login.tsx';
import { Workspace } from './Workspace.tsx';

/** The demo app: the sign-in page, then the signed-in user's workspace. */
export function App() {
  const [session, setSession] = useState(() => {
    const s = Session.restore();
    return s && !s.user.admin ? s : null;
  });
  if (!session) return <Login onLogin={setSession} />;
  const signOut = () => {
    Session.forget();
    setSession(null);
  };
  return (
    // One client per signed-in user. Tabs of the same user share one
    // connection; another user in another tab gets their own.
    <SSEProvider
      key={session.user.id}
      options={{ url: '/api/sse', getToken: session.getToken, shareAcrossTabs: { key: `ssehub-demo:${session.user.id}` } }}
    >
      <Workspace session={session} onSignOut={signOut} />
    </SSEProvider>
  );
}
