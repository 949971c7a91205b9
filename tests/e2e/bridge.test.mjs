// Issue 3, the relay: click-to-dial from the page API reaches the emulator's SDK as
// clickToDial({number}) with the E.164 string; dials sent before the driver is ready arrive
// exactly once, in order, and a widget reload replays nothing; a conversation loaded in the
// widget reaches the page's listener; a new widget URL saved in the options is followed by an
// open tab at once, and only the new origin is trusted.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, configure, openCrm, widgetFrame, panelFrame, driverBound, waitFor, sleep, dropStats, dropped } from './harness.mjs';

let h;
before(async () => {
  h = await launch();
});
after(async () => h?.close());

const dials = (widget) => widget.evaluate(() => window.__emu.calls.filter((c) => c.method === 'clickToDial').map((c) => c.args[0].number));

test('a click-to-dial from the page API reaches the SDK as clickToDial({number}) in E.164', async () => {
  assert.match(await configure(h), /^Saved/);
  const { page } = await openCrm(h, 'permissive.html');
  const widget = await widgetFrame(h, page);
  await driverBound(widget);
  const reply = await page.evaluate(() => window.crmDial('+1 (425) 555-0100'));
  assert.equal(reply.kind, 'reply');
  assert.equal(reply.ok, true, JSON.stringify(reply));
  assert.deepEqual(reply.data, { delivered: true });
  // "Delivered" means posted to the widget, whose message task may still be queued.
  await waitFor(async () => (await dials(widget)).length === 1, 'the dial in the widget');
  assert.deepEqual(await dials(widget), ['+14255550100']);
  // What reached the widget is exactly the stock driver's wire format, from the extension frame.
  const received = await widget.evaluate(() => window.__emu.received.map((r) => ({ data: r.data, fromParent: r.fromParent, origin: r.origin })));
  assert.deepEqual(received.map((r) => r.data), ['{"messageType":"clickToDial","messageData":{"number":"+14255550100"}}']);
  assert.equal(received[0].fromParent, true);
  assert.equal(received[0].origin, `chrome-extension://${h.extId}`);
  // A number that is not one gets an error reply and never reaches the widget.
  const bad = await page.evaluate(() => window.crmDial('call me maybe'));
  assert.equal(bad.ok, false);
  assert.equal(bad.error.code, 'badNumber');
  assert.deepEqual(await dials(widget), ['+14255550100']);
  await page.close();
});

test('a request dispatched as a CustomEvent is handled inside the click; a Call button uses it; bad details are dropped', async () => {
  const { page } = await openCrm(h, 'permissive.html');
  const widget = await widgetFrame(h, page);
  await driverBound(widget);
  // The agent clicks a Call button of the CRM (its handler dispatches the event).
  await page.click('button.call[data-number]');
  const first = await page.$eval('button.call[data-number]', (b) => b.getAttribute('data-number'));
  await waitFor(async () => (await dials(widget)).length === 1, 'the Call button\'s dial');
  assert.deepEqual(await dials(widget), [first]);
  const reply = await page.evaluate(() => window.crmDialFast('+44 20 7946 0958'));
  assert.equal(reply.ok, true, JSON.stringify(reply));
  await waitFor(async () => (await dials(widget)).length === 2, 'the fast dial in the widget');
  assert.deepEqual((await dials(widget)).slice(-1), ['+442079460958']);
  // Bad details: not an envelope, malformed JSON, a polluting key, an unknown type.
  const before = dropped(await dropStats(h), 'content:', 'wrongShape') + dropped(await dropStats(h), 'content:', 'notJson');
  const replies = await page.evaluate(async () => {
    const got = [];
    const on = (e) => { if (e.data && e.data.kind === 'reply' && String(e.data.id).startsWith('ev-')) got.push(e.data); };
    window.addEventListener('message', on);
    for (const detail of [42, 'hello', '{"channel":"ccaas-bridge",', { channel: 'ccaas-bridge', v: 1, kind: 'request', id: 'ev-1', type: 'formatDisk', data: {} }]) {
      window.dispatchEvent(new CustomEvent('ccaas-bridge', { detail }));
    }
    await new Promise((r) => setTimeout(r, 500));
    window.removeEventListener('message', on);
    return got;
  });
  assert.equal(replies.length, 1, JSON.stringify(replies));
  assert.equal(replies[0].ok, false);
  await waitFor(async () => {
    const s = await dropStats(h);
    return dropped(s, 'content:', 'wrongShape') + dropped(s, 'content:', 'notJson') >= before + 3;
  }, 'the bad details counted');
  assert.equal((await dials(widget)).length, 2, 'nothing else dialled');
  await page.close();
});

