// The background worker is stopped by Chrome when idle. Nothing may be lost: dials sent around
// a stop are delivered exactly once, in order, after the ports reconnect and wake the worker.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, configure, openCrm, openOptions, widgetFrame, driverBound, stopWorker, waitFor, sleep } from './harness.mjs';

let h;
before(async () => {
  h = await launch();
  assert.match(await configure(h), /^Saved/);
});
after(async () => h?.close());

const dials = (widget) => widget.evaluate(() => window.__emu.calls.filter((c) => c.method === 'clickToDial').map((c) => c.args[0].number));

test('dials around a worker stop are delivered exactly once, in order', async () => {
  const { page } = await openCrm(h, 'permissive.html');
  const widget = await widgetFrame(h, page);
  await driverBound(widget);
  await page.evaluate(() => window.crmDial('+14255550110'));

  // Stop the extension's service worker the way Chrome does when it is idle.
  const options = await openOptions(h);
  const cdp = await h.context.newCDPSession(options);
  const statuses = [];
  cdp.on('ServiceWorker.workerVersionUpdated', (e) => e.versions.forEach((v) => statuses.push(v.runningStatus)));
  await cdp.send('ServiceWorker.enable');
  await cdp.send('ServiceWorker.stopAllWorkers');
  // Dial at once, while the worker is down and the ports are reconnecting.
  const replies = await page.evaluate(() => Promise.all(['+14255550111', '+14255550112', '+14255550113'].map((n) => window.crmDial(n, 15000))));
  assert.ok(replies.every((r) => r.ok), JSON.stringify(replies));
  await waitFor(() => statuses.includes('stopped') && statuses.at(-1) === 'running', 'the worker stopped and ran again', 15000);
  await sleep(500);
  assert.deepEqual(await dials(widget), ['+14255550110', '+14255550111', '+14255550112', '+14255550113']);
  await options.close();
  await page.close();
});

// The ports that reconnect after a stop wake the worker, and their first messages (the content
// script's Hello, the panel's introduction) arrive before the wasm is ready. They must be
// answered then, not lost and noticed only by the 1 s watchdog; and the stop must not print an
// error in the CRM page's console.
test('ports that wake the worker are answered at once, with no error in the page console', async () => {
  const { page, lines } = await openCrm(h, 'permissive.html');
  const widget = await widgetFrame(h, page);
  await driverBound(widget);
  // And the panel knows it: the probe's report goes through the worker, and a stop while it is
  // on its way loses it (the dial would then wait for the liveness timeout).
  await waitFor(async () => (await page.evaluate(() => window.crmRequest('getStatus'))).data?.widget === 'ready', 'the panel knows the driver is ready');
  const before = (await dials(widget)).length;
  const from = lines.length;
  await stopWorker(h, page);
  const reply = await page.evaluate(() => window.crmDial('+14255550120', 15000));
  assert.ok(reply.ok, JSON.stringify(reply));
  await sleep(1500); // past the watchdog's 1 s, had it been left waiting
  const after = lines.slice(from);
  assert.ok(after.some((l) => l.includes('port to the background worker closed')), after.join('\n'));
  assert.deepEqual(after.filter((l) => /no answer on the (panel )?port|runtime\.lastError/.test(l)), []);
  assert.deepEqual((await dials(widget)).slice(before), ['+14255550120']);
  await page.close();
});
