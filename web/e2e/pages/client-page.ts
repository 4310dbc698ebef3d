// The plain-client test page: records events and states in window.sse.log.
import { createClient } from '@ssehub/client';
import { readConfig, tokenGetter, type PageLog, type TestEvents } from './events.js';

const cfg = readConfig();
const log: PageLog = { events: [], states: [], resets: 0, tokenCalls: 0 };

const client = createClient<TestEvents>({
  url: '/api/sse',
  channels: cfg.channels,
  shareAcrossTabs: cfg.share ?? true,
  transport: cfg.transport,
  getToken: tokenGetter(cfg, () => log.tokenCalls++),
  onReset: () => log.resets++,
});

client.subscribe(() => {
  const s = client.getState();
  log.states.push({ ...s, error: s.error ? `${s.error.name}: ${s.error.message}` : null, at: Date.now() });
});
// Typed handlers: `d.seq` is a number, `d.conversationId` a string.
client.subscribe('chat:message', (d, meta) => {
  log.events.push({ event: meta.event, id: meta.id, data: { conversationId: d.conversationId, seq: d.seq, text: d.text } });
});
client.subscribe('news:item', (d, meta) => {
  log.events.push({ event: meta.event, id: meta.id, data: { seq: d.seq, title: d.title } });
});

Object.assign(window, { sse: { client, log } });
