// Shared e2e harness: loads the built extension (dist/chrome) into Debian's Chromium with
// playwright-core, serves the fixtures on loopback, and drives the extension's real pages.
// No chrome.* API is mocked: configuration goes through the options page, as an agent does it.
import { chromium } from 'playwright-core';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startServer } from '../support/server.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const EXTENSION_DIR = path.join(ROOT, 'dist', 'chrome-e2e');

export const CHROMIUM_ARGS = [
  '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];

/** Starts the fixture server and a browser with the extension; `close()` stops both. */
export async function launch({ extensionDir = EXTENSION_DIR, headless = true, viewport = { width: 1280, height: 800 }, env } = {}) {
  const server = await startServer();
  const userDataDir = await mkdtemp(path.join(tmpdir(), 'ccaas-e2e-'));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless,
    viewport,
    ...(env ? { env: { ...process.env, ...env } } : {}),
    args: [...CHROMIUM_ARGS, `--disable-extensions-except=${extensionDir}`, `--load-extension=${extensionDir}`],
  });
  let worker = context.serviceWorkers()[0] || (await context.waitForEvent('serviceworker'));
  const extId = new URL(worker.url()).host;
  const h = {
    server, context, extId, userDataDir,
    get worker() { return context.serviceWorkers().find((w) => w.url().includes(extId)) || worker; },
    extUrl: (p) => `chrome-extension://${extId}/${p}`,
    async close() {
      await context.close().catch(() => {});
      await server.close();
      await rm(userDataDir, { recursive: true, force: true });
    },
  };
  return h;
}

/**
 * Starts a private Xvfb display (for what headless Chromium cannot do: browser-level keyboard
 * shortcuts reach extensions only as real key events). Resolves `{display, stop()}`.
 */
export async function startXvfb() {
  const { spawn } = await import('node:child_process');
  const proc = spawn('Xvfb', ['-displayfd', '3', '-screen', '0', '1280x800x24', '-nolisten', 'tcp'], {
    stdio: ['ignore', 'ignore', 'pipe', 'pipe'],
  });
  const display = await new Promise((resolve, reject) => {
    let out = '';
    proc.stdio[3].on('data', (d) => {
      out += d;
      if (out.includes('\n')) resolve(`:${out.trim()}`);
    });
    proc.on('error', reject);
    proc.on('exit', (code) => reject(new Error(`Xvfb exited (${code})`)));
  });
  return {
    display,
    stop: () => new Promise((resolve) => {
      if (proc.exitCode !== null) return resolve();
      proc.once('exit', resolve);
      proc.kill('SIGTERM');
    }),
  };
}

/** Opens the options page once it shows the stored configuration. */
export async function openOptions(h) {
  const page = await h.context.newPage();
  await page.goto(h.extUrl('options.html'));
  await page.waitForSelector('body[data-ready="true"]');
  return page;
}

/** Replaces the site list on an open options page with `sites`. */
export async function setSites(page, sites) {
  while ((await page.locator('#site-list button.remove').count()) > 0) {
    await page.locator('#site-list button.remove').first().click();
  }
  for (const s of sites) {
    await page.getByLabel('Add a site').fill(s);
    await page.getByRole('button', { name: 'Add', exact: true }).click();
  }
}

/** Presses Save and resolves with the status text once the save has finished. */
export async function save(page) {
  await page.getByRole('button', { name: 'Save' }).click();
  await page.waitForFunction(() => /^(Saved|Not saved)/.test(document.getElementById('status').textContent));
  return page.locator('#status').textContent();
}

/** Fills the options page like an agent and presses Save; resolves with the status text. */
export async function configure(h, { widgetUrl, sites = [h.server.origins.crm], timeoutSec } = {}) {
  const page = await openOptions(h);
  await page.getByLabel('Widget URL').fill(widgetUrl ?? h.server.widgetUrl());
  await setSites(page, sites);
  await page.locator('details summary').click();
  await page.locator('#liveness-timeout').fill(String(timeoutSec ?? 15));
  const status = await save(page);
  await page.close();
  return status;
}

/** The stored configuration, read by the worker (null when none). */
export async function storedConfig(h) {
  return h.worker.evaluate(async () => {
    const { config } = await chrome.storage.local.get('config');
    return config ? JSON.parse(config) : null;
  });
}

/** Collects console lines of a page (content-script lines included). */
export function consoleLines(page) {
  const lines = [];
  page.on('console', (m) => lines.push(m.text()));
  return lines;
}

/** Opens a CRM fixture page; resolves once the content script said it started. */
export async function openCrm(h, file = 'permissive.html', { waitForPanel = true } = {}) {
  const page = await h.context.newPage();
  const lines = consoleLines(page);
  await page.goto(`${h.server.origins.crm}/${file}`);
  await waitFor(() => lines.some((l) => l.includes('content script started')), 'content script start', 15000);
  if (waitForPanel) await page.waitForSelector('ccaas-softphone', { state: 'attached' });
  return { page, lines };
}

