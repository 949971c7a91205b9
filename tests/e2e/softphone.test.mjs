//! Issue 7: presence restored into a reloaded widget (newest choice wins), set from the popup,
//! and one softphone across tabs — one live emulator, dials from other tabs routed to it exactly
//! once (also across a worker stop), hand-over with presence restored when the owner closes,
//! "Open here" refused during a conversation, a warning before unload, and conversation events
//! delivered to the tab the agent works in.
import { test, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import {
  launch, configure, openCrm, widgetFrame, driverBound, waitFor, sleep, stopWorker, inShadow, closeCrmPages,
  tabIdOf as tabIdOfIn, autoDiscardable,
} from './harness.mjs';

let h;
let widgetUrl;
before(async () => {
  h = await launch();
  widgetUrl = h.server.widgetUrl({ driver: 'ours', ccaasBridgeOrigins: `chrome-extension://${h.extId}` });
  assert.match(await configure(h, { widgetUrl }), /^Saved/);
});
after(async () => h?.close());
// A failed test must not leave an owner tab behind for the next one.
afterEach(async () => closeAll());

const stored = () => h.worker.evaluate(async () => {
  const { presence } = await chrome.storage.local.get('presence');
  return presence ? JSON.parse(presence) : null;
});
const owner = () => h.worker.evaluate(async () => {
  const { softphone } = await chrome.storage.session.get('softphone');
  try { return softphone ? JSON.parse(softphone) : null; } catch { return { unparsable: softphone }; }
});
/** The tab id of a page (each page of a test has its own URL, `?t=<name>`). */
const tabIdOf = (page) => tabIdOfIn(h, page);
const presenceCalls = (widget) => widget.evaluate(() => window.__emu.calls.filter((c) => c.method === 'setPresence').map((c) => c.args[0]));
const dials = (widget) => widget.evaluate(() => window.__emu.calls.filter((c) => c.method === 'clickToDial').map((c) => c.args[0].number));
const options = (widget) => widget.evaluate(() => window.__emu.presenceOptions);
const choose = (widget, i) => widget.evaluate((i) => {
  window.__emu.raise('presence.onPresenceChange', window.__emu.presenceOptions[i]);
  return window.__emu.presenceOptions[i];
}, i);
const storedIs = (id, what) => waitFor(async () => (await stored())?.presenceId === id, what);
/**
 * Waits until the worker routes conversation events to `page`'s tab (it learns of an activation
 * asynchronously): raises hold changes in the widget until one reaches the page. Only
 * `holdChanged` events are added to the page's log.
 */
const routedTo = (page, widget) => {
  let i = 0;
  return waitFor(async () => {
    await widget.evaluate((k) => window.__emu.raise('voiceOrVideoCalling.onHoldChange', { liveWorkItemId: `probe-${k}`, isAgentOnHold: false }), i++);
    return page.evaluate(() => window.crmLog.some((m) => m.type === 'holdChanged'));
  }, 'events routed to the working tab', 10000, 200);
};
/** Every live emulator instance in the browser (each page's frames). */
const liveWidgets = async () => {
  const found = [];
  for (const p of h.context.pages()) {
    for (const f of p.frames()) {
      try {
        if (await f.evaluate(() => !!window.__emu)) found.push({ page: p, frame: f });
      } catch { /* navigating */ }
    }
  }
  return found;
};
const discardable = (tab) => autoDiscardable(h, tab);
const hasPanel = (page) => page.evaluate(() => !!document.querySelector('ccaas-softphone'));
const hasBar = (page) => page.evaluate(() => !!document.querySelector('ccaas-softphone-bar'));
const closeAll = async () => {
  await closeCrmPages(h);
  await waitFor(async () => !(await owner())?.owner, 'no owner once every tab is closed');
};

test('presence is kept across a worker stop, restored on reload, and the newest choice wins', async () => {
  const { page } = await openCrm(h, 'permissive.html');
  let widget = await widgetFrame(h, page);
  await driverBound(widget);
  // With nothing stored yet, the widget's presence and its options are stored for the popup.
  const [available, busy, , away] = await options(widget);
  await storedIs(available.presenceId, 'the widget\'s own presence stored');
  assert.equal((await stored()).chosenAt, 0, 'not a choice of the agent');
  assert.equal((await stored()).options.length, 5);
  assert.deepEqual(await presenceCalls(widget), [], 'nothing to restore');

  await choose(widget, 1);
  await storedIs(busy.presenceId, 'busy stored');
  await stopWorker(h);
  assert.equal((await stored()).presenceId, busy.presenceId, 'still stored after the worker stop');

  // The reloaded widget starts as Available: it is asked to restore Busy.
  await page.reload();
  widget = await widgetFrame(h, page);
  await driverBound(widget);
  await waitFor(async () => (await presenceCalls(widget)).length === 1, 'setPresence asked of the new widget');
  assert.deepEqual(await presenceCalls(widget), [busy.presenceId]);
  await waitFor(() => widget.evaluate((id) => window.__emu.presence.presenceId === id, busy.presenceId), 'the widget shows busy');

  // The agent changes it in the widget: that newer choice is kept and is what the next load restores.
  await choose(widget, 3);
  await storedIs(away.presenceId, 'away stored');
  await page.reload();
  widget = await widgetFrame(h, page);
  await driverBound(widget);
  await waitFor(async () => (await presenceCalls(widget)).length === 1, 'setPresence asked again');
  assert.deepEqual(await presenceCalls(widget), [away.presenceId]);
  assert.equal((await stored()).presenceId, away.presenceId);
  await closeAll();
});

test('the popup lists the presence options and sets one with a click', async () => {
  const { page } = await openCrm(h, 'permissive.html');
  const widget = await widgetFrame(h, page);
  await driverBound(widget);
  const all = await options(widget);
  await waitFor(async () => (await stored())?.options?.length === 5, 'options stored');
  const popup = await h.context.newPage();
  await popup.goto(h.extUrl(`popup.html?tab=${await tabIdOf(page)}`));
  await popup.waitForSelector('#presence-options button');
  const shown = await popup.$$eval('#presence-options button', (bs) => bs.map((b) => ({ id: b.dataset.presenceId, text: b.textContent, pressed: b.getAttribute('aria-pressed') })));
  assert.deepEqual(shown.map((b) => b.id), all.map((o) => o.presenceId));
  assert.deepEqual(shown.map((b) => b.text), all.map((o) => o.presenceText));
  const current = (await stored()).presenceId;
  assert.deepEqual(shown.filter((b) => b.pressed === 'true').map((b) => b.id), [current]);

  const dnd = all[2];
  await popup.click(`#presence-options button[data-presence-id="${dnd.presenceId}"]`);
  await waitFor(async () => (await presenceCalls(widget)).includes(dnd.presenceId), 'the widget asked to set Do not disturb');
  await storedIs(dnd.presenceId, 'do not disturb stored (from the driver\'s report)');
  await waitFor(() => popup.$eval('#presence-now', (e) => e.textContent === 'You are Do not disturb'), 'the popup shows it');
  assert.equal(await popup.$eval(`#presence-options button[data-presence-id="${dnd.presenceId}"]`, (b) => b.getAttribute('aria-pressed')), 'true');
  // The worker sets the badge from the same storage change, on its own schedule.
  await waitFor(async () => (await h.worker.evaluate(() => chrome.action.getBadgeText({}))) === 'DND', 'DND on the badge');
  await popup.close();
  await closeAll();
});

test('three tabs share one softphone: dials from any tab reach it once, across a worker stop', async () => {
  const a = await openCrm(h, 'permissive.html?t=a');
  const widget = await widgetFrame(h, a.page);
  await driverBound(widget);
  const b = await openCrm(h, 'permissive.html?t=b', { waitForPanel: false });
  const c = await openCrm(h, 'strict.html?t=c', { waitForPanel: false });
  await b.page.waitForSelector('ccaas-softphone-bar', { state: 'attached' });
  await c.page.waitForSelector('ccaas-softphone-bar', { state: 'attached' });
  assert.equal(await hasPanel(a.page), true);
  assert.deepEqual([await hasPanel(b.page), await hasPanel(c.page)], [false, false]);
  assert.equal(await hasBar(a.page), false);
  assert.equal((await liveWidgets()).length, 1, 'exactly one live widget');
  assert.equal((await owner()).owner, await tabIdOf(a.page));

  // Every tab's page API reports the one softphone's status.
  const status = await waitFor(async () => {
    const r = await c.page.evaluate(() => window.crmRequest('getStatus'));
    return r.data?.widget === 'ready' && r.data;
  }, 'the ready softphone in the other tab\'s status');
  assert.equal(status.widgetOrigin, new URL(widgetUrl).origin);

  // A dial from another tab reaches the softphone and brings its panel forward.
  await a.page.evaluate(() => window.crmRequest('hidePanel'));
  await waitFor(() => a.page.evaluate(() => document.querySelector('ccaas-softphone').dataset.minimized === 'true'), 'owner minimized');
  const r1 = await c.page.evaluate(() => window.crmDial('+14255550141'));
  assert.ok(r1.ok, JSON.stringify(r1));
  await waitFor(() => a.page.evaluate(() => document.querySelector('ccaas-softphone').dataset.minimized === 'false'), 'the owner\'s panel restored');
  await stopWorker(h);
  const r2 = await b.page.evaluate(() => window.crmDial('+14255550142', 15000));
  assert.ok(r2.ok, JSON.stringify(r2));
  await sleep(500);
  assert.deepEqual(await dials(widget), ['+14255550141', '+14255550142'], 'each dial once, in order');
  assert.equal((await liveWidgets()).length, 1, 'still one live widget after the worker stop');
  await waitFor(() => c.lines.some((l) => l.includes('Calling +14255550141 on the softphone in')), 'the clicking tab is told');
  await closeAll();
});

// A tab showing the bar has no panel of its own: the page API's showPanel there brings the
// softphone's tab forward (as the bar's Show does), but only right after the agent's click (or
// Enter/Space outside a text field) in that page, once per gesture, so a page script cannot
// pull the agent away; hidePanel has nothing to hide.
test('showPanel in a tab without the softphone brings its tab forward on the agent\'s click, not otherwise', async () => {
  const a = await openCrm(h, 'permissive.html?t=sa');
  await driverBound(await widgetFrame(h, a.page));
  const b = await openCrm(h, 'permissive.html?t=sb', { waitForPanel: false });
  await b.page.waitForSelector('ccaas-softphone-bar', { state: 'attached' });
  const [ta, tb] = [await tabIdOf(a.page), await tabIdOf(b.page)];
  const active = () => h.worker.evaluate(async () => (await chrome.tabs.query({ active: true })).map((t) => t.id));
  await h.worker.evaluate((t) => chrome.tabs.update(t, { active: true }), tb);
  await waitFor(async () => (await active()).includes(tb), 'the bar tab active');
  await a.page.evaluate(() => window.crmRequest('hidePanel'));
  const minimized = () => a.page.evaluate(() => document.querySelector('ccaas-softphone').dataset.minimized);
  await waitFor(async () => (await minimized()) === 'true', 'the owner minimized');
  const showPanel = () => b.page.evaluate(() => window.crmRequest('showPanel'));
  const refused = (r) => {
    assert.equal(r.ok, false, JSON.stringify(r));
    assert.equal(r.error.code, 'noPanel');
    assert.match(r.error.message, /another tab/);
  };

  const hide = await b.page.evaluate(() => window.crmRequest('hidePanel'));
  assert.deepEqual([hide.ok, hide.data], [true, null], JSON.stringify(hide));
  // A page script's own call, and one after the agent typed a space in a text field.
  refused(await showPanel());
  await b.page.evaluate(() => { const i = document.createElement('input'); i.id = 'note'; document.body.prepend(i); });
  await b.page.focus('#note');
  await b.page.keyboard.press('Space');
  refused(await showPanel());
  await sleep(300);
  assert.ok((await active()).includes(tb), 'the agent was not pulled away');
  assert.equal(await minimized(), 'true');

  // The agent clicks the CRM's own "show phone" button, whose handler calls showPanel.
  await b.page.evaluate(() => {
    const button = document.createElement('button');
    button.id = 'show-phone';
    button.textContent = 'Phone';
    button.onclick = () => window.crmRequest('showPanel').then((r) => { window.showReply = r; });
    document.body.prepend(button);
  });
  await b.page.click('#show-phone');
  const shown = await waitFor(() => b.page.evaluate(() => window.showReply), 'the reply');
  assert.deepEqual([shown.ok, shown.data], [true, null], JSON.stringify(shown));
  await waitFor(async () => (await active()).includes(ta), 'the softphone\'s tab brought forward');
  await waitFor(async () => (await minimized()) === 'false', 'its panel restored');
  // One gesture, one showPanel.
  refused(await showPanel());
  await closeAll();
});

// A CRM that asks for the panel as it loads asks before the tab knows whether it shows the panel,
// the bar or neither (the configuration and the worker's answer come a little later): the
// request waits for that instead of hearing "not shown on this site" from a site that has it.
// And the change it makes is made on top of the agent's stored layout, not on the defaults
// (which the stored layout would undo, or which would be stored over the agent's side and width).
test('showPanel or hidePanel asked while the page loads is answered once the tab knows it shows the panel', async () => {
  const a = await openCrm(h, 'permissive.html?t=load');
  await driverBound(await widgetFrame(h, a.page));
  const layout = () => a.page.evaluate(() => {
    const e = document.querySelector('ccaas-softphone');
    return e && { minimized: e.dataset.minimized, side: e.dataset.side };
  });
  const storedPanel = () => h.worker.evaluate(async () => JSON.parse((await chrome.storage.local.get('panel')).panel ?? 'null'));
  await h.worker.evaluate(() => chrome.storage.local.set({ panel: JSON.stringify({ side: 'left', width: 480, minimized: true }) }));
  await waitFor(async () => (await layout())?.minimized === 'true', 'minimized');
  await a.page.addInitScript(() => {
    const type = sessionStorage.getItem('askOnLoad');
    if (!type) return;
    document.addEventListener('DOMContentLoaded', () => {
      window.crmRequest(type).then((r) => { window.loadReply = r; }, (e) => { window.loadReply = String(e); });
    });
  });
  const reloadAsking = async (type) => {
    await a.page.evaluate((t) => sessionStorage.setItem('askOnLoad', t), type);
    await a.page.reload();
    const reply = await waitFor(() => a.page.evaluate(() => window.loadReply), `the reply to the ${type} sent on load`);
    assert.deepEqual([reply.ok, reply.data], [true, null], JSON.stringify(reply));
  };
  await reloadAsking('showPanel');
  await waitFor(async () => (await layout())?.minimized === 'false', 'the panel restored');
  assert.equal((await layout()).side, 'left', 'docked where the agent left it');
  await waitFor(async () => (await storedPanel()).minimized === false, 'stored restored');
  await reloadAsking('hidePanel');
  await waitFor(async () => (await layout())?.minimized === 'true', 'the panel minimized');
  await waitFor(async () => (await storedPanel()).minimized === true, 'stored minimized');
  assert.deepEqual(await storedPanel(), { side: 'left', width: 480, minimized: true }, 'side and width kept');
  assert.equal((await layout()).side, 'left');
  await h.worker.evaluate(() => chrome.storage.local.remove('panel'));
  await closeAll();
});

test('closing the owner hands the softphone over with presence restored; moves wait for the conversation', async () => {
  const a = await openCrm(h, 'permissive.html?t=a');
  let widget = await widgetFrame(h, a.page);
  await driverBound(widget);
  // The stored presence (from the test before) is restored first; then the agent changes it.
  const before = (await stored())?.presenceId;
  const [available, , , away] = await options(widget);
  if (before && before !== available.presenceId) {
    await waitFor(async () => (await presenceCalls(widget)).includes(before), 'the stored presence restored');
  }
  await choose(widget, 3);
  await storedIs(away.presenceId, 'away stored');
  const b = await openCrm(h, 'permissive.html?t=b', { waitForPanel: false });
  const c = await openCrm(h, 'permissive.html?t=c', { waitForPanel: false });
  await b.page.waitForSelector('ccaas-softphone-bar', { state: 'attached' });
  await c.page.waitForSelector('ccaas-softphone-bar', { state: 'attached' });
  const [ta, tb, tc] = [await tabIdOf(a.page), await tabIdOf(b.page), await tabIdOf(c.page)];
  await waitFor(async () => (await discardable(ta)) === false, 'the softphone\'s tab kept loaded');
  assert.deepEqual([await discardable(tb), await discardable(tc)], [true, true]);

  // Events go to the tab the agent works in.
  await h.worker.evaluate((t) => chrome.tabs.update(t, { active: true }), tc);
  await routedTo(c.page, widget);
  const call = await widget.evaluate(() => window.__emu.loadConversation({ customerName: 'Ana Lima' }));
  await waitFor(() => c.page.evaluate(() => window.crmLog.some((m) => m.kind === 'event' && m.type === 'conversationLoaded')), 'conversationLoaded in the active tab');
  assert.equal(await a.page.evaluate(() => window.crmLog.filter((m) => m.type === 'conversationLoaded').length), 0, 'not in the owner tab');
  await waitFor(async () => (await owner()).busy === true, 'the worker knows a conversation is active');

  // A move is refused while the conversation is active.
  await inShadow(b.page, 'ccaas-softphone-bar', '.here');
  await waitFor(() => b.lines.some((l) => l.includes('while a conversation is active')), 'the refusal is shown');
  assert.equal((await owner()).owner, ta);
  assert.equal(await hasPanel(b.page), false);

  // The owner tab asks before it unloads while the conversation is active.
  await a.page.mouse.click(5, 5); // a page needs a user gesture before it may ask
  const dialog = new Promise((resolve) => a.page.once('dialog', async (d) => { resolve(d.type()); await d.dismiss(); }));
  await a.page.close({ runBeforeUnload: true });
  assert.equal(await Promise.race([dialog, sleep(15000).then(() => 'no dialog within 15 s')]), 'beforeunload');
  assert.equal(a.page.isClosed(), false, 'the agent stayed');

  // The conversation ends: now "Open here" moves the softphone.
  await widget.evaluate((id) => window.__emu.raise('conversation.onStatusChange', { liveWorkItemId: id, statusCode: 4 }), call.liveWorkItemId);
  await waitFor(async () => (await owner()).busy === false, 'no conversation any more');
  await inShadow(b.page, 'ccaas-softphone-bar', '.here');
  await b.page.waitForSelector('ccaas-softphone', { state: 'attached' });
  await a.page.waitForSelector('ccaas-softphone-bar', { state: 'attached' });
  assert.equal((await owner()).owner, tb);
  await waitFor(async () => (await discardable(tb)) === false, 'the new softphone\'s tab kept loaded');
  await waitFor(async () => (await discardable(ta)) === true, 'the old one left to the browser');
  widget = await widgetFrame(h, b.page);
  await driverBound(widget);
  await waitFor(async () => (await presenceCalls(widget)).includes(away.presenceId), 'presence restored after the move');
  await waitFor(async () => (await liveWidgets()).length === 1, 'one live widget after the move');

  // Closing the owner hands the softphone to another tab, with presence restored there.
  await b.page.close();
  const next = await waitFor(async () => {
    const o = (await owner())?.owner;
    return o && o !== tb && o;
  }, 'a new owner');
  assert.ok([ta, tc].includes(next));
  const page = next === ta ? a.page : c.page;
  await page.waitForSelector('ccaas-softphone', { state: 'attached' });
  widget = await widgetFrame(h, page);
  await driverBound(widget);
  await waitFor(async () => (await presenceCalls(widget)).includes(away.presenceId), 'presence restored after the hand-over');
  assert.equal((await liveWidgets()).length, 1);
  const r = await (next === ta ? c.page : a.page).evaluate(() => window.crmDial('+14255550143'));
  assert.ok(r.ok, JSON.stringify(r));
  await waitFor(async () => (await dials(widget)).includes('+14255550143'), 'a dial from the other tab reaches the new owner');
  await closeAll();
});

test('an owner that navigates to a site without the softphone hands it over', async () => {
  const a = await openCrm(h, 'permissive.html?t=a');
  await driverBound(await widgetFrame(h, a.page));
  const b = await openCrm(h, 'permissive.html?t=b', { waitForPanel: false });
  await b.page.waitForSelector('ccaas-softphone-bar', { state: 'attached' });
  const tb = await tabIdOf(b.page);
  await a.page.goto(`${h.server.origins.other}/other/hostile-frame.html`);
  await b.page.waitForSelector('ccaas-softphone', { state: 'attached', timeout: 15000 });
  assert.equal((await owner()).owner, tb);
  await driverBound(await widgetFrame(h, b.page));
  assert.equal(await hasBar(b.page), false);
  await a.page.close();
});

test('a corrupted ownership record is replaced after a worker restart, never a crash', async () => {
  const { page } = await openCrm(h, 'permissive.html');
  const widget = await widgetFrame(h, page);
  await driverBound(widget);
  const tab = await tabIdOf(page);
  await h.worker.evaluate(() => chrome.storage.session.set({ softphone: '{"v":1,"owner":' }));
  // The restarted worker has no cache: it reads the corrupted record when the page reconnects.
  await stopWorker(h);
  await waitFor(async () => (await owner())?.owner === tab, 'a valid owner written again');
  assert.equal(await hasPanel(page), true);
  assert.equal((await liveWidgets()).length, 1);
  const r = await page.evaluate(() => window.crmDial('+14255550144', 15000));
  assert.ok(r.ok, JSON.stringify(r));
  await waitFor(async () => (await dials(widget)).includes('+14255550144'), 'the dial after the restart');
});

/** Tab a hosts the softphone (driver bound), tab c shows the bar and is the active tab. */
const ownerAndWorkingTab = async (tag) => {
  const a = await openCrm(h, `permissive.html?t=${tag}a`);
  const widget = await widgetFrame(h, a.page);
  await driverBound(widget);
  const c = await openCrm(h, `permissive.html?t=${tag}c`, { waitForPanel: false });
  await c.page.waitForSelector('ccaas-softphone-bar', { state: 'attached' });
  await h.worker.evaluate((t) => chrome.tabs.update(t, { active: true }), await tabIdOf(c.page));
  await routedTo(c.page, widget);
  return { a, c, widget };
};

test('after a worker restart, conversation events still go to the tab the agent works in', async () => {
  const { a, c, widget } = await ownerAndWorkingTab('w');
  // Stopped from the working tab's own DevTools session: no tab is opened or activated, so the
  // restarted worker hears of no activation.
  await stopWorker(h, c.page);
  // The working tab's and the panel's ports are back once a dial from it goes round.
  const r = await c.page.evaluate(() => window.crmDial('+14255550144', 15000));
  assert.ok(r.ok, JSON.stringify(r));
  const call = await widget.evaluate(() => window.__emu.loadConversation({ customerName: 'Bo Chen' }));
  await waitFor(() => c.page.evaluate(() => window.crmLog.some((m) => m.kind === 'event' && m.type === 'conversationLoaded')),
    'conversationLoaded in the working tab', 15000);
  assert.equal(await a.page.evaluate(() => window.crmLog.filter((m) => m.type === 'conversationLoaded').length), 0, 'not in the owner tab');
  await widget.evaluate((id) => window.__emu.raise('conversation.onStatusChange', { liveWorkItemId: id, statusCode: 4 }), call.liveWorkItemId);
  await waitFor(async () => (await owner())?.busy === false, 'no conversation any more');
  await closeAll();
});

test('a conversation event raised while the worker restarts reaches a page once', async () => {
  const { a, c, widget } = await ownerAndWorkingTab('r');
  let call;
  // Raised at once, while the panel's port to the worker is down: the panel holds it, and the
  // worker holds it for a tab whose content script has not reconnected yet.
  await stopWorker(h, c.page, async () => {
    call = await widget.evaluate(() => window.__emu.loadConversation({ customerName: 'Cy Diaz' }));
  });
  const loaded = (p) => p.evaluate(() => window.crmLog.filter((m) => m.kind === 'event' && m.type === 'conversationLoaded').length);
  await waitFor(async () => (await loaded(a.page)) + (await loaded(c.page)) > 0, 'conversationLoaded in a page', 15000);
  await sleep(1000);
  assert.equal((await loaded(a.page)) + (await loaded(c.page)), 1, 'exactly once');
  await widget.evaluate((id) => window.__emu.raise('conversation.onStatusChange', { liveWorkItemId: id, statusCode: 4 }), call.liveWorkItemId);
  await waitFor(async () => (await owner())?.busy === false, 'no conversation any more');
  await closeAll();
});
