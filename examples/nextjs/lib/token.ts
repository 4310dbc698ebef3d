import { createHmac } from 'node:crypto';

const b64url = (b: Buffer | string) => Buffer.from(b).toString('base64url');

/** An HS256 JWT for ssehub, signed with SSEHUB_JWT_SECRET (the secret ssehub checks with). */
export function streamToken(userId: string, tenantId: string, ttlSeconds = 900): string {
  const secret = process.env.SSEHUB_JWT_SECRET;
  if (!secret) throw new Error('SSEHUB_JWT_SECRET is not set');
  const header = b64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }));
  const now = Math.floor(Date.now() / 1000);
  const claims = b64url(
    JSON.stringify({ sub: userId, tid: tenantId, channels: ['conversation:*'], iat: now, exp: now + ttlSeconds }),
  );
  const sig = b64url(createHmac('sha256', secret).update(`${header}.${claims}`).digest());
  return `${header}.${claims}.${sig}`;
}
