import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { screenshot, World } from './harness.ts';

// Three people in three browser contexts: alice and carol in tenant acme,
// bob in tenant globex. Every assertion reads what the pages render.
describe('demo app', () => {
  const world = new World(inject('ssehubBin'));
  let alice: Page;
  let carol: Page;
  let bob: Page;

  beforeAll(async () => {
    await world.start();
    [alice, carol, bob] = await Promise.all([world.signIn('Alice Martin'), world.signIn('Carol Nguyen'), world.signIn('Bob Tanaka')]);
  });
  afterAll(() => world.stop());

  const messages = (p: Page) => p.getByTestId('messages');
  const typing = (p: Page) => p.getByTestId('typing');
  const invoices = (p: Page) => p.getByTestId('invoices');

  it('shows each user their own tenant', async () => {
    await expect.poll(() => alice.locator('.topbar .tenant-badge').textContent()).toBe('Acme Corp');
    await expect.poll(() => bob.locator('.topbar .tenant-badge').textContent()).toBe('Globex');
    // Both tenants have a General conversation with their own history.
    await messages(alice).getByText('Q2 pricing sheet').waitFor();
    await messages(bob).getByText('Month-end close').waitFor();
    expect(await messages(bob).textContent()).not.toContain('Q2 pricing sheet');
  });

  it('shows a teammate online (presence:update)', async () => {
    await carol.getByTestId('presence-alice').filter({ hasText: 'Online' }).waitFor();
    await alice.getByTestId('presence-carol').filter({ hasText: 'Online' }).waitFor();
  });

  it('shows the typing indicator, then delivers the message to the tenant only', async () => {
    const box = alice.getByRole('textbox', { name: 'Message #General' });
    await box.click();
    await box.pressSequentially('Hello Carol, the launch deck is ready', { delay: 15 });
    await typing(carol).filter({ hasText: 'Alice is typing…' }).waitFor({ timeout: 5000 });
    expect(await typing(alice).textContent()).toBe(''); // no echo of one's own typing
    await typing(bob).getByText('is typing').waitFor({ state: 'hidden' });

    await box.press('Enter');
    await messages(carol).getByText('Hello Carol, the launch deck is ready').waitFor();
    await messages(alice).getByText('Hello Carol, the launch deck is ready').waitFor();
    // The message ended the indicator; the final isTyping:false, held by the
    // coalescing window, keeps it ended.
    await typing(carol).getByText('is typing').waitFor({ state: 'hidden', timeout: 4000 });

    const reply = carol.getByRole('textbox', { name: 'Message #General' });
    await reply.fill('Thanks Alice! Sharing it with the team.');
    await reply.press('Enter');
    await messages(alice).getByText('Thanks Alice! Sharing it with the team.').waitFor();

    // bob, in globex, also has a General conversation: nothing crossed over.
    await new Promise((r) => setTimeout(r, 500));
    const bobText = await messages(bob).textContent();
    expect(bobText).not.toContain('launch deck');
    expect(bobText).not.toContain('Thanks Alice');
  });

  it('hides the typing indicator about 3 s after the last typing event', async () => {
    const box = carol.getByRole('textbox', { name: 'Message #General' });
    await box.pressSequentially('one sec', { delay: 20 });
    const shown = typing(alice).filter({ hasText: 'Carol is typing…' });
    await shown.waitFor();
    const since = Date.now();
    await shown.waitFor({ state: 'hidden', timeout: 6000 });
    expect(Date.now() - since).toBeGreaterThan(1500);
    await box.fill('');
  });

  it('adds a new invoice live for the same tenant only, with a toast for the teammate', async () => {
    await alice.getByLabel('Customer').selectOption({ label: 'Vandelay Industries' });
    await alice.getByLabel('Amount (EUR)').fill('2345.67');
    await alice.getByRole('button', { name: 'Create invoice' }).click();

    const row = (p: Page) => invoices(p).getByRole('row').filter({ hasText: 'Vandelay Industries' }).filter({ hasText: '€2,345.67' });
    await row(alice).waitFor();
    await row(carol).waitFor();
    const number = (await row(carol).getByRole('rowheader').textContent()) ?? '';
    expect(number).toMatch(/^INV-\d+$/);
    await carol.getByTestId('toast').filter({ hasText: `New invoice ${number}` }).waitFor();

    // bob creates one in globex; acme never sees it, and he never saw acme's.
    await bob.getByLabel('Amount (USD)').fill('99.00');
    await bob.getByRole('button', { name: 'Create invoice' }).click();
    await invoices(bob).getByText('$99.00').waitFor();
    await new Promise((r) => setTimeout(r, 500));
    expect(await invoices(bob).textContent()).not.toContain('Vandelay');
    expect(await invoices(alice).textContent()).not.toContain('$99.00');
    expect(await invoices(carol).textContent()).not.toContain('$99.00');
  });

  it('sends a nudge as a toast to that user only', async () => {
    await carol.getByRole('button', { name: 'Nudge Alice Martin' }).click();
    await alice.getByTestId('toast').filter({ hasText: 'Carol nudged you' }).waitFor();
    expect(await bob.getByTestId('toast').filter({ hasText: 'nudged' }).count()).toBe(0);
  });

  it('works from the keyboard', async () => {
    // Conversation tabs follow the arrow keys; the composer sends on Enter.
    await alice.getByRole('tab', { name: /General/ }).focus();
    await alice.keyboard.press('ArrowRight');
    const launch = alice.getByRole('tab', { name: /Spring launch/ });
    await expect.poll(() => launch.getAttribute('aria-selected')).toBe('true');
    expect(await alice.evaluate(() => document.activeElement?.textContent)).toContain('Spring launch');
    await alice.getByTestId('messages').getByText('Landing page copy is final').waitFor();
    await alice.keyboard.press('Tab'); // the message log is focusable, for scrolling
    await alice.keyboard.press('Tab');
    await alice.keyboard.type('Sent from the keyboard');
    await alice.keyboard.press('Enter');
    await carol.getByRole('tab', { name: /Spring launch.*1 unread/ }).waitFor();
    await alice.getByRole('tab', { name: /General/ }).click();
  });

  it('charts the server on the dashboard, broadcasts an announcement, and disables streaming after a confirmation', async () => {
    const dash = await world.dashboard();
    // Four streams: alice, carol, bob and the dashboard's own.
    await dash.getByTestId('chart-connections').getByText(/total\s*4/).waitFor({ timeout: 10_000 });
    await dash.getByTestId('chart-connections').getByText(/acme\s*2/).waitFor();
    await dash.getByTestId('nodes').locator('tbody code').waitFor();

    // A broadcast reaches both tenants.
    await dash.getByLabel('Message').fill('Maintenance at 22:00 UTC: expect a short reconnect.');
    await dash.getByRole('button', { name: 'Broadcast' }).click();
    for (const p of [alice, bob]) await p.getByTestId('announcement').filter({ hasText: 'Maintenance at 22:00 UTC' }).waitFor();

    // The switch asks first; cancelling changes nothing.
    const sw = dash.getByRole('switch', { name: 'Streaming' });
    expect(await sw.getAttribute('aria-checked')).toBe('true');
    await sw.focus();
    await dash.keyboard.press('Space');
    const dialog = dash.getByRole('dialog', { name: 'Disable streaming?' });
    await dialog.waitFor();
    // Focus starts on Cancel; Escape cancels.
    expect(await dash.evaluate(() => document.activeElement?.textContent)).toBe('Cancel');
    await dash.keyboard.press('Escape');
    await dialog.waitFor({ state: 'hidden' });
    expect(await sw.getAttribute('aria-checked')).toBe('true');
    await sw.click();
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    await dialog.waitFor({ state: 'hidden' });
    expect(await sw.getAttribute('aria-checked')).toBe('true');

    await sw.click();
    await dialog.getByRole('button', { name: 'Disable streaming' }).click();
    await alice.getByTestId('connection-status').filter({ hasText: 'Streaming disabled by an admin' }).waitFor();
    await bob.getByTestId('connection-status').filter({ hasText: 'Streaming disabled by an admin' }).waitFor();
    await expect.poll(() => sw.getAttribute('aria-checked')).toBe('false');

    await sw.click(); // enabling needs no confirmation
    await expect.poll(() => sw.getAttribute('aria-checked')).toBe('true');
    await dash.getByTestId('connection-status').filter({ hasText: 'Live' }).waitFor();
    await alice.getByRole('button', { name: 'Reconnect' }).click();
    await alice.getByTestId('connection-status').filter({ hasText: 'Live' }).waitFor();
    await dash.close();
  });
});