/** The browser's id of the tab showing `page`. */
export const tabIdOf = (h, page) => h.worker.evaluate(async (url) => (await chrome.tabs.query({})).find((t) => t.url === url)?.id, page.url());

/** Whether the browser may discard tab `tab` by itself (Memory Saver): never the softphone's. */
export const autoDiscardable = (h, tab) => h.worker.evaluate(async (t) => (await chrome.tabs.get(t)).autoDiscardable, tab);

/** The extension's panel frame inside a CRM page. */
export async function panelFrame(h, page, timeout = 15000) {
  return waitFor(() => page.frames().find((f) => f.url().startsWith(h.extUrl('panel.html'))), 'panel frame', timeout);
}

/** The widget (emulator) frame inside the panel frame, once its emulator runs. */
export async function widgetFrame(h, page, timeout = 15000) {
  const panel = await panelFrame(h, page, timeout);
  return waitFor(async () => {
    for (const f of panel.childFrames()) {
      try {
        if (await f.evaluate(() => !!window.__emu)) return f;
      } catch { /* navigating */ }
    }
    return undefined;
  }, 'widget emulator frame', timeout);
}

/** The driver of the emulator in `frame` has bound (bindEvents returned). */
export async function driverBound(frame, timeout = 15000) {
  await frame.waitForFunction(() => window.__emu && window.__emu.driverBound, null, { timeout });
}

/** Drop counters the extension's contexts reported, from session storage, via the worker. */
export async function dropStats(h) {
  return h.worker.evaluate(async () => {
    const all = await chrome.storage.session.get(null);
    const out = {};
    for (const [k, v] of Object.entries(all)) if (k.startsWith('stats:')) out[k.slice(6)] = JSON.parse(v);
    return out;
  });
}

/** Sums one drop reason over every context whose key starts with `prefix`. */
export function dropped(stats, prefix, reason) {
  return Object.entries(stats).filter(([k]) => k.startsWith(prefix)).reduce((n, [, v]) => n + (v[reason] || 0), 0);
}

/** Polls `fn` until it returns a truthy value. */
export async function waitFor(fn, what, timeout = 10000, every = 50) {
  const end = Date.now() + timeout;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out after ${timeout} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, every));
  }
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * Stops the extension's service worker the way Chrome does when it is idle, and waits until the
 * open ports have woken it again. From `page`'s DevTools session when given (no tab is opened or
 * activated), else from an options page opened for it. `during`, if given, runs right after the
 * stop, before the worker is back.
 */
export async function stopWorker(h, page, during) {
  const options = page ? null : await openOptions(h);
  const cdp = await h.context.newCDPSession(page ?? options);
  const statuses = [];
  cdp.on('ServiceWorker.workerVersionUpdated', (e) => e.versions.forEach((v) => statuses.push(v.runningStatus)));
  await cdp.send('ServiceWorker.enable');
  await cdp.send('ServiceWorker.stopAllWorkers');
  await during?.();
  await waitFor(() => statuses.includes('stopped') && statuses.at(-1) === 'running', 'the worker stopped and ran again', 15000);
  await cdp.detach();
  await options?.close();
}

/**
 * Calls `fn` (a function declaration, `this` = the element) on the element matching `selector`
 * inside the closed shadow root of the page's `<hostTag>`, which page scripts cannot reach: the
 * DevTools protocol can (as an agent's click can).
 */
export async function inShadow(page, hostTag, selector, fn = 'function () { this.click(); }') {
  const cdp = await page.context().newCDPSession(page);
  try {
    const { root } = await cdp.send('DOM.getDocument', { depth: -1, pierce: true });
    const find = (n) => {
      if (n.localName === hostTag) return n;
      for (const c of n.children || []) {
        const r = find(c);
        if (r) return r;
      }
      return null;
    };
    const host = find(root);
    if (!host?.shadowRoots?.length) throw new Error(`no <${hostTag}> with a shadow root`);
    const { nodeId } = await cdp.send('DOM.querySelector', { nodeId: host.shadowRoots[0].nodeId, selector });
    if (!nodeId) throw new Error(`no ${selector} in <${hostTag}>`);
    const { object } = await cdp.send('DOM.resolveNode', { nodeId });
    const { result } = await cdp.send('Runtime.callFunctionOn', { objectId: object.objectId, functionDeclaration: fn, returnByValue: true });
    return result.value;
  } finally {
    await cdp.detach().catch(() => {});
  }
}

/**
 * Closes every CRM page still open. One softphone serves all tabs, so a page a failed test left
 * open would keep it and leave the next test's page with only the bar.
 */
export async function closeCrmPages(h) {
  for (const p of h.context.pages()) {
    if (p.url().startsWith(h.server.origins.crm)) await p.close().catch(() => {});
  }
}
