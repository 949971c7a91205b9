// Issue 4, click-to-dial everywhere: numbers in static text, split across inline elements, in a
// table loaded after page load, after an SPA route change and in tel:/callto:/sip: links are
// marked with data-ccaas-dial and dial the emulator with the right E.164 string; skipped
// contexts and decoys stay untouched; the format-detection opt-out is honoured; the page's
// layout does not move; switching detection off for the site removes the marks at once; the
// context menu's "Call" on a selection dials it or says why not. On the permissive page and
// under a strict CSP.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, configure, openCrm, openOptions, save, widgetFrame, driverBound, waitFor, sleep, storedConfig, closeCrmPages } from './harness.mjs';

let h;
before(async () => {
  h = await launch();
  assert.match(await configure(h), /^Saved/);
});
after(async () => h?.close());

const dials = (widget) => widget.evaluate(() => window.__emu.calls.filter((c) => c.method === 'clickToDial').map((c) => c.args[0].number));
const marks = (page) => page.evaluate(() => [...document.querySelectorAll('[data-ccaas-dial]')].map((e) => ({
  id: e.closest('[id]')?.id, tag: e.localName, number: e.dataset.ccaasDial, text: e.textContent,
  label: e.getAttribute('aria-label') ?? undefined, tabindex: e.getAttribute('tabindex') ?? undefined,
})));
const waitMarks = (page, n, what) => waitFor(async () => (await marks(page)).length >= n && marks(page), what ?? `${n} marks`, 10000);

for (const csp of [null, 'strict']) {
  const file = csp ? `numbers.html?csp=${csp}` : 'numbers.html';
  test(`numbers are marked, skipped contexts are not, and a click dials (${csp ?? 'no'} CSP)`, async () => {
    const { page } = await openCrm(h, file);
    const widget = await widgetFrame(h, page);
    await driverBound(widget);
    // 9 in the static card and links, 3 more in the table that loads after 300 ms.
    await waitMarks(page, 12, 'static numbers, links and the late table');
    await sleep(300);
    const m = await marks(page);
    const by = (id) => m.filter((x) => x.id === id).map((x) => x.number);
    assert.deepEqual(by('static'), ['+14255550100', '+442079460958']);
    // Split across <b> and <span>: one number, marked in each piece.
    assert.deepEqual([...new Set(by('split'))], ['+14255550101']);
    assert.deepEqual(by('ext'), ['+14255550107']);
    assert.deepEqual(by('lines'), ['+14255550108']);
    assert.deepEqual(by('tel'), ['+14255550102']);
    assert.deepEqual(by('callto'), ['+14255550109']);
    assert.deepEqual(by('sip'), ['+442079460959']);
    assert.deepEqual(by('xss'), ['+14255550106']);
    assert.deepEqual(by('loaded'), ['+14255550120', '+14255550121', '+442079460960']);
    for (const id of ['mailto', 'ta', 'pre', 'code', 'editable', 'btn', 'optout', 'decoys']) assert.deepEqual(by(id), [], `${id} must stay untouched`);
    // Never a mark inside a mark (the first walk and the observer can both reach late content).
    assert.equal(await page.evaluate(() => document.querySelectorAll('[data-ccaas-dial] [data-ccaas-dial]').length), 0);
    const staticMark = m.find((x) => x.id === 'static');
    assert.equal(staticMark.tag, 'ccaas-dial');
    assert.equal(staticMark.text, '(425) 555-0100');
    assert.equal(staticMark.label, 'Call +1 425-555-0100');
    assert.equal(staticMark.tabindex, '0');
    // Page text that looks like markup stayed text.
    assert.equal(await page.evaluate(() => window.__xss), undefined);
    assert.match(await page.locator('#xss').textContent(), /^<img src=x onerror="window.__xss=1"> 425-555-0106$/);
    assert.equal(await page.locator('#decoys').innerHTML().then((s) => s.includes('ccaas')), false);

    // A click on a marked number, Enter on one, and a tel: link dial the emulator; a minimized
    // panel comes back for the call.
    await page.evaluate(() => window.crmRequest('hidePanel'));
    await page.waitForSelector('ccaas-softphone[data-minimized="true"]', { state: 'attached' });
    await page.locator('#static ccaas-dial').first().click();
    await waitFor(async () => (await dials(widget)).length === 1, 'dial by click');
    await page.waitForSelector('ccaas-softphone[data-minimized="false"]', { state: 'attached' });
    await page.locator('#loaded ccaas-dial').nth(1).focus();
    await page.keyboard.press('Enter');
    await waitFor(async () => (await dials(widget)).length === 2, 'dial by Enter');
    const url = page.url();
    await page.locator('#tel').click();
    await waitFor(async () => (await dials(widget)).length === 3, 'dial by tel: link');
    assert.equal(page.url(), url, 'the tel: link did not navigate');
    assert.deepEqual(await dials(widget), ['+14255550100', '+14255550121', '+14255550102']);

    // An SPA route change: the new card's number is marked and dials.
    await page.locator('#route').click();
    await waitFor(async () => (await marks(page)).some((x) => x.id === 'routed'), 'routed number');
    await page.locator('#routed ccaas-dial').click();
    await waitFor(async () => (await dials(widget)).length === 4, 'dial after route change');
    assert.equal((await dials(widget))[3], '+61293744000');
    await page.close();
  });
}

