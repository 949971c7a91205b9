// Issue 3: the keyboard command (chrome.commands, Alt+Shift+K by default) toggles the panel.
// Browser-level shortcuts reach an extension only as real key events handled by the browser's
// window, which headless Chromium has not: this test runs a headed Chromium on a private Xvfb
// display and types the shortcut with xdotool, as a person at the keyboard would.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { launch, configure, openCrm, widgetFrame, startXvfb, waitFor } from './harness.mjs';

let h;
let x;
before(async () => {
  x = await startXvfb();
  h = await launch({ headless: false, env: { DISPLAY: x.display } });
  assert.match(await configure(h), /^Saved/);
});
after(async () => {
  await h?.close();
  await x?.stop();
});

const minimized = (page) => page.locator('ccaas-softphone').getAttribute('data-minimized');
const press = () => execFileSync('xdotool', ['key', '--clearmodifiers', 'alt+shift+k'], { env: { ...process.env, DISPLAY: x.display } });

test('Alt+Shift+K minimizes and restores the panel of the active tab, and it sticks', async () => {
  const { page } = await openCrm(h, 'permissive.html');
  await widgetFrame(h, page);
  await page.bringToFront();
  assert.equal(await minimized(page), 'false');
  press();
  await waitFor(async () => (await minimized(page)) === 'true', 'minimized by the shortcut', 15000);
  await page.reload();
  await waitFor(async () => (await minimized(page)) === 'true', 'still minimized after reload', 10000);
  await page.bringToFront();
  press();
  await waitFor(async () => (await minimized(page)) === 'false', 'restored by the shortcut', 15000);
  await page.close();
});
