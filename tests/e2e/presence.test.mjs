//! Issue 7, first slice: the agent's presence, reported by the project's driver, is kept in
//! `storage.local` (`presence`) by the panel frame and shown on the toolbar badge by the worker
//! (a short label and the base status's colour); both survive the worker being stopped; a
//! corrupted record is logged and clears the badge without breaking anything.
import { test, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { launch, configure, openCrm, openOptions, widgetFrame, driverBound, waitFor, sleep, closeCrmPages, stopWorker } from './harness.mjs';

let h;
let extOrigin;
before(async () => {
  h = await launch();
  extOrigin = `chrome-extension://${h.extId}`;
  const widgetUrl = h.server.widgetUrl({ driver: 'ours', ccaasBridgeOrigins: extOrigin });
  assert.match(await configure(h, { widgetUrl }), /^Saved/);
});
after(async () => h?.close());
afterEach(async () => closeCrmPages(h));

/**
 * Waits until the new widget shows the stored presence: the panel restores it right after the
 * driver binds, and a change raised before that settles could be overtaken by the restore.
 */
const restored = (widget) => waitFor(async () => {
  const { presence } = await h.worker.evaluate(() => chrome.storage.local.get('presence'));
  let id = null;
  try { id = presence ? JSON.parse(presence).presenceId : null; } catch { /* a corrupted record */ }
  return id !== null && id === await widget.evaluate(() => window.__emu.presence.presenceId);
}, 'the stored presence restored into the widget');

/** A CRM page whose widget is bound and shows the stored presence. */
async function openWidget() {
  const { page } = await openCrm(h, 'permissive.html');
  const widget = await widgetFrame(h, page);
  await driverBound(widget);
  await restored(widget);
  return { page, widget };
}

/** The stored record (parsed), the badge's text, colour and the icon's title, read in the worker. */
const state = () => h.worker.evaluate(async () => {
  const { presence } = await chrome.storage.local.get('presence');
  let record = null;
  try { record = presence ? JSON.parse(presence) : null; } catch { record = { unparsable: presence }; }
  return {
    record,
    text: await chrome.action.getBadgeText({}),
    color: await chrome.action.getBadgeBackgroundColor({}),
    title: await chrome.action.getTitle({}),
  };
});

/** Raises the SDK's presence change with the emulator's option `i` (0 available … 4 offline). */
const choose = (widget, i) => widget.evaluate((i) => {
  window.__emu.raise('presence.onPresenceChange', window.__emu.presenceOptions[i]);
  return window.__emu.presenceOptions[i];
}, i);

const shows = (want) => async () => {
  const s = await state();
  return s.record?.presenceId === want.presenceId && s.text === want.text && s;
};

/** Collects the worker's console.info/warn lines (its Rust logs through them). */
const captureWorkerLog = () => h.worker.evaluate(() => {
  if (globalThis.__lines) return;
  globalThis.__lines = [];
  for (const level of ['info', 'warn']) {
    const orig = console[level].bind(console);
    console[level] = (...a) => { globalThis.__lines.push(a.map(String).join(' ')); orig(...a); };
  }
});
const workerLines = () => h.worker.evaluate(() => globalThis.__lines || []);

test('a presence change is stored and shown on the badge, and survives a worker stop', async () => {
  const { page, widget } = await openWidget();

  const busy = await choose(widget, 1);
  const s = await waitFor(shows({ presenceId: busy.presenceId, text: 'BSY' }), 'busy on the badge and in storage');
  assert.equal(s.record.v, 1);
  assert.equal(s.record.text, 'Busy');
  assert.equal(s.record.baseStatus, 'BUSY');
  assert.equal(s.record.color, '#C4314B');
  assert.equal(s.record.options.length, 5);
  assert.ok(Math.abs(Date.now() - s.record.chosenAt) < 60000, `chosenAt ${s.record.chosenAt}`);
  assert.deepEqual(s.color, [0xc4, 0x31, 0x4b, 255]);
  assert.match(s.title, /Busy/);

  const away = await choose(widget, 3);
  await waitFor(shows({ presenceId: away.presenceId, text: 'AWY' }), 'away on the badge');

  // Stop the worker the way Chrome does when idle; the open tab's ports wake it again. The badge
  // is cleared first (from the options page) so that only the restarted worker can show it again.
  const options = await openOptions(h);
  await options.evaluate(() => chrome.action.setBadgeText({ text: '' }));
  assert.equal((await state()).text, '');
  await options.close();
  await stopWorker(h);
  await sleep(300);
  const after = await waitFor(shows({ presenceId: away.presenceId, text: 'AWY' }), 'away still shown after the restart');
  assert.deepEqual(after.color, [0xff, 0xaa, 0x44, 255]);
  await page.close();
});

test('a corrupted record is logged and clears the badge; a valid change works again', async () => {
  const { page, widget } = await openWidget();
  const dnd = await choose(widget, 2);
  await waitFor(shows({ presenceId: dnd.presenceId, text: 'DND' }), 'dnd on the badge');

  await captureWorkerLog();
  for (const bad of ['{"v":1,"presenceId":', '{"v":99,"presenceId":"x"}', JSON.stringify({ v: 1, presenceId: 7 })]) {
    // A valid record first, so that each corrupted one visibly clears the badge.
    if (bad !== '{"v":1,"presenceId":') {
      const on = await choose(widget, 0);
      await waitFor(shows({ presenceId: on.presenceId, text: 'ON' }), 'available on the badge');
    }
    const before = (await workerLines()).length;
    await h.worker.evaluate((bad) => chrome.storage.local.set({ presence: bad }), bad);
    await waitFor(async () => (await state()).text === '', `the badge cleared for ${bad}`);
    const lines = await waitFor(async () => {
      const l = (await workerLines()).slice(before).filter((x) => x.includes('stored presence ignored'));
      return l.length > 0 && l;
    }, `a log line for ${bad}`);
    assert.match(lines[0], /^\[ccaas-bridge\] stored presence ignored: /);
  }
  assert.match((await state()).title, /^CCaaS Bridge$/);

  // The worker still answers, and a valid change replaces the corrupted record.
  assert.equal(await h.worker.evaluate(() => 1 + 1), 2);
  const offline = await choose(widget, 4);
  const s = await waitFor(shows({ presenceId: offline.presenceId, text: 'OFF' }), 'offline on the badge');
  assert.equal(s.record.baseStatus, 'OFFLINE');
  assert.deepEqual(s.color, [0x8a, 0x88, 0x86, 255]);
  await page.close();
});

test('an older stored record is not replaced by a change chosen before it; the newest choice wins', async () => {
  const { page, widget } = await openWidget();
  const away = await choose(widget, 3);
  await waitFor(shows({ presenceId: away.presenceId, text: 'AWY' }), 'away on the badge');
  // Another place stored a choice made in the future (clock ahead): the widget's older change loses.
  await h.worker.evaluate(async () => {
    const { presence } = await chrome.storage.local.get('presence');
    const r = JSON.parse(presence);
    await chrome.storage.local.set({ presence: JSON.stringify({ ...r, chosenAt: Date.now() + 3600e3 }) });
  });
  const busy = await choose(widget, 1);
  await sleep(1000);
  const s = await state();
  assert.equal(s.record.presenceId, away.presenceId, `kept: ${JSON.stringify(s.record)}; raised ${busy.presenceId}`);
  assert.equal(s.text, 'AWY');
  await page.close();
});
