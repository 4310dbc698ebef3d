/** The event map the test pages and tests agree on. */
export interface TestEvents {
  'chat:message': { conversationId: string; seq: number; text: string };
  'chat:typing': { conversationId: string; userId: string };
  'news:item': { seq: number; title: string };
}

/** What a page's script reads from its `?cfg=` parameter. */
export interface PageConfig {
  /** The first token; later ones come from `tokenUrl`. */
  token?: string;
  /** Where getToken() fetches a fresh token after the first. */
  tokenUrl?: string;
  channels?: string[];
  /** Tab sharing; undefined means on. */
  share?: boolean;
  transport?: 'fetch' | 'eventsource';
}

/** What the client page records, read by the tests through `window.sse.log`. */
export interface PageLog {
  events: { event: string; id: string; data: unknown }[];
  states: { connected: boolean; connecting: boolean; reconnectAttempts: number; error: string | null; at: number }[];
  resets: number;
  tokenCalls: number;
}

export function readConfig(): PageConfig {
  return JSON.parse(new URLSearchParams(location.search).get('cfg') ?? '{}') as PageConfig;
}

/** getToken for a page: the configured token first, then fresh ones from tokenUrl. */
export function tokenGetter(cfg: PageConfig, onCall: () => void): (() => Promise<string>) | undefined {
  if (!cfg.token && !cfg.tokenUrl) return undefined;
  let calls = 0;
  return async () => {
    onCall();
    if (calls++ === 0 && cfg.token) return cfg.token;
    const res = await fetch(cfg.tokenUrl ?? '');
    return res.text();
  };
}