test('a page with format-detection telephone=no keeps its text; its tel: links are still marked', async () => {
  const { page } = await openCrm(h, 'numbers-optout.html');
  await waitMarks(page, 1, 'the tel: link');
  await sleep(500);
  const m = await marks(page);
  assert.deepEqual(m.map((x) => [x.id, x.number]), [['tel', '+14255550102']]);
  await page.close();
});

/** Every element box under #main, except our own marks (which must not move anything). */
const boxes = (page) => page.evaluate(() => [...document.querySelectorAll('#main *')]
  .filter((e) => e.localName !== 'ccaas-dial')
  .map((e) => { const r = e.getBoundingClientRect(); return [e.localName, e.id, r.x, r.y, r.width, r.height].join(' '); }));

test('switching detection off for the site removes the marks at once, without moving the layout; on again marks again; page changes are followed', async () => {
  const { page } = await openCrm(h, 'numbers.html');
  await waitMarks(page, 12);
  await sleep(300);
  const withMarks = await boxes(page);
  const count = (await marks(page)).length;
  const tabId = await h.worker.evaluate(async (url) => (await chrome.tabs.query({ url })).at(0)?.id, `${h.server.origins.crm}/numbers.html`);
  const popup = await h.context.newPage();
  await popup.goto(h.extUrl(`popup.html?tab=${tabId}`));
  const detection = popup.getByLabel('Click-to-dial numbers on this site');
  await popup.waitForFunction(() => document.getElementById('site-status').textContent !== '…');
  await detection.uncheck();
  await waitFor(async () => (await marks(page)).length === 0, 'marks removed');
  assert.equal(await page.locator('#static').textContent(), 'Main line (425) 555-0100, London office +44 20 7946 0958.');
  assert.deepEqual(await boxes(page), withMarks, 'element boxes moved when the marks were removed');
  await detection.check();
  await waitFor(async () => (await marks(page)).length === count, 'marks back');
  assert.deepEqual(await boxes(page), withMarks);
  await popup.close();
  // Rows the page appends later are marked too.
  await page.evaluate(() => window.numbersAppend(40));
  await waitFor(async () => (await marks(page)).length === count + 40, '40 appended rows marked');
  await sleep(300);
  assert.equal((await marks(page)).length, count + 40);
  assert.equal(await page.evaluate(() => document.querySelectorAll('[data-ccaas-dial] [data-ccaas-dial]').length), 0);
  await page.close();
});

