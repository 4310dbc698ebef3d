// ssehub on the app's origin through rewrites: only the two paths the
// browser needs. The app's own /api/sse/token is not rewritten.
const ssehub = process.env.SSEHUB_URL ?? 'http://127.0.0.1:8080';

/** @type {import('next').NextConfig} */
export default {
  experimental: {
    // Rewrites drop a proxied response idle this long; the default (30 s)
    // equals ssehub's heartbeat and cuts idle streams. At least twice --heartbeat.
    proxyTimeout: 120_000,
  },
  async rewrites() {
    return [
      { source: '/api/sse', destination: `${ssehub}/api/sse` },
      { source: '/api/sse/subscriptions', destination: `${ssehub}/api/sse/subscriptions` },
    ];
  },
};
