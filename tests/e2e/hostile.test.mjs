// Issue 3, trust at every boundary: forged and malformed messages have no effect and each is
// counted as dropped, with the reason, by the context that dropped it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, configure, openCrm, widgetFrame, panelFrame, driverBound, dropStats, dropped, waitFor, sleep } from './harness.mjs';

let h;
before(async () => {
  h = await launch();
  assert.match(await configure(h, { timeoutSec: 3 }), /^Saved/);
});
after(async () => h?.close());

const STOCK_DIAL = '{"messageType":"clickToDial","messageData":{"number":"+14255550199"}}';
const dials = (widget) => widget.evaluate(() => window.__emu.calls.filter((c) => c.method === 'clickToDial').length);
const conversation = { liveWorkItemId: 'forged', conversationType: 'Voice', createdTimeStamp: 't', sessionId: 's', customerName: 'Mallory', customerPhoneNumber: '+14255550199' };

/** Waits until the drop counters for `prefix`/`reason` grew by at least `n` from `base`. */
async function droppedAtLeast(prefix, reason, base, n) {
  return waitFor(async () => dropped(await dropStats(h), prefix, reason) >= base + n, `${n} ${reason} drop(s) in ${prefix}`, 5000);
}

async function ready(file = 'permissive.html') {
  const { page } = await openCrm(h, file);
  const widget = await widgetFrame(h, page);
  await driverBound(widget);
  await page.evaluate(() => window.crmDial('+14255550100')); // the bridge works before the attack
  await waitFor(async () => (await dials(widget)) === 1, 'baseline dial');
  return { page, widget };
}

test('the page cannot reach the extension frame, and a forged widget message in it is dropped', async () => {
  const { page, widget } = await ready();
  // The panel's frame lives in a closed shadow root: it is not among the page's window.frames,
  // so a page script has no window to post to (nor can it reach the widget below it).
  const reachable = await page.evaluate(() => window.frames.length);
  assert.equal(reachable, await page.evaluate(() => document.querySelectorAll('iframe').length));
  // Defence in depth: should a foreign window get a handle on the panel anyway, its messages
  // are dropped there because their source is not the widget's window. Post stock and extended
  // driver messages from a window that is not the widget (a blank child of the panel).
  const panel = await panelFrame(h, page);
  const base = dropped(await dropStats(h), 'panel:', 'wrongSource');
  await panel.evaluate(() => {
    const f = document.createElement('iframe');
    f.name = 'forger';
    document.body.append(f);
  });
  const forger = await waitFor(() => panel.childFrames().find((f) => f.name() === 'forger'), 'forger frame');
  const posted = await forger.evaluate(([c, d]) => {
    parent.postMessage(c, '*');
    parent.postMessage(d, '*');
    parent.postMessage({ channel: 'ccaas-driver', v: 1, kind: 'event', type: 'panelVisibility', data: { visible: true } }, '*');
    return 3;
  }, [conversation, STOCK_DIAL]);
  await droppedAtLeast('panel:', 'wrongSource', base, posted);
  await sleep(300);
  assert.equal(await page.evaluate(() => window.crmLog.filter((m) => m.type === 'conversationLoaded').length), 0);
  assert.equal(await dials(widget), 1);
  await page.close();
});

test('a cross-origin iframe in the page posting bridge messages is dropped', async () => {
  const { page, widget } = await ready();
  const base = dropped(await dropStats(h), 'content:', 'wrongSource');
  await page.evaluate((src) => new Promise((resolve) => {
    const f = document.createElement('iframe');
    f.src = src;
    f.onload = resolve;
    document.body.append(f);
  }), `${h.server.origins.other}/other/hostile-frame.html`);
  const hostile = await waitFor(() => page.frames().find((f) => f.url().includes('hostile-frame.html')), 'hostile frame');
  // Post page-API requests to the top window, and stock dial strings to the top's frames
  // (the extension frame among them), from a third-party origin.
  await hostile.evaluate((dial) => {
    const req = { channel: 'ccaas-bridge', v: 1, kind: 'request', id: 'evil-1', type: 'clickToDial', data: { number: '+14255550199' } };
    window.top.postMessage(req, '*');
    window.top.postMessage(JSON.stringify(req), '*');
    for (let i = 0; i < window.top.frames.length; i++) {
      if (window.top.frames[i] !== window) window.top.frames[i].postMessage(dial, '*');
    }
  }, STOCK_DIAL);
  await droppedAtLeast('content:', 'wrongSource', base, 2);
  await sleep(300);
  assert.equal(await dials(widget), 1);
  assert.equal(await page.evaluate(() => window.crmLog.filter((m) => m.id === 'evil-1').length), 0, 'the hostile frame got no reply');
  await page.close();
});

