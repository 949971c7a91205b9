// Issue 6, the project's CTI driver (dist/ccaas-cti-driver.js, built from crates/driver), loaded
// by the widget emulator exactly as the real widget loads a driver (`?driver=ours`): every SDK
// event it forwards reaches the CRM page typed; every request reaches the SDK with the right
// arguments and is answered by id, a malformed number with a typed error; it works where the
// widget's CSP forbids compiling wasm; forged messages (a sibling frame, the widget's own
// scripts, a parent origin not on its allowlist) change nothing and are counted as dropped.
import { test, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { launch, configure, openCrm, widgetFrame, panelFrame, driverBound, dropStats, waitFor, sleep, closeCrmPages } from './harness.mjs';

let h;
let extOrigin;
before(async () => {
  h = await launch();
  extOrigin = `chrome-extension://${h.extId}`;
});
after(async () => h?.close());
afterEach(async () => closeCrmPages(h));

/** The widget URL with our driver, trusting the extension's panel as its parent. */
const oursUrl = (extra = {}) => h.server.widgetUrl({ driver: 'ours', ccaasBridgeOrigins: extOrigin, ...extra });

const calls = (widget, method) => widget.evaluate((m) => window.__emu.calls.filter((c) => c.method === m).map((c) => c.args), method);
const stats = (widget) => widget.evaluate(() => window.__emu.driver.stats());
const pageEvents = (page) => page.evaluate(() => window.crmLog.filter((m) => m.kind === 'event' && m.type !== 'statusChanged'));

async function ready(extra) {
  // No stored presence: the panel then only reads the widget's, and asks the SDK to set nothing
  // of its own (these tests count the SDK's calls).
  await h.worker.evaluate(() => chrome.storage.local.remove('presence'));
  const { page, lines } = await openCrm(h, 'permissive.html');
  const widget = await widgetFrame(h, page);
  await driverBound(widget);
  const panel = await panelFrame(h, page);
  await panel.waitForFunction(() => /driver: ours/.test(document.getElementById('driver').textContent), null, { timeout: 10000 });
  return { page, widget, panel, lines, ...extra };
}

/**
 * Posts extended requests into the widget from the panel frame (the widget's parent, with the
 * extension's origin) and resolves with the driver's replies, by id.
 */
async function request(panel, msgs, timeout = 15000) {
  const got = await panel.evaluate(async ([msgs, timeout]) => {
    const frame = document.querySelector('#widget iframe');
    const target = new URL(frame.src).origin;
    const want = new Set(msgs.map((m) => m.id));
    const got = {};
    await new Promise((resolve) => {
      const done = setTimeout(resolve, timeout);
      addEventListener('message', function on(e) {
        const d = e.data;
        if (e.source !== frame.contentWindow || !d || d.kind !== 'reply' || !want.has(d.id)) return;
        got[d.id] = d;
        if (Object.keys(got).length === want.size) {
          clearTimeout(done);
          removeEventListener('message', on);
          resolve();
        }
      });
      for (const m of msgs) frame.contentWindow.postMessage(JSON.stringify(m), target);
    });
    return got;
  }, [msgs, timeout]);
  assert.deepEqual(msgs.map((m) => m.id).filter((id) => !(id in got)), [], 'no reply for these requests');
  return got;
}

const req = (id, type, data) => ({ messageType: 'ccaasBridgeRequest', channel: 'ccaas-driver', v: 1, id, type, ...(data ? { data } : {}) });
const dial = (id, number) => ({ messageType: 'clickToDial', messageData: { number }, channel: 'ccaas-driver', v: 1, id });

test('the panel says it talks to our driver; every forwarded SDK event reaches the page typed', async () => {
  assert.match(await configure(h, { widgetUrl: oursUrl() }), /^Saved/);
  const { page, widget, panel } = await ready();
  assert.equal(await panel.evaluate(() => document.body.dataset.driver), 'extended');
  const panelLines = [];
  page.on('console', (m) => panelLines.push(m.text()));

  const conv = await widget.evaluate(() => window.__emu.loadConversation({ customerName: 'Zoë O\'Brien' }));
  const id = conv.liveWorkItemId;
  await widget.evaluate((id) => {
    const r = window.__emu.raise;
    r('conversation.onAccept', { liveWorkItemId: id });
    r('conversation.onReject', { liveWorkItemId: 'other' });
    r('conversation.onStatusChange', { liveWorkItemId: id, statusCode: 2 });
    r('conversation.onTransfer', { liveWorkItemId: id, sessionId: 's', transferDestination: 'Tier 2' });
    r('conversation.onConsultStart', { liveWorkItemId: id });
    r('conversation.onConsultEnd', { liveWorkItemId: id });
    r('voiceOrVideoCalling.onHoldChange', { liveWorkItemId: id, isAgentOnHold: true });
    r('voiceOrVideoCalling.onMuteChange', { liveWorkItemId: id, isAgentMuted: true });
    r('presence.onPresenceChange', window.__emu.presenceOptions[3]);
    r('conversation.onStatusChange', { liveWorkItemId: id, statusCode: 5 });
    r('conversation.onStatusChange', { liveWorkItemId: id, statusCode: 4 });
  }, id);
  const expected = ['conversationLoaded', 'focusChanged', 'conversationAccepted', 'conversationRejected', 'conversationStatus',
    'conversationTransferred', 'consultStarted', 'consultEnded', 'holdChanged', 'muteChanged', 'presenceChanged', 'conversationEnded'];
  const events = await waitFor(async () => {
    const ev = await pageEvents(page);
    return expected.every((t) => ev.some((e) => e.type === t)) && ev.filter((e) => e.type === 'conversationStatus').length >= 3 && ev;
  }, 'every event in the page', 10000);
  const one = (type) => events.find((e) => e.type === type);
  for (const e of events) {
    assert.equal(e.channel, 'ccaas-bridge');
    assert.equal(e.v, 1);
  }
  // The conversation arrives once, although the driver also posts the stock untagged copy.
  assert.equal(events.filter((e) => e.type === 'conversationLoaded').length, 1);
  assert.equal(one('conversationLoaded').data.customerName, 'Zoë O\'Brien');
  assert.equal(one('conversationLoaded').data.customerPhoneNumber, '+14255550123');
  assert.deepEqual(one('focusChanged').data, { liveWorkItemId: id });
  assert.deepEqual(one('conversationAccepted').data, { liveWorkItemId: id });
  assert.deepEqual(one('conversationRejected').data, { liveWorkItemId: 'other' });
  assert.deepEqual(events.filter((e) => e.type === 'conversationStatus').map((e) => e.data.status), ['active', 'wrapUp', 'closed']);
  assert.deepEqual(one('conversationEnded').data, { liveWorkItemId: id });
  assert.deepEqual(one('conversationTransferred').data, { liveWorkItemId: id, transferDestination: 'Tier 2' });
  assert.deepEqual(one('consultStarted').data, { liveWorkItemId: id });
  assert.deepEqual(one('consultEnded').data, { liveWorkItemId: id });
  assert.deepEqual(one('holdChanged').data, { liveWorkItemId: id, onHold: true });
  assert.deepEqual(one('muteChanged').data, { liveWorkItemId: id, muted: true });
  assert.equal(one('presenceChanged').data.basePresenceStatus, 'AWAY');
  assert.equal(one('presenceChanged').data.presenceId, '6e4f1b68-c07a-e811-8162-000d3aa11f50');

  // The SDK's panel requests reach the panel frame: visibility shows a minimized panel,
  // width and height are noted.
  const host = page.locator('ccaas-softphone');
  await page.evaluate(() => window.crmRequest('hidePanel'));
  await waitFor(async () => (await host.getAttribute('data-minimized')) === 'true', 'minimized');
  await widget.evaluate(() => {
    window.__emu.raise('ctiDriver.onSoftPhonePanelVisibilityChange', true);
    window.__emu.raise('ctiDriver.onSoftPhonePanelWidthChange', 420);
    window.__emu.raise('ctiDriver.onSoftPhonePanelHeightChange', 640);
  });
  await waitFor(async () => (await host.getAttribute('data-minimized')) === 'false', 'shown on the SDK\'s request');
  await waitFor(() => panelLines.some((l) => l.includes('widget asked for width 420')) && panelLines.some((l) => l.includes('widget asked for height 640')), 'panel size requests noted');

  // Unlike Microsoft's sample, nothing changed the agent's presence on its own.
  assert.deepEqual(await calls(widget, 'setPresence'), []);
  // Nothing the driver posted was dropped by the panel.
  const drops = await dropStats(h);
  const panelDrops = Object.entries(drops).filter(([k]) => k.startsWith('panel:')).reduce((n, [, v]) => n + Object.values(v).reduce((a, b) => a + b, 0), 0);
  assert.equal(panelDrops, 0, JSON.stringify(drops));
  assert.deepEqual(await widget.evaluate(() => window.__emu.errors), []);
  await page.close();
});

test('every request reaches the SDK with the right arguments and is answered by id', async () => {
  assert.match(await configure(h, { widgetUrl: oursUrl() }), /^Saved/);
  const { page, widget, panel } = await ready();

  // Click-to-dial through the page API: the driver confirms, so the page hears `accepted`.
  const reply = await page.evaluate(() => window.crmDial('+1 (425) 555-0100'));
  assert.deepEqual(reply.data, { delivered: true, accepted: true }, JSON.stringify(reply));
  assert.deepEqual(await calls(widget, 'clickToDial'), [[{ number: '+14255550100' }]]);

  await widget.evaluate(() => window.__emu.loadConversation({ liveWorkItemId: 'conv-1' }));
  const opts = await widget.evaluate(() => window.__emu.presenceOptions);
  const byBase = (b) => opts.find((o) => o.basePresenceStatus === b).presenceId;
  const r = await request(panel, [
    dial('bad-1', 'call me maybe'),
    dial('bad-2', '+1 42'),
    dial('ok-1', '+44 20 7946 0958'),
    req('p-1', 'getPresence'),
    req('o-1', 'getPresenceOptions'),
    req('f-1', 'getFocusedConversation'),
    req('u-1', 'formatDisk'),
  ]);
  assert.equal(r['bad-1'].ok, false);
  assert.equal(r['bad-1'].error.code, 'badNumber');
  assert.equal(r['bad-2'].error.code, 'badNumber');
  assert.deepEqual(r['ok-1'].data, { accepted: true });
  assert.deepEqual(r['p-1'].data, await widget.evaluate(() => window.__emu.presence));
  assert.equal(r['o-1'].data.length, 5);
  assert.deepEqual(r['o-1'].data.map((o) => o.presenceId), opts.map((o) => o.presenceId));
  assert.deepEqual(r['f-1'].data, { liveWorkItemId: 'conv-1' });
  assert.equal(r['u-1'].ok, false);
  assert.equal(r['u-1'].error.code, 'unknownType');
  // Malformed numbers never reached the SDK; the good one did, in E.164.
  assert.deepEqual(await calls(widget, 'clickToDial'), [[{ number: '+14255550100' }], [{ number: '+442079460958' }]]);
  assert.ok((await calls(widget, 'getPresence')).length >= 1);
  assert.ok((await calls(widget, 'getFocusedConversationId')).length >= 1);

  // setPresence by id, by base status when the id is unknown, and refused when neither fits.
  const s = await request(panel, [req('s-1', 'setPresence', { presenceId: byBase('BUSY') })]);
  assert.deepEqual(s['s-1'].data, { presenceId: byBase('BUSY') });
  const s2 = await request(panel, [req('s-2', 'setPresence', { presenceId: 'no-such-id', baseStatus: 'AWAY' })]);
  assert.deepEqual(s2['s-2'].data, { presenceId: byBase('AWAY') });
  const s3 = await request(panel, [req('s-3', 'setPresence', { presenceId: 'no-such-id' })]);
  assert.equal(s3['s-3'].ok, false);
  assert.equal(s3['s-3'].error.code, 'unknownPresence');
  assert.deepEqual(await calls(widget, 'setPresence'), [[byBase('BUSY')], [byBase('AWAY')]]);
  assert.equal(await widget.evaluate(() => window.__emu.presence.basePresenceStatus), 'AWAY');
  // The presence change the SDK raised reached the page.
  await page.waitForFunction((id) => window.crmLog.some((m) => m.type === 'presenceChanged' && m.data.presenceId === id), byBase('AWAY'));

  const st = await stats(widget);
  assert.equal(st.dropped.badNumber, 2);
  assert.equal(st.dropped.unknownType, 1);
  assert.deepEqual(await widget.evaluate(() => window.__emu.errors), []);
  await page.close();
});

test('the driver loads and works where the widget\'s CSP forbids compiling wasm', async () => {
  assert.match(await configure(h, { widgetUrl: oursUrl({ csp: 'nowasm' }) }), /^Saved/);
  const { page, widget } = await ready();
  const compiled = await widget.evaluate(() => WebAssembly.compile(new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0])).then(() => 'compiled', (e) => e.name));
  assert.equal(compiled, 'CompileError', 'the emulator was not served with the no-wasm CSP');
  const reply = await page.evaluate(() => window.crmDial('+14255550142'));
  assert.deepEqual(reply.data, { delivered: true, accepted: true });
  assert.deepEqual(await calls(widget, 'clickToDial'), [[{ number: '+14255550142' }]]);
  await widget.evaluate(() => window.__emu.raise('voiceOrVideoCalling.onMuteChange', { liveWorkItemId: 'w', isAgentMuted: true }));
  await page.waitForFunction(() => window.crmLog.some((m) => m.type === 'muteChanged' && m.data.muted === true));
  await page.close();
});

