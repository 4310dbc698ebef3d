import { chromium, type Browser, type Page } from 'playwright-core';

/** Debian's Chromium; playwright-core drives it, no browser is downloaded. */
export const CHROMIUM = '/usr/bin/chromium';

/** Launches headless Chromium with the flags that keep it quiet and offline. */
export function launch(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      // Background tabs must keep their timers running at full speed.
      '--disable-background-timer-throttling',
      '--disable-renderer-backgrounding',
      '--disable-backgrounding-occluded-windows',
    ],
  });
}

/** Forwards the page's console errors and crashes to the test output. */
export function watch(page: Page, label: string): void {
  page.on('pageerror', (e) => console.error(`[${label}] page error:`, e.message));
  page.on('console', (m) => {
    // Chromium logs every failed request; the tests fail requests on purpose.
    if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) {
      console.error(`[${label}] console:`, m.text());
    }
  });
}
