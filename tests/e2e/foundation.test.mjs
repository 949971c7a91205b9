// Issue 2: the Rust content script starts on a permissive and on a strict-CSP CRM page (wasm,
// or the wasm2js route where the page's CSP forbids compiling wasm), the Rust worker answers it,
// and the extension pages run Rust too.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, configure, openCrm, waitFor } from './harness.mjs';

let h;
before(async () => {
  h = await launch();
  assert.match(await configure(h), /^Saved/);
});
after(async () => h?.close());

test('the content script starts through compiled wasm on a permissive page', async () => {
  const { page, lines } = await openCrm(h, 'permissive.html');
  assert.ok(lines.some((l) => l === '[ccaas-bridge] content script started (route: wasm)'), lines.join('\n'));
  await waitFor(() => lines.some((l) => l.startsWith('[ccaas-bridge] background worker answered')), 'worker answer');
  await page.close();
});

test('the content script starts through wasm2js on a page whose CSP forbids wasm', async () => {
  const { page, lines } = await openCrm(h, 'strict.html');
  const started = lines.filter((l) => l.includes('content script started'));
  assert.deepEqual(started, ['[ccaas-bridge] content script started (route: wasm2js)']);
  // The page's own CSP really refuses wasm here (so the fallback was needed, not chosen at random).
  const pageCanCompile = await page.evaluate(() => {
    try { new WebAssembly.Module(new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0])); return true; } catch { return false; }
  }).catch(() => false);
  assert.equal(pageCanCompile, false);
  await waitFor(() => lines.some((l) => l.startsWith('[ccaas-bridge] background worker answered')), 'worker answer');
  await page.close();
});

test('the background worker runs Rust and answers one-shot messages', async () => {
  // The worker is the Rust module's: its start() logged from Rust, and it answers a ping.
  assert.ok(await h.worker.evaluate(() => typeof globalThis.registration === 'object'));
  const page = await h.context.newPage();
  await page.goto(h.extUrl('popup.html'));
  const pong = await page.evaluate(() => chrome.runtime.sendMessage(JSON.stringify({ t: 'ping' })));
  assert.match(pong, /^pong \d+\.\d+\.\d+$/);
  // Garbage gets no answer and does not kill the worker.
  assert.equal(await page.evaluate(() => chrome.runtime.sendMessage('{"t":"ping"')), null);
  assert.equal(await page.evaluate(() => chrome.runtime.sendMessage({ not: 'text' })), null);
  assert.match(await page.evaluate(() => chrome.runtime.sendMessage(JSON.stringify({ t: 'ping' }))), /^pong/);
  await page.close();
});

test('the extension pages run their Rust module', async () => {
  const page = await h.context.newPage();
  await page.goto(h.extUrl('popup.html'));
  await page.waitForFunction(() => document.getElementById('site-status').textContent !== '…');
  assert.match(await page.locator('#site-status').textContent(), /enabled|Not enabled|cannot run|Not configured/);
  await page.close();
});

test('a site that is not configured gets no content script', async () => {
  const page = await h.context.newPage();
  const lines = [];
  page.on('console', (m) => lines.push(m.text()));
  await page.goto(`${h.server.origins.other}/other/hostile-frame.html`);
  await new Promise((r) => setTimeout(r, 1000));
  assert.equal(lines.filter((l) => l.includes('content script started')).length, 0);
  assert.equal(await page.locator('ccaas-softphone').count(), 0);
  await page.close();
});

test('the CRM content script runs from document_start, and starts the bridge once the DOM is there', async () => {
  // Registered at document_start (a document_idle or document_end script would hold the page's
  // load event until after its first rendering); the registration is compared by run time too,
  // so an earlier version's registration is replaced on update.
  const runAt = async () => (await h.worker.evaluate(() => chrome.scripting.getRegisteredContentScripts())).find((s) => s.id === 'crm')?.runAt;
  assert.equal(await runAt(), 'document_start');
  // What an earlier version registered (same id and sites, at document_idle) is replaced at the
  // next sync, which every worker start and every save runs.
  await h.worker.evaluate(() => chrome.scripting.updateContentScripts([{ id: 'crm', runAt: 'document_idle' }]));
  assert.equal(await runAt(), 'document_idle');
  const popup = await h.context.newPage();
  await popup.goto(h.extUrl('popup.html'));
  assert.equal(await popup.evaluate(() => chrome.runtime.sendMessage(JSON.stringify({ t: 'configSaved' }))), true);
  await popup.close();
  assert.equal(await runAt(), 'document_start');
  // The bridge starts at DOMContentLoaded: by then the page's body exists, so the panel is there.
  const { page } = await openCrm(h, 'permissive.html');
  assert.equal(await page.locator('ccaas-softphone').count(), 1);
  await page.close();
});
