import { SSEHubError } from '@ssehub/node';
import { parseUser } from '../../../lib/users';
import { sse } from '../../../lib/sse';

// A notification to one user of the sender's tenant, from a route handler.
export async function POST(req: Request): Promise<Response> {
  const body = (await req.json().catch(() => ({}))) as { user?: string; to?: string; title?: string };
  const from = parseUser(body.user);
  if (!from || !body.to || !body.title) {
    return Response.json({ error: { code: 'invalid_request', message: 'want {user, to, title}' } }, { status: 400 });
  }
  try {
    const id = await sse.emit(
      'notification:new',
      { id: crypto.randomUUID(), title: body.title, from: { id: from.userId, name: from.userId } },
      { userId: body.to },
      { tenantId: from.tenantId },
    );
    return Response.json({ id }, { status: 202 });
  } catch (e) {
    const status = e instanceof SSEHubError && e.status ? e.status : 502;
    return Response.json({ error: { code: 'publish_failed', message: String(e) } }, { status });
  }
}