test('a change of region or area code reads the open page again: numbers of the old setting are unmarked, those of the new one marked', async () => {
  const { page } = await openCrm(h, 'regions.html');
  const byId = async () => Object.fromEntries((await marks(page)).map((m) => [m.id, m.number]));
  const settle = async (want, what) => {
    await waitFor(async () => JSON.stringify(await byId()) === JSON.stringify(want) && true, what, 10000);
    await sleep(500); // nothing more comes
    assert.deepEqual(await byId(), want, what);
  };
  const texts = () => page.evaluate(() => [...document.querySelectorAll('#offices p')].map((p) => p.textContent));
  const original = await texts();
  await settle({ us: '+14255550100', intl: '+4930123456' }, 'US, no area code');
  const setNumbering = async (region, areaCode) => {
    const options = await openOptions(h);
    await options.getByLabel('Default region for national numbers').selectOption(region);
    const area = options.getByLabel('Default area code for local numbers');
    if (await area.isVisible()) await area.fill(areaCode); // shown for regions that dial local numbers
    assert.match(await save(options), /^Saved/);
    await options.close();
  };
  try {
    await setNumbering('GB', '');
    await settle({ gb: '+442079460958', intl: '+4930123456' }, 'GB');
    assert.deepEqual(await texts(), original, 'the text of unmarked numbers is restored');
    await setNumbering('US', '425');
    await settle({ us: '+14255550100', local: '+14255550199', intl: '+4930123456' }, 'US with area code 425');
    assert.deepEqual(await texts(), original);
    assert.equal(await page.evaluate(() => document.querySelectorAll('[data-ccaas-dial] [data-ccaas-dial]').length), 0);
  } finally {
    await setNumbering('US', '');
    await page.close();
  }
});

test('the context menu "Call" dials a selected number the page did not mark, and says why when it is not one', async () => {
  const { page, lines } = await openCrm(h, 'numbers.html');
  const widget = await widgetFrame(h, page);
  await driverBound(widget);
  const tabId = await h.worker.evaluate(async (url) => (await chrome.tabs.query({ url })).at(0)?.id, `${h.server.origins.crm}/numbers.html`);
  const click = (selectionText) => h.worker.evaluate(([t, s]) => globalThis.ccaasMenuClicked(
    { menuItemId: 'ccaas-call-selection', selectionText: s, frameId: 0 }, { id: t }), [tabId, selectionText]);
  // A number in a <pre>, which detection skips: selected and called from the menu.
  await click('425-555-0104');
  await waitFor(async () => (await dials(widget)).length === 1, 'dial from the menu');
  assert.deepEqual(await dials(widget), ['+14255550104']);
  // Minimized: the notice restores the panel, where it is shown.
  await page.evaluate(() => window.crmRequest('hidePanel'));
  await page.waitForSelector('ccaas-softphone[data-minimized="true"]', { state: 'attached' });
  await click('Order #100234567');
  await waitFor(() => lines.some((l) => l.includes('Not dialled') && l.includes('Order #100234567')), 'notice for a non-number');
  await page.waitForSelector('ccaas-softphone[data-minimized="false"]', { state: 'attached' });
  await sleep(200);
  assert.equal((await dials(widget)).length, 1);
  await page.close();
});

test('on a site with click-to-dial but no panel, with no softphone open anywhere, a click says so instead of waiting', async () => {
  await closeCrmPages(h);
  const crm = h.server.origins.crm;
  const before = await storedConfig(h);
  const store = (c) => h.worker.evaluate(async (t) => chrome.storage.local.set({ config: t }), JSON.stringify(c));
  await store({ ...before, siteSettings: { ...before.siteSettings, [crm]: { panel: false, detection: true } } });
  try {
    const { page } = await openCrm(h, 'numbers.html', { waitForPanel: false });
    await waitMarks(page, 12);
    await page.locator('#static [data-ccaas-dial]').first().click();
    const notice = await page.waitForSelector('ccaas-softphone-notice', { state: 'attached' });
    assert.match(await notice.getAttribute('data-notice'), /^\+14255550100 was not called: no softphone is open\./);
    // The page API hears the same, at once, instead of a reply that never comes.
    const reply = await page.evaluate(() => window.crmRequest('clickToDial', { number: '+1 425 555 0101' }, 5000));
    assert.equal(reply.ok, false);
    assert.equal(reply.error.code, 'noSoftphone');
    // The newest message replaces the last; no panel or bar appeared.
    await waitFor(async () => /0101 was not called/.test(await page.getAttribute('ccaas-softphone-notice', 'data-notice')), 'second notice');
    assert.equal(await page.locator('ccaas-softphone-notice').count(), 1);
    assert.equal(await page.locator('ccaas-softphone, ccaas-softphone-bar').count(), 0);
    await page.close();
  } finally {
    await store(before);
  }
});