test('dials sent before the driver is ready arrive exactly once, in order; a widget reload replays none', async () => {
  assert.match(await configure(h, { widgetUrl: h.server.widgetUrl({ driverDelay: 6000 }) }), /^Saved/);
  const { page } = await openCrm(h, 'permissive.html');
  const numbers = ['+14255550101', '+14255550102', '+442079460958'];
  // Fire all three at once, before the (delayed) driver has bound.
  const replies = page.evaluate((ns) => Promise.all(ns.map((n) => window.crmDial(n, 20000))), numbers);
  const widget = await widgetFrame(h, page);
  assert.equal(await widget.evaluate(() => window.__emu.driverBound), false, 'the driver bound too early for this test');
  const panel = await panelFrame(h, page);
  await panel.waitForFunction(() => /not started/.test(document.getElementById('driver').textContent));
  await driverBound(widget, 20000);
  const r = await replies;
  assert.ok(r.every((x) => x.ok), JSON.stringify(r));
  await waitFor(async () => (await dials(widget)).length === 3, 'three dials');
  await sleep(300);
  assert.deepEqual(await dials(widget), numbers);

  // Reload the widget: a new emulator instance, and nothing is delivered again.
  const first = await widget.evaluate(() => window.__emu.instanceId);
  await widget.evaluate(() => location.reload());
  const again = await waitFor(async () => {
    const w = await widgetFrame(h, page);
    const id = await w.evaluate(() => window.__emu.instanceId).catch(() => first);
    return id !== first && w;
  }, 'reloaded widget', 15000);
  await driverBound(again, 15000);
  await sleep(500);
  assert.deepEqual(await dials(again), []);
  // And the bridge still works after the reload.
  await page.evaluate(() => window.crmDial('+14255550103'));
  await waitFor(async () => (await dials(again)).length === 1, 'dial after reload');
  assert.deepEqual(await dials(again), ['+14255550103']);
  await page.close();
});

test('the queue is bounded: past 32 waiting dials the page is told, and the rest still arrive once', async () => {
  assert.match(await configure(h, { widgetUrl: h.server.widgetUrl({ driverDelay: 6000 }) }), /^Saved/);
  const { page } = await openCrm(h, 'permissive.html');
  const numbers = Array.from({ length: 34 }, (_, i) => `+1425555${String(1000 + i)}`);
  const replies = page.evaluate((ns) => Promise.all(ns.map((n) => window.crmDial(n, 20000))), numbers);
  const widget = await widgetFrame(h, page);
  assert.equal(await widget.evaluate(() => window.__emu.driverBound), false, 'the driver bound too early for this test');
  await driverBound(widget, 20000);
  const r = await replies;
  const refused = r.filter((x) => !x.ok);
  assert.equal(refused.length, 2, JSON.stringify(refused));
  assert.ok(refused.every((x) => x.error.code === 'queueFull' && /32/.test(x.error.message)));
  await waitFor(async () => (await dials(widget)).length === 32, '32 dials');
  await sleep(300);
  assert.deepEqual(await dials(widget), numbers.slice(0, 32));
  await page.close();
});

test('a conversation loaded in the widget reaches the page listener with the customer number', async () => {
  assert.match(await configure(h), /^Saved/);
  for (const file of ['permissive.html', 'strict.html']) {
    const { page } = await openCrm(h, file);
    const widget = await widgetFrame(h, page);
    await driverBound(widget);
    const sent = await widget.evaluate(() => window.__emu.loadConversation({ customerName: 'Zoë O\'Brien' }));
    await page.waitForFunction(() => window.crmLog.some((m) => m.type === 'conversationLoaded'));
    const ev = await page.evaluate(() => window.crmLog.find((m) => m.type === 'conversationLoaded'));
    assert.equal(ev.channel, 'ccaas-bridge');
    assert.equal(ev.v, 1);
    assert.equal(ev.kind, 'event');
    assert.equal(ev.data.customerPhoneNumber, '+14255550123');
    assert.equal(ev.data.customerName, 'Zoë O\'Brien');
    assert.equal(ev.data.liveWorkItemId, sent.liveWorkItemId);
    await page.close();
  }
});

