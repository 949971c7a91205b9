// The extension going away under an open CRM tab (an update, a reload, an admin turning it off):
// the bridge leaves the page (panel gone, page text restored) and tells the agent how to get the
// softphone back, since Chrome does not bring the extension back into open tabs by itself.
// Its own file: in this harness a reloaded unpacked extension does not come back at all.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, configure, openCrm, widgetFrame, driverBound, waitFor } from './harness.mjs';

let h;
before(async () => {
  h = await launch();
  assert.match(await configure(h), /^Saved/);
});
after(async () => h?.close());

test('when the extension unloads, the panel and marks go and the tab says to reload it', async () => {
  const { page, lines } = await openCrm(h, 'numbers.html');
  await driverBound(await widgetFrame(h, page));
  await waitFor(() => page.evaluate(() => document.querySelectorAll('[data-ccaas-dial]').length > 0), 'numbers marked');
  const text = await page.locator('#static').textContent();
  await h.worker.evaluate(() => { setTimeout(() => chrome.runtime.reload(), 10); });
  await waitFor(() => lines.some((l) => l.includes('extension unloaded: bridge removed from the page')), 'the bridge removed');
  assert.equal(await page.evaluate(() => !!document.querySelector('ccaas-softphone')), false, 'the panel is gone');
  assert.equal(await page.evaluate(() => document.querySelectorAll('[data-ccaas-dial]').length), 0, 'the marks are gone');
  assert.equal(await page.locator('#static').textContent(), text);
  const notice = await page.getAttribute('ccaas-softphone-notice', 'data-notice');
  assert.match(notice ?? '', /Reload this tab to use it again/);
});
