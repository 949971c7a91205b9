// Issue 3, liveness: a widget that refuses framing or never answers is shown as a clear error
// naming its URL, with Retry — judged by proof of life, never by the frame's load event.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, configure, openCrm, panelFrame, widgetFrame, driverBound, waitFor } from './harness.mjs';

let h;
before(async () => {
  h = await launch();
});
after(async () => h?.close());

async function expectError(widgetUrl) {
  assert.match(await configure(h, { widgetUrl, timeoutSec: 2 }), /^Saved/);
  const { page } = await openCrm(h, 'permissive.html');
  const panel = await panelFrame(h, page);
  await panel.waitForFunction(() => document.body.dataset.view === 'error', null, { timeout: 10000 });
  const text = await panel.locator('.error-box').innerText();
  assert.match(text, /did not answer/);
  assert.ok(text.includes(widgetUrl.split('?')[0]), `the error names the URL: ${text}`);
  assert.ok(await panel.getByRole('button', { name: 'Retry' }).isVisible());
  // The header dot tells the same story outside the frame.
  // (relayed by the content script from the panel's status, on its own schedule)
  await waitFor(async () => (await page.locator('ccaas-softphone').getAttribute('data-state')) === 'error', 'the header shows the error');
  return { page, panel };
}

test('a widget that refuses to be framed shows the error and Retry', async () => {
  const { page, panel } = await expectError(h.server.widgetUrl({ xfo: 'deny' }));
  // Retry tries again (and, still refused, ends in the error again).
  await panel.getByRole('button', { name: 'Retry' }).click();
  await panel.waitForFunction(() => document.body.dataset.view === 'loading');
  await panel.waitForFunction(() => document.body.dataset.view === 'error', null, { timeout: 10000 });
  await page.close();
});

test('a dead widget URL shows the error and Retry', async () => {
  const { page } = await expectError(`${h.server.origins.widget}/__dead?dynamicsUrl=https%3A%2F%2Forg.crm.dynamics.com`);
  await page.close();
});

test('Retry brings the panel back once the widget answers', async () => {
  const { page, panel } = await expectError(h.server.widgetUrl({ xfo: 'deny' }));
  // The admin fixes the URL; the open tab follows, and Retry is no longer needed.
  assert.match(await configure(h, { widgetUrl: h.server.widgetUrl(), timeoutSec: 2 }), /^Saved/);
  await panel.waitForFunction(() => document.body.dataset.view === 'widget', null, { timeout: 10000 });
  await driverBound(await widgetFrame(h, page));
  await page.close();
});

test('a widget that is alive but whose driver never starts is not an error, and says so', async () => {
  assert.match(await configure(h, { widgetUrl: h.server.widgetUrl({ driver: 'none' }), timeoutSec: 2 }), /^Saved/);
  const { page } = await openCrm(h, 'permissive.html');
  const panel = await panelFrame(h, page);
  await panel.waitForFunction(() => /CTI driver has not started/.test(document.getElementById('note').textContent), null, { timeout: 10000 });
  assert.equal(await panel.evaluate(() => document.body.dataset.view), 'widget');
  await page.close();
});
