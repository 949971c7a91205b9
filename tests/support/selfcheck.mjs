// Self-check of the test infrastructure (fixture server, CRM fixtures, CCaaS widget emulator and
// its stock driver) with no extension involved. Plain node script; exits non-zero on failure.
//   PLAYWRIGHT_CORE=/path/to/node_modules/playwright-core node tests/support/selfcheck.mjs
// Env: PLAYWRIGHT_CORE (module name or path, default 'playwright-core'),
//      CHROMIUM (default /usr/bin/chromium), SELFCHECK_SHOTS (a directory: save screenshots there).
import assert from 'node:assert/strict';
import http from 'node:http';
import path from 'node:path';
import fs from 'node:fs/promises';
import { createRequire } from 'node:module';
import { startServer } from './server.mjs';

const require = createRequire(import.meta.url);
const { chromium } = require(process.env.PLAYWRIGHT_CORE || 'playwright-core');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const SHOTS = process.env.SELFCHECK_SHOTS || '';

const STOCK_DIAL = JSON.stringify({ messageType: 'clickToDial', messageData: { number: '+14255550100' } });
const DND_ID = '2c1a4d5b-c07a-e811-8162-000d3aa11f50';

let passed = 0;
let failed = 0;
async function check(name, fn) {
  try {
    await fn();
    passed += 1;
    console.log(`ok - ${name}`);
  } catch (err) {
    failed += 1;
    console.log(`not ok - ${name}`);
    console.log(String((err && err.stack) || err).replace(/^/gm, '    '));
  }
}

// One raw HTTP request to the server with a chosen Host header and an unnormalised path.
// Resolves {status, headers, body} or {timedOut: true}.
function raw(port, host, pathAndQuery, { method = 'GET', timeoutMs = 3000 } = {}) {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: '127.0.0.1', port, path: pathAndQuery, method, headers: { Host: `${host}:${port}` }, agent: false },
      (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks).toString() }));
      }
    );
    req.setTimeout(timeoutMs, () => {
      req.destroy();
      resolve({ timedOut: true });
    });
    req.on('error', (err) => (err.code === 'ECONNRESET' ? resolve({ timedOut: true }) : reject(err)));
    req.end();
  });
}

// Injects an iframe into `page` (from the test, as the extension would) and resolves its Frame
// once the iframe fires `load`.
async function injectFrame(page, url, { id = 'ccaas-widget', width = 360, height = 640 } = {}) {
  const handle = await page.evaluateHandle(
    ({ url, id, width, height }) =>
      new Promise((resolve) => {
        const f = document.createElement('iframe');
        f.id = id;
        f.src = url;
        f.allow = 'microphone *; fullscreen; encrypted-media';
        f.style.cssText = `position:fixed;top:48px;right:0;width:${width}px;height:${height}px;border:0;border-left:1px solid #ccc;background:#fff`;
        f.addEventListener('load', () => resolve(f), { once: true });
        document.body.appendChild(f);
      }),
    { url, id, width, height }
  );
  return handle.asElement().contentFrame();
}

async function widgetReady(frame) {
  await frame.waitForFunction(() => window.__emu && window.__emu.driverBound === true, null, { timeout: 5000 });
}

// Posts `data` from the CRM page to the iframe #id with target origin '*'.
async function postToFrame(page, id, data) {
  await page.evaluate(({ id, data }) => document.getElementById(id).contentWindow.postMessage(data, '*'), { id, data });
}