// The screenshots CI keeps (artifacts/screenshots/) and the README shows
// (docs/images/, copied by scripts/screenshots.sh): about 40 s of people
// joining and talking, so that the dashboard's charts have a shape.
describe('screenshots', () => {
  const world = new World(inject('ssehubBin'));
  beforeAll(() => world.start());
  afterAll(() => world.stop());

  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
  const say = async (p: Page, text: string) => {
    const box = p.getByRole('textbox', { name: /^Message #/ });
    await box.fill(text);
    await box.press('Enter');
    await p.getByTestId('messages').getByText(text).waitFor();
  };
  const type = (p: Page, text: string) => p.getByRole('textbox', { name: /^Message #/ }).pressSequentially(text, { delay: 60 });
  const invoice = async (p: Page, customer: string, amount: string) => {
    await p.getByLabel('Customer').selectOption({ label: customer });
    await p.getByLabel(/^Amount/).fill(amount);
    await p.getByRole('button', { name: 'Create invoice' }).click();
  };

  it('of the demo, the dashboard and the small-screen layouts', async () => {
    const dash = await world.dashboard({ width: 1440, height: 1000 });
    await dash.getByTestId('nodes').locator('tbody code').waitFor();
    const alice = await world.signIn('Alice Martin', { width: 1440, height: 900 });
    await sleep(2500);
    const carol = await world.signIn('Carol Nguyen');
    await sleep(2500);
    const bob = await world.signIn('Bob Tanaka');
    await say(alice, 'Carol, did Initech confirm the renewal?');
    await sleep(2000);
    const dave = await world.signIn('Dave Okafor');
    await type(carol, 'Yes! Signed this morning.');
    await carol.getByRole('textbox', { name: /^Message #/ }).fill('');
    await say(carol, 'Yes! Signed this morning. Invoicing them now.');
    await say(bob, 'Dave, the Cyberdyne ticket is solved.');
    await sleep(1500);
    await invoice(carol, 'Initech', '18400');
    await alice.getByTestId('invoices').getByText('€18,400.00').waitFor();
    await type(dave, 'Great, closing it out.');
    await dave.getByRole('textbox', { name: /^Message #/ }).fill('');
    await say(dave, 'Great, closing it out.');
    const bob2 = await world.signIn('Bob Tanaka', { width: 360, height: 780 });
    await sleep(2000);
    for (let i = 0; i < 4; i++) {
      await type(bob, 'checking the queue ');
      await dave.getByRole('button', { name: 'Nudge Bob Tanaka' }).click();
      await invoice(dave, i % 2 ? 'Wayne Enterprises' : 'Soylent Corp', String(240 * (i + 2)));
      await sleep(800);
    }
    await bob.getByRole('textbox', { name: /^Message #/ }).fill('');
    await say(bob, 'Queue is clear again.');
    await sleep(3000);
    await say(alice, 'Perfect. Can you send me the PDF for the board pack?');
    await dash.getByLabel('Message').fill('Scheduled maintenance tonight at 22:00 UTC. Expect a short reconnect.');
    await dash.getByRole('button', { name: 'Broadcast' }).click();
    await alice.getByTestId('announcement').waitFor();
    await sleep(3000);

    // The demo: the new invoice, carol typing, her nudge as a toast.
    await type(carol, 'Sending it now');
    await alice.getByTestId('typing').getByText('Carol is typing…').waitFor();
    await carol.getByRole('button', { name: 'Nudge Alice Martin' }).click();
    await alice.getByTestId('toast').filter({ hasText: 'Carol nudged you' }).waitFor();
    await alice.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
    await screenshot(alice, 'demo');

    await dash.getByTestId('chart-connections').getByText(/total\s*6/).waitFor();
    await dash.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
    await screenshot(dash, 'dashboard');

    // Small screens: 360 px wide.
    await bob2.getByTestId('messages').getByText('Queue is clear again.').waitFor();
    await screenshot(bob2, 'demo-360');
    const phone = { width: 360, height: 780 };
    const smallDash = await world.dashboard(phone);
    await smallDash.getByTestId('nodes').locator('tbody code').waitFor();
    await sleep(1200);
    await screenshot(smallDash, 'dashboard-360');
    const login = await world.page('login', phone);
    await login.goto(world.server.url + '/');
    await login.getByRole('button', { name: /^Sign in as Alice/ }).waitFor();
    await screenshot(login, 'login-360');
  });
});
