import { parseUser } from '../../../../lib/users';
import { streamToken } from '../../../../lib/token';

export const dynamic = 'force-dynamic';

// The browser's stream token. Not rewritten to ssehub (next.config.mjs routes
// only /api/sse and /api/sse/subscriptions). Nobody signed in: 401, which
// fetchToken turns into the client's unauthenticated state.
export function GET(req: Request): Response {
  const who = parseUser(new URL(req.url).searchParams.get('user'));
  if (!who) return Response.json({ error: { code: 'unauthorized', message: 'not signed in' } }, { status: 401 });
  return Response.json({ token: streamToken(who.userId, who.tenantId) });
}