test('malformed, oversized, polluting and wrong-version page messages are dropped and counted', async () => {
  const { page, widget } = await ready();
  const before = await dropStats(h);
  const count = (stats, reason) => dropped(stats, 'content:', reason);
  const replies = await page.evaluate(async () => {
    const got = [];
    const listener = (e) => { if (e.data && e.data.kind === 'reply') got.push(e.data); };
    window.addEventListener('message', listener);
    const post = (m) => window.postMessage(m, location.origin);
    post('{"channel":"ccaas-bridge", "v": 1, "kind": "request", broken');
    post({ channel: 'ccaas-bridge', v: 1, kind: 'request', id: 'big', type: 'clickToDial', data: { number: '+14255550100', pad: 'x'.repeat(70 * 1024) } });
    post(JSON.parse('{"channel":"ccaas-bridge","v":1,"kind":"request","id":"p1","type":"getStatus","__proto__":{"isAdmin":true}}'));
    post({ channel: 'ccaas-bridge', v: 1, kind: 'request', id: 'c1', type: 'clickToDial', data: { number: '+14255550100', constructor: { prototype: {} } } });
    post({ channel: 'ccaas-bridge', v: 2, kind: 'request', id: 'v2', type: 'clickToDial', data: { number: '+14255550100' } });
    post({ channel: 'ccaas-bridge', v: 1, kind: 'request', id: 'u1', type: 'formatDisk', data: {} });
    post({ channel: 'ccaas-bridge', v: 1, kind: 'request', id: 'n1', type: 'clickToDial', data: { number: 14255550100 } });
    post({ channel: 'ccaas-bridge', v: 1, kind: 'request', id: 'n2', type: 'clickToDial', data: { number: '<img src=x onerror=alert(1)>' } });
    post({ channel: 'ccaas-bridge', v: 1, kind: 'request', id: 'n3', type: 'clickToDial', data: { number: '+1 42' } });
    await new Promise((r) => setTimeout(r, 500));
    window.removeEventListener('message', listener);
    return got;
  });
  const after = await waitFor(async () => {
    const s = await dropStats(h);
    return count(s, 'badNumber') - count(before, 'badNumber') >= 2 && count(s, 'wrongShape') > count(before, 'wrongShape') ? s : null;
  }, 'drop counters', 5000);
  const delta = (reason) => count(after, reason) - count(before, reason);
  assert.equal(delta('notJson'), 1, 'broken JSON');
  assert.equal(delta('tooLarge'), 1, 'oversized');
  assert.equal(delta('forbiddenKey'), 2, '__proto__ and constructor');
  assert.equal(delta('unsupportedVersion'), 1, 'v2');
  assert.equal(delta('unknownType'), 1, 'unknown type');
  assert.equal(delta('badNumber'), 2, 'markup and a short number');
  assert.equal(delta('wrongShape'), 1, 'a number that is not a string');
  // Requests whose id could be read get an error reply; none got through.
  const byId = Object.fromEntries(replies.map((r) => [r.id, r]));
  for (const id of ['u1', 'n1', 'n2', 'n3']) assert.equal(byId[id]?.ok, false, `${id}: ${JSON.stringify(byId[id])}`);
  assert.equal(await dials(widget), 1);
  assert.equal(await page.evaluate(() => Object.prototype.isAdmin), undefined);
  await page.close();
});

test('malformed and polluting messages from the widget itself are dropped and counted', async () => {
  const { page, widget } = await ready();
  const before = await dropStats(h);
  await widget.evaluate(() => {
    const p = (m) => window.parent.postMessage(m, '*');
    p('not json at all');
    p({ channel: 'ccaas-driver', v: 1, kind: 'event', type: 'selfDestruct', data: {} });
    p(JSON.parse('{"liveWorkItemId":"w","sessionId":"s","conversationType":"Voice","__proto__":{"x":1}}'));
    p({ liveWorkItemId: 'w', sessionId: 's', conversationType: 'Voice', customerName: 'x'.repeat(70 * 1024) });
    p({ channel: 'ccaas-driver', v: 9, kind: 'event', type: 'holdChanged', data: {} });
  });
  const after = await waitFor(async () => {
    const s = await dropStats(h);
    const total = (x) => Object.entries(x).filter(([k]) => k.startsWith('panel:')).reduce((n, [, v]) => n + Object.values(v).reduce((a, b) => a + b, 0), 0);
    return total(s) - total(before) >= 5 ? s : null;
  }, 'panel drop counters', 5000);
  const delta = (reason) => dropped(after, 'panel:', reason) - dropped(before, 'panel:', reason);
  assert.equal(delta('notJson'), 1);
  assert.equal(delta('unknownType'), 1);
  assert.equal(delta('forbiddenKey'), 1);
  assert.equal(delta('tooLarge'), 1);
  assert.equal(delta('unsupportedVersion'), 1);
  await sleep(200);
  assert.equal(await page.evaluate(() => window.crmLog.filter((m) => m.kind === 'event' && m.type !== 'statusChanged').length), 0);
  await page.close();
});

test('an emulator served from another origin than the configured one is not trusted', async () => {
  const { page, widget } = await ready();
  const base = dropped(await dropStats(h), 'panel:', 'wrongOrigin');
  // The widget frame navigates itself to the same emulator on an origin nobody configured.
  const otherUrl = h.server.widgetUrl({}, 'other.localhost');
  await widget.evaluate((u) => { location.href = u; }, otherUrl);
  const impostor = await waitFor(async () => {
    const w = await widgetFrame(h, page).catch(() => null);
    const o = w && (await w.evaluate(() => location.origin).catch(() => null));
    return o === h.server.origins.other && w;
  }, 'impostor widget', 10000);
  await driverBound(impostor);
  await impostor.evaluate(() => window.__emu.loadConversation());
  await droppedAtLeast('panel:', 'wrongOrigin', base, 1);
  // Dials are not delivered to it (the bridge posts only to the configured origin) ...
  const reply = page.evaluate(() => window.crmDial('+14255550105', 8000).catch((e) => ({ timeout: String(e) })));
  await sleep(1000);
  assert.equal(await dials(impostor), 0);
  assert.equal(await page.evaluate(() => window.crmLog.filter((m) => m.type === 'conversationLoaded').length), 0);
  // ... and with no proof of life from the configured origin the panel says so.
  const panel = await panelFrame(h, page);
  await panel.waitForFunction(() => document.body.dataset.view === 'error', null, { timeout: 10000 });
  assert.ok(await reply);
  await page.close();
});