async function main() {
  const server = await startServer();
  const { port, origins } = server;
  const widget = (params) => server.widgetUrl(params);
  console.log(`# server on ${JSON.stringify(origins)}`);

  // ---------------------------------------------------------------- HTTP level
  await check('strict.html carries its CSP header from strict.html.headers.json', async () => {
    const r = await raw(port, 'crm.localhost', '/strict.html');
    assert.equal(r.status, 200);
    assert.equal(r.headers['content-security-policy'], "script-src 'self'; frame-src 'self'");
    assert.equal(r.headers['cache-control'], 'no-store');
    assert.match(r.headers['content-type'], /^text\/html/);
  });

  await check('permissive.html has no CSP; ?xfo=deny adds X-Frame-Options and frame-ancestors', async () => {
    const plain = await raw(port, 'crm.localhost', '/permissive.html');
    assert.equal(plain.status, 200);
    assert.equal(plain.headers['content-security-policy'], undefined);
    const r = await raw(port, 'ccaas.localhost', '/widget/index.html?xfo=deny');
    assert.equal(r.headers['x-frame-options'], 'DENY');
    assert.equal(r.headers['content-security-policy'], "frame-ancestors 'none'");
  });

  await check('?csp= presets, unknown preset is 400', async () => {
    const strict = await raw(port, 'crm.localhost', '/permissive.html?csp=strict');
    assert.equal(strict.headers['content-security-policy'], "script-src 'self'; frame-src 'self'");
    const nowasm = await raw(port, 'ccaas.localhost', '/widget/index.html?csp=nowasm');
    assert.equal(nowasm.headers['content-security-policy'], "script-src 'self'");
    assert.equal((await raw(port, 'ccaas.localhost', '/widget/index.html?csp=bogus')).status, 400);
    // Switches only apply to HTML.
    const js = await raw(port, 'ccaas.localhost', '/widget/emulator.js?csp=bogus');
    assert.equal(js.status, 200);
  });

  await check('content types, HEAD, sidecars hidden, traversal refused, unknown host', async () => {
    const types = {
      '/widget/emulator.js': /^text\/javascript/,
      '/widget/emulator.css': /^text\/css/,
      '/widget/index.html': /^text\/html/,
    };
    for (const [p, re] of Object.entries(types)) {
      assert.match((await raw(port, 'ccaas.localhost', p)).headers['content-type'], re, p);
    }
    const get = await raw(port, 'crm.localhost', '/crm-app.js');
    const head = await raw(port, 'crm.localhost', '/crm-app.js', { method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.equal(head.body, '');
    assert.equal(Number(head.headers['content-length']), Buffer.byteLength(get.body));
    assert.equal((await raw(port, 'crm.localhost', '/strict.html.headers.json')).status, 404);
    assert.equal((await raw(port, 'crm.localhost', '/../support/server.mjs')).status, 403);
    assert.equal((await raw(port, 'crm.localhost', '/..%2fsupport/server.mjs')).status, 403);
    assert.equal((await raw(port, 'crm.localhost', '/%2e%2e/support/server.mjs')).status, 403);
    assert.equal((await raw(port, 'evil.localhost', '/permissive.html')).status, 404);
    assert.equal((await raw(port, 'crm.localhost', '/widget/index.html')).status, 404, 'emulator is not on the CRM host');
    assert.equal((await raw(port, 'other.localhost', '/other/hostile-frame.html')).status, 200);
    assert.equal((await raw(port, 'other.localhost', '/widget/index.html')).status, 200);
    assert.equal((await raw(port, 'ccaas.localhost', '/other/hostile-frame.html')).status, 404);
  });

  await check('/__dead accepts and never answers (HTTP)', async () => {
    const t0 = Date.now();
    const r = await raw(port, 'ccaas.localhost', '/__dead', { timeoutMs: 1200 });
    assert.equal(r.timedOut, true);
    assert.ok(Date.now() - t0 >= 1100);
  });

  // ---------------------------------------------------------------- browser level
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
  const context = await browser.newContext({ viewport: { width: 1280, height: 720 } });
  const pageErrors = [];
  context.on('weberror', (e) => pageErrors.push(String(e.error())));

  try {
    await check('stock driver: JSON-string clickToDial from the CRM page reaches ctiDriver.clickToDial', async () => {
      const page = await context.newPage();
      await page.goto(`${origins.crm}/permissive.html`);
      const frame = await injectFrame(page, widget());
      await widgetReady(frame);
      assert.equal(await frame.evaluate(() => window.__emu.driverState), 'bound');
      await postToFrame(page, 'ccaas-widget', STOCK_DIAL);
      await frame.waitForFunction(() => window.__emu.calls.some((c) => c.method === 'clickToDial'), null, { timeout: 3000 });
      const calls = await frame.evaluate(() => window.__emu.calls.filter((c) => c.method === 'clickToDial'));
      assert.equal(calls.length, 1);
      assert.equal(calls[0].module, 'ctiDriver');
      assert.deepEqual(calls[0].args, [{ number: '+14255550100' }]);
      assert.equal(typeof calls[0].at, 'number');
      assert.equal(calls[0].error, undefined);
      const received = await frame.evaluate(() => window.__emu.received);
      assert.deepEqual(received, [{ origin: origins.crm, data: STOCK_DIAL, fromParent: true }]);
      assert.equal(await frame.evaluate(() => window.__emu.dialed), '+14255550100');
      assert.equal(await frame.textContent('#dial-display'), '+14255550100');
      await page.close();
    });

    await check('stock driver: loadConversation() posts the untagged payload to the parent, then sets DND', async () => {
      const page = await context.newPage();
      await page.goto(`${origins.crm}/permissive.html`);
      await page.evaluate(() => {
        window.__got = [];
        window.addEventListener('message', (e) => {
          const w = document.getElementById('ccaas-widget');
          window.__got.push({ origin: e.origin, data: e.data, fromWidget: !!w && e.source === w.contentWindow });
        });
      });
      const frame = await injectFrame(page, widget());
      await widgetReady(frame);
      const payload = await frame.evaluate(() => window.__emu.loadConversation());
      assert.deepEqual(Object.keys(payload).sort(), ['conversationType', 'createdTimeStamp', 'customerName', 'customerPhoneNumber', 'liveWorkItemId', 'sessionId']);
      assert.equal(payload.conversationType, 'Voice');
      assert.equal(payload.customerName, 'Maria Garcia');
      assert.equal(payload.customerPhoneNumber, '+14255550123');
      await page.waitForFunction(() => window.__got.length > 0, null, { timeout: 3000 });
      const got = await page.evaluate(() => window.__got);
      assert.equal(got.length, 1, 'exactly one message leaves the widget');
      assert.deepEqual(got[0], { origin: origins.widget, data: payload, fromWidget: true });
      assert.equal(got[0].data.channel, undefined, 'untagged');
      await frame.waitForFunction(() => window.__emu.presence.basePresenceStatus === 'BUSY_DO_NOT_DISTURB', null, { timeout: 3000 });
      const methods = await frame.evaluate(() => window.__emu.calls.map((c) => c.module + '.' + c.method));
      for (const m of ['presence.getPresence', 'presence.getPresenceOptions', 'presence.setPresence', 'conversation.getFocusedConversationId']) {
        assert.ok(methods.includes(m), `${m} called; got ${methods}`);
      }
      const set = await frame.evaluate(() => window.__emu.calls.find((c) => c.method === 'setPresence'));
      assert.deepEqual(set.args, [DND_ID]);
      // Overrides, including removing the optional phone number.
      const p2 = await frame.evaluate(() => window.__emu.loadConversation({ customerName: 'Kenji Tanaka', customerPhoneNumber: undefined, liveWorkStreamId: 'ws-1' }));
      assert.equal(p2.customerName, 'Kenji Tanaka');
      assert.equal('customerPhoneNumber' in p2, false);
      assert.equal(p2.liveWorkStreamId, 'ws-1');
      await page.waitForFunction(() => window.__got.length === 2, null, { timeout: 3000 });
      // Presence/hold/mute/panel events do not leave the widget with the stock driver.
      await frame.evaluate(() => {
        window.__emu.raise('voiceOrVideoCalling.onHoldChange', { liveWorkItemId: 'x', isAgentOnHold: true });
        window.__emu.raise('voiceOrVideoCalling.onMuteChange', { liveWorkItemId: 'x', isAgentMuted: true });
      });
      await page.waitForTimeout(200);
      assert.equal(await page.evaluate(() => window.__got.length), 2);
      if (SHOTS) {
        await frame.evaluate(() => window.__emu.loadConversation());
        await postToFrame(page, 'ccaas-widget', STOCK_DIAL);
        await page.waitForTimeout(150);
        await fs.mkdir(SHOTS, { recursive: true });
        await page.screenshot({ path: path.join(SHOTS, 'permissive-with-emulator.png') });
      }
      await page.close();
    });

    await check('stock driver: non-JSON messages and bad numbers throw inside the widget (as the sample does)', async () => {
      const page = await context.newPage();
      await page.goto(`${origins.crm}/permissive.html`);
      const frame = await injectFrame(page, widget());
      await widgetReady(frame);
      await postToFrame(page, 'ccaas-widget', { channel: 'ccaas-bridge', kind: 'request' });
      await postToFrame(page, 'ccaas-widget', JSON.stringify({ messageType: 'clickToDial', messageData: { number: '+1 425 555 0100' } }));
      await frame.waitForFunction(() => window.__emu.received.length === 2 && window.__emu.errors.length === 2, null, { timeout: 3000 });
      const errors = await frame.evaluate(() => window.__emu.errors);
      assert.equal(errors[0].source, 'window');
      assert.match(errors[0].message, /JSON|Unexpected token|not valid/i);
      assert.match(errors[1].message, /malformed number/);
      const calls = await frame.evaluate(() => window.__emu.calls);
      assert.equal(calls.length, 1);
      assert.deepEqual(calls[0].args, [{ number: '+1 425 555 0100' }]);
      assert.match(calls[0].error, /malformed/);
      await frame.evaluate(() => window.__emu.clear());
      assert.deepEqual(await frame.evaluate(() => [window.__emu.calls.length, window.__emu.received.length, window.__emu.errors.length]), [0, 0, 0]);
      await page.close();
    });

    await check('Embed SDK surface and __emu controls', async () => {
      const page = await context.newPage();
      await page.goto(widget({ driver: 'none' }));
      const r = await page.evaluate(async () => {
        const sdk = window.Microsoft.CCaaS.EmbedSDK;
        const emu = window.__emu;
        const out = {};
        const dial = sdk.ctiDriver.clickToDial; // unbound on purpose
        out.dial = [];
        for (const arg of [{ number: '+14255550100' }, { number: '4255550100' }, { number: '+1 425 555 0100' }, { number: '425-555-0100' },
                           { number: 14255550100 }, {}, undefined, { number: '+123456' }, { number: '+1234567890123456' }]) {
          try { dial(arg); out.dial.push('ok'); } catch (e) { out.dial.push('throw'); }
        }
        out.options = await sdk.presence.getPresenceOptions();
        out.presence0 = await sdk.presence.getPresence();
        const seen = [];
        sdk.presence.onPresenceChange((p) => seen.push(p.basePresenceStatus));
        await sdk.presence.setPresence(out.options.find((o) => o.basePresenceStatus === 'AWAY').presenceId);
        out.seen = seen;
        try { await sdk.presence.setPresence('nope'); out.badPresence = 'resolved'; } catch (e) { out.badPresence = 'rejected'; }
        out.focused0 = await sdk.conversation.getFocusedConversationId();
        const conv = emu.loadConversation();
        out.focused1 = (await sdk.conversation.getFocusedConversationId()) === conv.liveWorkItemId;
        out.assigned = await sdk.conversation.getAssignedConversationsList(2);
        out.convData = await sdk.conversation.getConversationData(conv.liveWorkItemId, ['msdyn_ocliveworkitemid', 'statuscode', 'nonsense']);
        out.transcript = (await sdk.conversation.getTranscript(conv.liveWorkItemId)).length;
        out.contacts = (await sdk.dataverse.retrieveMultipleRecords('contacts', '?$select=fullname')).entities.map((c) => c.fullname);
        out.contact = (await sdk.dataverse.retrieveRecord('contact', '5b1d7c6e-3a2f-4e8b-9c1d-000000000002')).fullname;
        out.notificationId = typeof (await sdk.notification.addNewNotification({ level: 4, message: 'hi' }));
        try { emu.raise('conversation.onNope', {}); out.badRaise = 'ok'; } catch (e) { out.badRaise = 'throw'; }
        out.raisedHold = emu.raise('voiceOrVideoCalling.onHoldChange', { liveWorkItemId: conv.liveWorkItemId, isAgentOnHold: true });
        out.modules = Object.keys(sdk).sort();
        out.state = [emu.driverState, emu.driverBound];
        out.instanceId = emu.instanceId;
        out.methods = emu.calls.map((c) => c.module + '.' + c.method);
        return out;
      });
      assert.deepEqual(r.dial, ['ok', 'ok', 'throw', 'throw', 'throw', 'throw', 'throw', 'throw', 'throw']);
      assert.equal(r.options.length, 5);
      assert.deepEqual(r.options.map((o) => o.basePresenceStatus), ['AVAILABLE', 'BUSY', 'BUSY_DO_NOT_DISTURB', 'AWAY', 'OFFLINE']);
      for (const o of r.options) {
        assert.deepEqual(Object.keys(o).sort(), ['basePresenceStatus', 'canUserSet', 'presenceColor', 'presenceId', 'presenceName', 'presenceText']);
        assert.match(o.presenceId, /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
        assert.equal(o.canUserSet, true);
      }
      assert.equal(r.options[2].presenceId, DND_ID);
      assert.equal(r.presence0.basePresenceStatus, 'AVAILABLE');
      assert.deepEqual(r.seen, ['AWAY']);
      assert.equal(r.badPresence, 'rejected');
      assert.equal(r.focused0, '');
      assert.equal(r.focused1, true);
      assert.equal(r.assigned.length, 1);
      assert.deepEqual(Object.keys(r.convData).sort(), ['msdyn_ocliveworkitemid', 'statuscode']);
      assert.equal(r.transcript, 2);
      assert.deepEqual(r.contacts, ['Maria Garcia', 'Kenji Tanaka', 'Aisha Khan']);
      assert.equal(r.contact, 'Kenji Tanaka');
      assert.equal(r.notificationId, 'string');
      assert.equal(r.badRaise, 'throw');
      assert.equal(r.raisedHold, 0, 'no driver, so nobody listens');
      assert.deepEqual(r.modules, ['conversation', 'ctiDriver', 'dataverse', 'notification', 'presence', 'voiceOrVideoCalling']);
      assert.deepEqual(r.state, ['none', false]);
      assert.match(r.instanceId, /^[0-9a-f]{16}$/);
      assert.ok(!r.methods.some((m) => m.includes('.on')), 'on* registrations are not recorded');
      await page.close();
    });

    await check('driver=none: the widget is alive but nothing listens', async () => {
      const page = await context.newPage();
      await page.goto(`${origins.crm}/permissive.html`);
      const frame = await injectFrame(page, widget({ driver: 'none' }));
      await frame.waitForFunction(() => window.__emu && window.__emu.driverState === 'none', null, { timeout: 3000 });
      await postToFrame(page, 'ccaas-widget', STOCK_DIAL);
      await frame.waitForFunction(() => window.__emu.received.length === 1, null, { timeout: 3000 });
      await page.waitForTimeout(100);
      assert.deepEqual(await frame.evaluate(() => [window.__emu.calls.length, window.__emu.driverBound]), [0, false]);
      assert.equal(await frame.textContent('#driver-status'), 'Driver: none');
      await page.close();
    });

    await check('driverDelay: messages before the driver is bound are lost, later ones work', async () => {
      const page = await context.newPage();
      await page.goto(`${origins.crm}/permissive.html`);
      const frame = await injectFrame(page, widget({ driverDelay: 700 }));
      assert.equal(await frame.evaluate(() => window.__emu.driverState), 'waiting');
      await postToFrame(page, 'ccaas-widget', STOCK_DIAL);
      await frame.waitForFunction(() => window.__emu.received.length === 1, null, { timeout: 3000 });
      assert.equal(await frame.evaluate(() => window.__emu.driverBound), false);
      await widgetReady(frame);
      assert.equal(await frame.evaluate(() => window.__emu.calls.length), 0);
      await postToFrame(page, 'ccaas-widget', STOCK_DIAL);
      await frame.waitForFunction(() => window.__emu.calls.length === 1, null, { timeout: 3000 });
      await page.close();
    });

    await check('driverUrl: same-origin path loads, cross-origin is refused; ?csp=nowasm still binds', async () => {
      const page = await context.newPage();
      await page.goto(`${origins.crm}/permissive.html`);
      const a = await injectFrame(page, widget({ driverUrl: '/widget/drivers/stock.js', csp: 'nowasm' }), { id: 'a' });
      await widgetReady(a);
      const b = await injectFrame(page, widget({ driverUrl: `${origins.other}/widget/drivers/stock.js` }), { id: 'b' });
      await b.waitForFunction(() => window.__emu.driverState === 'error', null, { timeout: 3000 });
      assert.match(await b.evaluate(() => window.__emu.driverError), /same-origin/);
      const c = await injectFrame(page, widget({ driverUrl: '/widget/drivers/missing.js' }), { id: 'c' });
      await c.waitForFunction(() => window.__emu.driverState === 'error', null, { timeout: 3000 });
      await page.close();
    });

    await check('?xfo=deny: the widget frame is blocked (and still fires load)', async () => {
      const page = await context.newPage();
      await page.goto(`${origins.crm}/permissive.html`);
      const frame = await injectFrame(page, widget({ xfo: 'deny' }));
      // Blocked framing still fires `load`: the frame ends on an error page without the emulator.
      await page.waitForTimeout(300);
      assert.ok(!frame.url().startsWith(origins.widget), `frame url is ${frame.url()}`);
      const emu = await frame.evaluate(() => typeof window.__emu).catch(() => 'unreachable');
      assert.notEqual(emu, 'object');
      await page.close();
    });

    await check('/__dead: a framed dead widget never loads', async () => {
      const page = await context.newPage();
      await page.goto(`${origins.crm}/permissive.html`);
      await page.evaluate((url) => {
        window.__deadLoaded = false;
        const f = document.createElement('iframe');
        f.id = 'dead';
        f.src = url;
        f.addEventListener('load', () => { window.__deadLoaded = true; });
        document.body.appendChild(f);
      }, `${origins.widget}/__dead`);
      await page.waitForTimeout(1500);
      assert.equal(await page.evaluate(() => window.__deadLoaded), false);
      await page.close();
    });

    await check('CRM pages: strict.html runs crm-app.js under its CSP, forbids the widget frame; bridge log', async () => {
      const page = await context.newPage();
      const resp = await page.goto(`${origins.crm}/strict.html`);
      assert.equal(resp.headers()['content-security-policy'], "script-src 'self'; frame-src 'self'");
      assert.equal(await page.evaluate(() => Array.isArray(window.crmLog)), true);
      await page.evaluate(() => {
        const base = { channel: 'ccaas-bridge', v: 1 };
        window.postMessage({ ...base, kind: 'request', id: 'x', type: 'clickToDial', data: { number: '+14255550100' } }, location.origin);
        window.postMessage({ ...base, kind: 'event', type: 'conversationLoaded', data: { liveWorkItemId: 'L1' } }, location.origin);
        window.postMessage({ channel: 'other', kind: 'event' }, location.origin);
        window.postMessage('{"messageType":"clickToDial"}', location.origin);
      });
      await page.waitForFunction(() => window.crmLog.length === 1, null, { timeout: 3000 });
      await page.waitForTimeout(100);
      assert.equal(await page.evaluate(() => window.crmLog.length), 1);
      assert.equal(await page.locator('#events li').count(), 1);
      assert.deepEqual(JSON.parse(await page.locator('#events li').first().textContent()),
        { channel: 'ccaas-bridge', v: 1, kind: 'event', type: 'conversationLoaded', data: { liveWorkItemId: 'L1' } });
      // A Call click with no bridge around: the request goes out and the row says so.
      const out = await page.evaluate(() => window.crmDial('+14255550100', 300).then(() => 'reply', (e) => e.message));
      assert.match(out, /no reply/);
      // frame-src 'self' blocks the cross-origin widget frame.
      const frame = await injectFrame(page, widget());
      await page.waitForTimeout(200);
      assert.ok(!frame.url().startsWith(origins.widget), `frame url is ${frame.url()}`);
      await page.close();
    });

    await check('CRM page: a reply to a page request resolves crmDial and updates the row', async () => {
      const page = await context.newPage();
      await page.goto(`${origins.crm}/permissive.html`);
      // A fake bridge that answers every request.
      await page.evaluate(() => {
        window.addEventListener('message', (e) => {
          const d = e.data;
          if (d && d.channel === 'ccaas-bridge' && d.kind === 'request') {
            window.postMessage({ channel: 'ccaas-bridge', v: 1, kind: 'reply', id: d.id, ok: true, data: {} }, location.origin);
          }
        });
      });
      await page.click('tr[data-contact="kenji"] button.call');
      await page.waitForFunction(() => document.querySelector('tr[data-contact="kenji"] .status').textContent === 'Sent to softphone', null, { timeout: 3000 });
      const log = await page.evaluate(() => window.crmLog);
      assert.equal(log.length, 1);
      assert.equal(log[0].kind, 'reply');
      assert.equal(log[0].ok, true);
      await page.close();
    });

    await check('hostile frame reaches the stock widget (the hole the bridge must close)', async () => {
      const page = await context.newPage();
      await page.goto(`${origins.crm}/permissive.html`);
      const frame = await injectFrame(page, widget());
      await widgetReady(frame);
      const hostile = await injectFrame(page, `${origins.other}/other/hostile-frame.html`, { id: 'ad', width: 300, height: 120 });
      await hostile.waitForFunction(() => window.__hostile && window.__hostile.attacks === 1, null, { timeout: 3000 });
      const sent = await hostile.evaluate(() => window.__hostile.sent.map((s) => s.target + ':' + s.kind));
      assert.ok(sent.includes('top:stock') && sent.includes('top:page-api'), sent.join());
      assert.ok(sent.includes('top.frames[0]:stock'), sent.join());
      await frame.waitForFunction(() => window.__emu.calls.some((c) => c.method === 'clickToDial')
        && window.__emu.received.length === 2, null, { timeout: 3000 });
      const r = await frame.evaluate(() => ({
        fromOther: window.__emu.received.filter((m) => m.origin === window.location.origin.replace('ccaas.', 'other.')).length,
        dialed: window.__emu.dialed,
      }));
      assert.equal(r.dialed, '+14255550199');
      assert.equal(r.fromOther, 2);
      assert.equal(await hostile.evaluate(() => window.attack()), 6, 'top + 2 frames, 2 messages each');
      await page.close();
    });

    await check('the emulator is also served from the non-configured origin other.localhost', async () => {
      const page = await context.newPage();
      await page.goto(`${origins.crm}/permissive.html`);
      const frame = await injectFrame(page, server.widgetUrl({}, 'other.localhost'));
      await widgetReady(frame);
      assert.equal(await frame.evaluate(() => location.origin), origins.other);
      await page.close();
    });

    if (SHOTS) {
      const page = await context.newPage();
      await page.setViewportSize({ width: 360, height: 640 });
      await page.goto(widget());
      await page.waitForFunction(() => window.__emu.driverBound);
      await page.evaluate(() => {
        window.__emu.loadConversation();
        window.postMessage(JSON.stringify({ messageType: 'clickToDial', messageData: { number: '+14255550100' } }), '*');
      });
      await page.waitForTimeout(200);
      await page.screenshot({ path: path.join(SHOTS, 'emulator.png') });
      await page.close();
    }

    await check('no uncaught errors on the CRM pages themselves', async () => {
      // The widget's own throws (stock driver) are expected and are recorded by __emu instead.
      const crmErrors = pageErrors.filter((e) => !/JSON|malformed|Method not implemented/.test(e));
      assert.deepEqual(crmErrors, []);
    });
  } finally {
    await context.close().catch(() => {});
    await browser.close().catch(() => {});
  }

  await check('close() returns promptly with a /__dead request still open', async () => {
    const pending = raw(port, 'ccaas.localhost', '/__dead', { timeoutMs: 10000 });
    await new Promise((r) => setTimeout(r, 100));
    const t0 = Date.now();
    await server.close();
    assert.ok(Date.now() - t0 < 1000, `close took ${Date.now() - t0} ms`);
    assert.equal((await pending).timedOut, true);
  });

  console.log(`${passed} passed, ${failed} failed`);
  process.exitCode = failed ? 1 : 0;
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
