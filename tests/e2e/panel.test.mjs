// Issue 3, the panel: it shows the widget emulator on the permissive and the strict-CSP page;
// minimize, restore, resize and dock side work and survive a reload; and the page's own layout
// never moves. (The keyboard command has its own file: it needs a real display.)
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, configure, openCrm, widgetFrame, panelFrame, driverBound, waitFor, closeCrmPages } from './harness.mjs';

let h;
before(async () => {
  h = await launch();
  assert.match(await configure(h), /^Saved/);
});
after(async () => h?.close());

const host = (page) => page.locator('ccaas-softphone');
const attrs = (page) => host(page).evaluate((e) => ({ side: e.dataset.side, minimized: e.dataset.minimized }));
const box = async (page) => host(page).boundingBox();

for (const file of ['permissive.html', 'strict.html']) {
  test(`the panel shows the emulator with its driver bound on ${file}`, async () => {
    const { page } = await openCrm(h, file);
    const widget = await widgetFrame(h, page);
    await driverBound(widget);
    const panel = await panelFrame(h, page);
    await panel.waitForFunction(() => document.body.dataset.view === 'widget' && document.body.dataset.driver === 'stock');
    assert.equal(await widget.evaluate(() => location.origin), h.server.origins.widget);
    // The microphone is delegated down the chain: page → extension frame → widget.
    const allow = await panel.evaluate(() => document.querySelector('#widget iframe').getAttribute('allow'));
    assert.match(allow, /microphone/);
    const b = await box(page);
    const vw = page.viewportSize().width;
    const clientWidth = await page.evaluate(() => document.documentElement.clientWidth);
    assert.ok(b.x + b.width <= clientWidth + 0.5, `panel must not cover the scrollbar: ${b.x + b.width} > ${clientWidth} (viewport ${vw})`);
    await page.close();
  });
}

test('injecting the panel does not move anything on the page', async () => {
  const page = await h.context.newPage();
  // Measure before the content script runs: load the page with the script blocked from
  // finishing by reading boxes right at DOMContentLoaded, then again once the panel is in.
  // The page's own event log (#events) grows when the bridge reports its status: that is the
  // page reacting to the API, not the panel moving it, so it and its containers are left out.
  const boxes = () => page.evaluate(() => [...document.querySelectorAll('body *')]
    .filter((e) => e.tagName !== 'CCAAS-SOFTPHONE' && e.tagName !== 'CCAAS-DIAL' && !e.contains(document.getElementById('events')) && !e.closest('#events'))
    .map((e) => { const r = e.getBoundingClientRect(); return [e.tagName, r.x, r.y, r.width, r.height].join(','); }));
  await page.goto(`${h.server.origins.crm}/permissive.html`, { waitUntil: 'domcontentloaded' });
  const before = await boxes();
  await page.waitForSelector('ccaas-softphone', { state: 'attached' });
  await widgetFrame(h, page);
  assert.deepEqual(await boxes(), before);
  await page.close();
});

test('minimize, restore, resize and dock side work and survive a reload', async () => {
  const { page } = await openCrm(h, 'permissive.html');
  await widgetFrame(h, page);
  let b = await box(page);
  assert.deepEqual(await attrs(page), { side: 'right', minimized: 'false' });
  const w0 = b.width;

  // Resize: drag the grip on the panel's inner (left) edge 120 px to the left.
  await page.mouse.move(b.x + 1, b.y + 300);
  await page.mouse.down();
  await page.mouse.move(b.x - 60, b.y + 300, { steps: 4 });
  await page.mouse.move(b.x - 119, b.y + 300, { steps: 4 });
  await page.mouse.up();
  b = await box(page);
  assert.ok(Math.abs(b.width - (w0 + 120)) <= 2, `width ${b.width}, expected about ${w0 + 120}`);
  const resized = b.width;

  // Dock on the other side: the header's second button from the right.
  await page.mouse.click(b.x + b.width - 4 - 26 - 4 - 13, b.y + 16);
  await waitFor(async () => (await attrs(page)).side === 'left', 'dock left');
  b = await box(page);
  assert.equal(b.x, 0);
  assert.ok(Math.abs(b.width - resized) <= 2);

  // Minimize: the rightmost header button; a small tab remains.
  await page.mouse.click(b.x + b.width - 4 - 13, b.y + 16);
  await waitFor(async () => (await attrs(page)).minimized === 'true', 'minimized');
  b = await box(page);
  assert.ok(b.width < 50 && b.height < 80, `tab size ${b.width}x${b.height}`);
  // The widget is still loaded while minimized: a call in progress would not drop.
  const widgetBefore = await (await widgetFrame(h, page)).evaluate(() => window.__emu.instanceId);

  // Everything survives a reload.
  await page.reload();
  await page.waitForSelector('ccaas-softphone', { state: 'attached' });
  await waitFor(async () => (await attrs(page)).minimized === 'true' && (await attrs(page)).side === 'left', 'prefs after reload');

  // Restore by clicking the tab.
  b = await box(page);
  await page.mouse.click(b.x + b.width / 2, b.y + b.height / 2);
  await waitFor(async () => (await attrs(page)).minimized === 'false', 'restored');
  b = await box(page);
  assert.ok(Math.abs(b.width - resized) <= 2, `width after reload ${b.width}, expected ${resized}`);
  assert.ok(widgetBefore);

  // Put things back for the next tests.
  await page.mouse.click(b.x + b.width - 4 - 26 - 4 - 13, b.y + 16);
  await waitFor(async () => (await attrs(page)).side === 'right', 'dock right');
  await page.close();
});

test('a panel or bar host left on the page by an earlier instance is removed when the content script starts', async () => {
  await closeCrmPages(h);
  const page = await h.context.newPage();
  // As an instance that died without tearing down leaves them: children of the root element.
  await page.addInitScript(() => {
    for (const tag of ['ccaas-softphone', 'ccaas-softphone-bar']) {
      const el = document.createElement(tag);
      el.dataset.stale = '';
      document.documentElement.appendChild(el);
    }
  });
  await page.goto(`${h.server.origins.crm}/permissive.html`);
  await widgetFrame(h, page);
  await page.waitForFunction(() => !document.querySelector('[data-stale]'));
  assert.equal(await page.evaluate(() => document.querySelectorAll('ccaas-softphone').length), 1);
  assert.equal(await page.evaluate(() => document.querySelectorAll('ccaas-softphone-bar').length), 0);
  await page.close();
});
