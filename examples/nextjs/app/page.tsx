import { parseUser, USERS } from '../lib/users';
import { Live } from './live';

export const dynamic = 'force-dynamic';

export default async function Page({ searchParams }: { searchParams: Promise<{ user?: string }> }) {
  const { user } = await searchParams;
  if (!parseUser(user)) {
    return (
      <main>
        <h1>Sign in</h1>
        <ul>
          {USERS.map((u) => (
            <li key={u}>
              <a href={`/?user=${encodeURIComponent(u)}`}>{u}</a>
            </li>
          ))}
        </ul>
      </main>
    );
  }
  return <Live user={user!} />;
}
