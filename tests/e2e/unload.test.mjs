// The extension going away under an open CRM tab. An update (or a reload): the bridge leaves the
// page (panel gone, page text restored) and the new version comes back into the tab by itself,
// with its panel and its marks, and the agent never sees a notice. Turned off: the bridge leaves
// the page the same way and, since nothing brings it back, the tab says how to get it back.
// Either way, what the page asked and still waits for is answered.
// Turned on again, it comes back too.
// Its own file and its own copy of the extension: the test writes a new version into the copy's
// manifest, and turns on developer mode (without it this Chromium disables a reloaded unpacked
// extension as an "unsupported developer extension").
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { EXTENSION_DIR, launch, configure, openCrm, widgetFrame, driverBound, waitFor, sleep, closeCrmPages, tabIdOf as tabIdOfIn, autoDiscardable } from './harness.mjs';

let h;
let dir;
let admin; // chrome://extensions, for developerPrivate and management
before(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'ccaas-update-'));
  await cp(EXTENSION_DIR, dir, { recursive: true });
  h = await launch({ extensionDir: dir });
  assert.match(await configure(h), /^Saved/);
  admin = await h.context.newPage();
  await admin.goto('chrome://extensions');
  await admin.evaluate(() => chrome.developerPrivate.updateProfileConfiguration({ inDeveloperMode: true }));
});
after(async () => {
  await h?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const tabIdOf = (page) => tabIdOfIn(h, page);
const discardable = (tab) => autoDiscardable(h, tab);
const marks = (page) => page.evaluate(() => [...document.querySelectorAll('[data-ccaas-dial]')].map((e) => e.dataset.ccaasDial));
const dials = (widget) => widget.evaluate(() => window.__emu.calls.filter((c) => c.method === 'clickToDial').map((c) => c.args[0].number));
// Every notice element the page gets, and whether it was visible when it came or later.
const watchNotices = (page) => page.evaluate(() => {
  window.__notices = [];
  const seen = (el) => {
    const n = { visible: false, text: el.getAttribute('data-notice') };
    window.__notices.push(n);
    const look = () => { if (el.isConnected && getComputedStyle(el).display !== 'none') n.visible = true; };
    look();
    new MutationObserver(look).observe(el, { attributes: true });
  };
  new MutationObserver((records) => {
    for (const r of records) for (const el of r.addedNodes) if (el.localName === 'ccaas-softphone-notice') seen(el);
  }).observe(document.documentElement, { childList: true });
});

test('an update comes back into the open tab by itself: panel, marks and dialing, and no notice', async () => {
  const { page, lines } = await openCrm(h, 'numbers.html');
  await driverBound(await widgetFrame(h, page));
  await waitFor(async () => (await marks(page)).length >= 12, 'numbers marked');
  const before = (await marks(page)).sort();
  const text = await page.locator('#static').textContent();
  await watchNotices(page);

  const manifest = JSON.parse(await readFile(path.join(dir, 'manifest.json'), 'utf8'));
  manifest.version = '0.1.1';
  await writeFile(path.join(dir, 'manifest.json'), JSON.stringify(manifest));
  const n0 = lines.length;
  await admin.evaluate((id) => chrome.developerPrivate.reload(id, { failQuietly: false }), h.extId);

  await waitFor(() => lines.slice(n0).some((l) => l.includes('extension unloaded: bridge removed from the page')), 'the old version leaves');
  await waitFor(() => lines.slice(n0).some((l) => l.includes('content script started')), 'the new version starts in the tab', 15000);
  const widget = await widgetFrame(h, page);
  await driverBound(widget);
  await waitFor(async () => (await marks(page)).length >= before.length, 'numbers marked again');
  await sleep(500);
  assert.deepEqual((await marks(page)).sort(), before, 'the same numbers, each marked once');
  assert.equal(await page.evaluate(() => document.querySelectorAll('[data-ccaas-dial] [data-ccaas-dial]').length), 0);
  assert.equal(await page.evaluate(() => document.querySelectorAll('ccaas-softphone').length), 1, 'one panel');
  assert.equal(await page.locator('#static').textContent(), text);
  assert.equal(await admin.evaluate(async (id) => (await chrome.management.get(id)).version, h.extId), '0.1.1');

  await page.locator('#static [data-ccaas-dial="+14255550100"]').click();
  await waitFor(async () => (await dials(widget)).includes('+14255550100'), 'a click dials the new version\'s widget');

  // The old version's notice waits for the new one, which withdrew it unseen.
  await sleep(5500);
  const notices = await page.evaluate(() => window.__notices);
  assert.ok(notices.length <= 1, `notices: ${JSON.stringify(notices)}`);
  assert.equal(notices.some((n) => n.visible), false, `no notice was shown: ${JSON.stringify(notices)}`);
  assert.equal(await page.evaluate(() => document.querySelectorAll('ccaas-softphone-notice').length), 0);
  await page.close();
});

// A dial the page asked for and that was not confirmed yet (the widget's driver was still
// loading) is answered when the extension goes away, rather than left to time out: the CRM can
// tell the agent at once.
test('a dial waiting for the widget when the extension goes away gets an answer, not silence', async () => {
  assert.match(await configure(h, { widgetUrl: h.server.widgetUrl({ driverDelay: 6000 }) }), /^Saved/);
  const { page, lines } = await openCrm(h, 'permissive.html');
  await widgetFrame(h, page);
  await page.evaluate(() => { window.crmDial('+1 425 555 0130', 20000).then((r) => { window.dialReply = r; }, (e) => { window.dialReply = String(e); }); });
  await sleep(500);
  assert.equal(await page.evaluate(() => window.dialReply), undefined, 'not answered yet: the driver is not ready');
  await admin.evaluate((id) => chrome.developerPrivate.reload(id, { failQuietly: false }), h.extId);
  const reply = await waitFor(() => page.evaluate(() => window.dialReply), 'the reply', 10000);
  assert.equal(reply.ok, false, JSON.stringify(reply));
  assert.equal(reply.error.code, 'noSoftphone');
  assert.match(reply.error.message, /stopped in this tab/);
  // Back as it was for the next test.
  await waitFor(() => lines.filter((l) => l.includes('content script started')).length >= 2, 'the new version started', 15000);
  assert.match(await configure(h), /^Saved/);
  await page.close();
});

test('turned off: the page is left as it was and says how to get it back; turned on again, it comes back by itself', async () => {
  await closeCrmPages(h); // an earlier test's, if it failed before closing it
  // The softphone in one tab; the page under test shows the bar and marks.
  const q = await openCrm(h, 'permissive.html?t=q');
  await driverBound(await widgetFrame(h, q.page));
  const tq = await tabIdOf(q.page);
  await waitFor(async () => (await discardable(tq)) === false, 'the softphone\'s tab kept loaded');
  const { page, lines } = await openCrm(h, 'numbers.html', { waitForPanel: false });
  await page.waitForSelector('ccaas-softphone-bar', { state: 'attached' });
  await waitFor(async () => (await marks(page)).length > 0, 'numbers marked');
  const tp = await tabIdOf(page);
  const text = await page.locator('#static').textContent();
  await watchNotices(page);

  await admin.evaluate((id) => chrome.management.setEnabled(id, false), h.extId);
  await waitFor(() => lines.some((l) => l.includes('extension unloaded: bridge removed from the page')), 'the bridge removed');
  assert.equal(await page.evaluate(() => !!document.querySelector('ccaas-softphone-bar')), false, 'the bar is gone');
  assert.deepEqual(await marks(page), [], 'the marks are gone');
  assert.equal(await page.locator('#static').textContent(), text);
  const shown = await waitFor(async () => (await page.evaluate(() => window.__notices)).find((n) => n.visible), 'the notice shown', 9000);
  assert.match(shown.text, /If it is on, reload this tab to use it again/);

  // While it is off, the softphone's tab goes to a site that is not listed.
  await q.page.goto(`${h.server.origins.other}/other/hostile-frame.html`);
  // Turned on again: it comes back into the open CRM tab by itself, which now hosts the
  // softphone, and the notice goes; the tab the earlier instance kept loaded is released.
  const n0 = lines.length;
  await admin.evaluate((id) => chrome.management.setEnabled(id, true), h.extId);
  await waitFor(() => lines.slice(n0).some((l) => l.includes('content script started')), 'started again in the tab', 15000);
  await driverBound(await widgetFrame(h, page));
  await waitFor(async () => (await marks(page)).length > 0, 'numbers marked again');
  assert.equal(await page.evaluate(() => document.querySelectorAll('ccaas-softphone-notice').length), 0, 'the notice removed');
  await waitFor(async () => (await discardable(tp)) === false, 'the new softphone\'s tab kept loaded');
  await waitFor(async () => (await discardable(tq)) === true, 'the earlier one released');
  await page.close();
  await q.page.close();
});