test('forged messages from a sibling frame, the widget\'s own scripts and an unlisted parent are dropped and counted', async () => {
  assert.match(await configure(h, { widgetUrl: oursUrl() }), /^Saved/);
  const { page, widget, panel } = await ready();
  const DIAL = JSON.stringify(dial('forged', '+14255550199'));
  const PRESENCE = JSON.stringify(req('forged-p', 'setPresence', { baseStatus: 'OFFLINE' }));
  const before = await stats(widget);
  const n = (s, reason) => s.dropped[reason] || 0;

  // 1. The widget page's own scripts post to the widget's window.
  await widget.evaluate(([a, b]) => {
    window.postMessage(a, '*');
    window.postMessage(b, '*');
    window.postMessage(JSON.parse(a), '*');
  }, [DIAL, PRESENCE]);

  // 2. Sibling frames of the widget inside the panel: one with the panel's own (allowed)
  // origin, one from a third-party origin. Neither is the widget's parent.
  await panel.evaluate((src) => {
    const blank = document.createElement('iframe');
    blank.name = 'sibling-blank';
    document.body.append(blank);
    const third = document.createElement('iframe');
    third.name = 'sibling-third';
    third.src = src;
    document.body.append(third);
  }, `${h.server.origins.other}/other/hostile-frame.html`);
  const blank = await waitFor(() => panel.childFrames().find((f) => f.name() === 'sibling-blank'), 'blank sibling');
  await blank.evaluate(([a, b]) => {
    parent.frames[0].postMessage(a, '*');
    parent.frames[0].postMessage(b, '*');
  }, [DIAL, PRESENCE]);
  const third = await waitFor(() => panel.childFrames().find((f) => f.name() === 'sibling-third' && f.url().includes('hostile-frame')), 'third-party sibling', 10000);
  await third.evaluate(([a, b]) => {
    parent.frames[0].postMessage(a, '*');
    parent.frames[0].postMessage(b, '*');
  }, [DIAL, PRESENCE]);

  const afterSiblings = await waitFor(async () => {
    const s = await stats(widget);
    return n(s, 'wrongSource') - n(before, 'wrongSource') >= 7 && s;
  }, 'seven wrongSource drops', 5000);
  // (The third-party page also attacks every frame it can reach on load: at least seven.)
  assert.ok(n(afterSiblings, 'wrongSource') - n(before, 'wrongSource') >= 7);

  // 3. Garbage from the trusted parent: dropped and counted, never thrown.
  await panel.evaluate(() => {
    const w = document.querySelector('#widget iframe').contentWindow;
    const o = new URL(document.querySelector('#widget iframe').src).origin;
    w.postMessage('not json at all', o);
    w.postMessage({ hello: 'object' }, o);
    w.postMessage(undefined, o);
    w.postMessage('{"messageType":"clickToDial","__proto__":{"x":1}}', o);
  });
  const afterGarbage = await waitFor(async () => {
    const s = await stats(widget);
    return n(s, 'notJson') - n(before, 'notJson') >= 2 && s;
  }, 'garbage drops', 5000);
  assert.equal(n(afterGarbage, 'notJson') - n(before, 'notJson'), 2);
  assert.equal(n(afterGarbage, 'wrongShape') - n(before, 'wrongShape'), 1);
  assert.equal(n(afterGarbage, 'forbiddenKey') - n(before, 'forbiddenKey'), 1);

  await sleep(300);
  assert.deepEqual(await calls(widget, 'clickToDial'), []);
  assert.deepEqual(await calls(widget, 'setPresence'), []);
  assert.deepEqual(await widget.evaluate(() => window.__emu.errors), []);
  await page.close();

  // 4. A page on an origin the allowlist does not name frames the widget (the driver's URL
  // trusts only the extension) and posts to it as its parent.
  const evil = await h.context.newPage();
  await evil.goto(`${h.server.origins.other}/other/hostile-frame.html`);
  await evil.evaluate((src) => {
    window.replies = [];
    addEventListener('message', (e) => window.replies.push(e.data));
    const f = document.createElement('iframe');
    f.id = 'w';
    f.src = src;
    document.body.append(f);
  }, oursUrl());
  const framed = await waitFor(() => evil.frames().find((f) => f.url().includes('/widget/index.html')), 'widget framed by the hostile page');
  // Polled by interval: the frame sits below the fold, where animation frames are throttled.
  await framed.waitForFunction(() => window.__emu && window.__emu.driverBound, null, { polling: 100, timeout: 15000 });
  await evil.evaluate(([a, b]) => {
    const w = document.getElementById('w').contentWindow;
    w.postMessage(a, '*');
    w.postMessage(b, '*');
  }, [DIAL, PRESENCE]);
  await waitFor(async () => ((await stats(framed)).dropped.wrongOrigin || 0) >= 2, 'wrongOrigin drops', 5000);
  await framed.evaluate(() => window.__emu.loadConversation());
  await sleep(300);
  assert.deepEqual(await calls(framed, 'clickToDial'), []);
  assert.deepEqual(await calls(framed, 'setPresence'), []);
  // Nothing — no hello, no reply, no event — was posted to an origin not on the list.
  assert.deepEqual(await evil.evaluate(() => window.replies), []);
  assert.equal((await stats(framed)).posted, 0);
  await evil.close();
});