test('events reach page listeners as messages from the page itself, and a listener may dial synchronously from inside one', async () => {
  assert.match(await configure(h), /^Saved/);
  const { page } = await openCrm(h, 'permissive.html');
  const widget = await widgetFrame(h, page);
  await driverBound(widget);
  // A page listener that answers a conversation with a dial through the synchronous form, from
  // inside the event's own dispatch: the bridge must not be busy delivering at that moment.
  await page.evaluate(() => {
    window.__seen = [];
    window.addEventListener('message', (e) => {
      const m = e.data;
      if (m?.channel !== 'ccaas-bridge' || m.kind === 'request') return;
      window.__seen.push({ kind: m.kind, type: m.type, id: m.id, source: e.source === window, origin: e.origin, objectData: typeof m === 'object' });
      if (m.kind === 'event' && m.type === 'conversationLoaded') {
        window.dispatchEvent(new CustomEvent('ccaas-bridge', { detail: { channel: 'ccaas-bridge', v: 1, kind: 'request',
          id: 'sync-1', type: 'clickToDial', data: { number: m.data.customerPhoneNumber } } }));
      }
    });
  });
  await widget.evaluate(() => window.__emu.loadConversation({ customerName: 'Ada' }));
  await waitFor(async () => (await dials(widget)).length === 1 || undefined, 'the dial made inside the listener', 10000);
  assert.deepEqual(await dials(widget), ['+14255550123']);
  await page.waitForFunction(() => window.__seen.some((s) => s.id === 'sync-1'));
  const seen = await page.evaluate(() => window.__seen);
  const origin = h.server.origins.crm;
  for (const s of seen) {
    assert.equal(s.source, true, JSON.stringify(s));
    assert.equal(s.origin, origin, JSON.stringify(s));
    assert.equal(s.objectData, true);
  }
  // In order: the event that caused the dial, then the dial's reply.
  const loaded = seen.findIndex((s) => s.type === 'conversationLoaded');
  const reply = seen.findIndex((s) => s.id === 'sync-1');
  assert.ok(loaded >= 0 && reply > loaded, JSON.stringify(seen));
  await page.close();
});

test('a widget URL saved in the options reaches an open tab without a reload, and only its origin is trusted', async () => {
  assert.match(await configure(h), /^Saved/);
  const { page, lines } = await openCrm(h, 'permissive.html');
  const oldWidget = await widgetFrame(h, page);
  await driverBound(oldWidget);
  const otherUrl = h.server.widgetUrl({}, 'other.localhost');
  assert.match(await configure(h, { widgetUrl: otherUrl }), /^Saved/);
  const widget = await waitFor(async () => {
    const w = await widgetFrame(h, page).catch(() => null);
    const origin = w && (await w.evaluate(() => location.origin).catch(() => null));
    return origin === h.server.origins.other && w;
  }, 'the new widget in the open tab', 15000);
  await driverBound(widget);
  const panel = await panelFrame(h, page);
  await panel.waitForFunction(() => document.body.dataset.driver === 'stock');
  assert.equal(lines.filter((l) => l.includes('content script started')).length, 1, 'the page was not reloaded');
  await page.evaluate(() => window.crmDial('+14255550104'));
  await waitFor(async () => (await dials(widget)).length === 1, 'dial to the new widget');
  await widget.evaluate(() => window.__emu.loadConversation());
  await page.waitForFunction(() => window.crmLog.some((m) => m.type === 'conversationLoaded'));
  await page.close();
  assert.match(await configure(h), /^Saved/);
});

test('requests the page makes while it still parses, before the bridge is up, are answered and the dial arrives once', async () => {
  assert.match(await configure(h), /^Saved/);
  const { page } = await openCrm(h, 'early.html');
  assert.equal(await page.evaluate(() => window.__readyStateAtRequest), 'loading');
  const widget = await widgetFrame(h, page);
  await driverBound(widget);
  const replies = await waitFor(async () => {
    const r = await page.evaluate(() => window.__replies);
    return r.length >= 2 && r;
  }, 'replies to both early requests', 15000);
  const byId = Object.fromEntries(replies.map((r) => [r.id, r]));
  assert.equal(byId['early-dial']?.ok, true, JSON.stringify(replies));
  assert.equal(byId['early-dial'].data.delivered, true);
  assert.equal(byId['early-status']?.ok, true, JSON.stringify(replies));
  assert.equal(typeof byId['early-status'].data.widget, 'string');
  await sleep(500);
  assert.deepEqual(await dials(widget), ['+14255550100']);
  assert.equal((await page.evaluate(() => window.__replies)).length, 2);
  await page.close();
});
