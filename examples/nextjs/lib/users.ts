// The demo's users, in two tenants. Sign-in is a pick from this list (no
// password): a real app reads its session instead.
export const USERS = ['alice@acme', 'bob@acme', 'carol@acme', 'alice@globex'] as const;
export type DemoUser = (typeof USERS)[number];

/** Splits `alice@acme` into the user id and the tenant id. */
export function parseUser(v: string | null | undefined): { userId: string; tenantId: string } | undefined {
  if (!v || !(USERS as readonly string[]).includes(v)) return undefined;
  const [userId, tenantId] = v.split('@') as [string, string];
  return { userId, tenantId };
}

/** The conversation everybody of a tenant is in. */
export const CONVERSATION = 'general';
