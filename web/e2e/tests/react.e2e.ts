import { describe, expect, it } from 'vitest';
import { sleep, useE2E } from '../harness/fixture.js';

const e2e = useE2E();

describe.each([
  ['react', '19.'],
  ['react18', '18.'],
])('@ssehub/react hooks in Chromium (%s)', (name, major) => {
  it('renders events through the hooks, with one connection under StrictMode', async () => {
    const user = `u-${name}`;
    const page = await e2e.open({ token: await e2e.token(user, { channels: 'conversation:*' }) }, { name });
    await page.locator('#status', { hasText: /^connected$/ }).waitFor({ timeout: 15_000 });
    expect(await page.locator('#version').textContent()).toMatch(new RegExp(`^${major.replace('.', '\\.')}`));

    await e2e.hub.publish('news:item', { seq: 1, title: 'First' }, { userId: user });
    await e2e.hub.publish('news:item', { seq: 2, title: 'Second' }, { userId: user });
    await page.locator('#news li').nth(1).waitFor();
    expect(await page.locator('#news li').allTextContents()).toEqual(['First', 'Second']);

    // The chat hook joined conversation:1 on the live connection.
    await e2e.hub.publish('chat:message', { conversationId: '1', seq: 3, text: 'hi there' }, { channel: 'conversation:1' });
    await e2e.hub.publish('chat:message', { conversationId: '2', seq: 4, text: 'elsewhere' }, { userId: user });
    await e2e.hub.publish('chat:typing', { conversationId: '1', userId: 'u-other' }, { channel: 'conversation:1' });
    await page.locator('#chat-1 .typing', { hasText: 'u-other is typing' }).waitFor();
    expect(await page.locator('#chat-1 .messages li').allTextContents()).toEqual(['hi there']);

    // StrictMode mounted everything twice; the server still saw one connection.
    await sleep(300);
    expect(e2e.requests(user)).toHaveLength(1);
    expect((await e2e.hub.stats()).clientsByUser[`t1/${user}`]).toBe(1);
  });
});
