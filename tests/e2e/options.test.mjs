// Issue 5: the options page and the popup. Invalid input shows its message and stores nothing;
// the widget URL's parts are shown and editable; adding a site enables the content script there
// and removing it stops it on the next navigation; the popup's per-site switches work; an
// exported configuration imported on a fresh profile is the same configuration.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { launch, configure, openOptions, setSites, save, storedConfig, openCrm, waitFor, sleep } from './harness.mjs';

let h;
before(async () => {
  h = await launch();
  assert.match(await configure(h), /^Saved/);
});
after(async () => h?.close());

test('each invalid input shows its message next to its field and stores nothing', async () => {
  const good = await storedConfig(h);
  const page = await openOptions(h);
  const cases = [
    ['http://ccaas.example.com/widget/index.html?dynamicsUrl=https%3A%2F%2Fo.crm.dynamics.com', /https/],
    ['not a url', /not a URL/],
    ['https://ccaas.example.com/widget/index.html?msdynembedmode=3', /dynamicsUrl/],
    ['javascript:alert(1)', /javascript/],
    ['https://x.example/?dynamicsUrl=' + 'a'.repeat(10 * 1024), /longer than/],
  ];
  for (const [url, message] of cases) {
    await page.getByLabel('Widget URL').fill(url);
    assert.match(await save(page), /^Not saved/);
    const error = page.locator('#widget-url-error');
    assert.match(await error.textContent(), message, url.slice(0, 60));
    assert.equal(await page.getByLabel('Widget URL').getAttribute('aria-invalid'), 'true');
    // The message is tied to its field for screen readers, and the field has the focus.
    assert.match(await page.getByLabel('Widget URL').getAttribute('aria-describedby'), /widget-url-error/);
    assert.equal(await page.evaluate(() => document.activeElement.id), 'widget-url');
    assert.deepEqual(await storedConfig(h), good);
  }
  // A bad site and a bad area code are refused the same way.
  await page.getByLabel('Widget URL').fill(good.widgetUrl);
  await page.getByLabel('Add a site').fill('http://crm.example.com');
  assert.match(await save(page), /^Not saved/);
  assert.match(await page.locator('#sites-error').textContent(), /https/);
  await page.getByLabel('Add a site').fill('');
  await page.getByLabel('Default region for national numbers').selectOption('US');
  await page.getByLabel('Default area code for local numbers').fill('+1 425');
  assert.match(await save(page), /^Not saved/);
  assert.match(await page.locator('#area-code-error').textContent(), /digits/);
  assert.deepEqual(await storedConfig(h), good);
  await page.close();
});

test('a malformed import file shows its message and changes nothing', async () => {
  const good = await storedConfig(h);
  const page = await openOptions(h);
  const before = await page.getByLabel('Widget URL').inputValue();
  for (const [name, body, message] of [
    ['broken.json', '{"schema": 2, "widgetUrl": ', /not a configuration/],
    ['evil.json', JSON.stringify({ schema: 2, widgetUrl: 'javascript:alert(1)', sites: [] }), /invalid/],
    ['proto.json', '{"schema":2,"widgetUrl":"x","__proto__":{"a":1}}', /not a configuration/],
  ]) {
    await page.locator('#import').setInputFiles({ name, mimeType: 'application/json', buffer: Buffer.from(body) });
    await page.waitForFunction(() => document.getElementById('import-error').textContent !== '');
    assert.match(await page.locator('#import-error').textContent(), message, name);
    assert.equal(await page.getByLabel('Widget URL').inputValue(), before);
  }
  assert.deepEqual(await storedConfig(h), good);
  await page.close();
});

test('the widget URL is shown in parts, and editing a part rewrites the URL', async () => {
  const page = await openOptions(h);
  const url = 'https://ccaas-embed-prod.azureedge.net/widget/index.html?dynamicsUrl=https%3A%2F%2Forg.crm.dynamics.com&msdynembedmode=3&custom=kept';
  await page.getByLabel('Widget URL').fill(url);
  assert.equal(await page.getByLabel('Widget origin').inputValue(), 'https://ccaas-embed-prod.azureedge.net');
  assert.equal(await page.getByLabel('Dynamics URL').inputValue(), 'https://org.crm.dynamics.com');
  assert.equal(await page.getByLabel('Embed mode').inputValue(), '3');
  assert.equal(await page.getByLabel('Custom CTI driver (useCustomCTI=1)').isChecked(), false);
  await page.getByLabel('Tenant ID').fill('1234-abcd');
  await page.getByLabel('Custom CTI driver (useCustomCTI=1)').check();
  const rewritten = await page.getByLabel('Widget URL').inputValue();
  assert.match(rewritten, /tenantId=1234-abcd/);
  assert.match(rewritten, /useCustomCTI=1/);
  assert.match(rewritten, /custom=kept/);
  await page.close();
});

test('adding a site starts the content script in its open tabs at once, and on later loads; removing it stops it on the next navigation', async () => {
  const other = `${h.server.origins.other}/other/hostile-frame.html`;
  const started = (lines) => lines.filter((l) => l.includes('content script started')).length;
  const visit = async () => {
    const page = await h.context.newPage();
    const lines = [];
    page.on('console', (m) => lines.push(m.text()));
    await page.goto(other);
    await sleep(800);
    return { page, lines };
  };
  let v = await visit();
  assert.equal(started(v.lines), 0);
  const options = await openOptions(h);
  await setSites(options, [h.server.origins.crm, h.server.origins.other]);
  assert.match(await save(options), /^Saved/);
  // The tab that was open before the save gets it without a reload, once.
  await waitFor(() => started(v.lines) === 1, 'content script in the open tab of the added site');
  await sleep(800);
  assert.equal(started(v.lines), 1);
  // Saving again (nothing added) starts nothing more.
  assert.match(await save(options), /^Saved/);
  await sleep(800);
  assert.equal(started(v.lines), 1);
  v.lines.length = 0;
  await v.page.reload();
  await waitFor(() => started(v.lines) === 1, 'content script on the added site after a reload');
  await setSites(options, [h.server.origins.crm]);
  assert.match(await save(options), /^Saved/);
  await v.page.close();
  v = await visit();
  assert.equal(started(v.lines), 0);
  await v.page.close();
  await options.close();
});

test('the popup shows the current site and switches it and its number detection', async () => {
  const { page } = await openCrm(h, 'permissive.html');
  const tabId = await h.worker.evaluate(async (url) => (await chrome.tabs.query({ url })).at(0)?.id, `${h.server.origins.crm}/permissive.html`);
  assert.ok(tabId);
  const popup = await h.context.newPage();
  await popup.goto(h.extUrl(`popup.html?tab=${tabId}`));
  await popup.waitForFunction(() => document.getElementById('site-status').textContent !== '…');
  assert.match(await popup.locator('#site-status').textContent(), /^Enabled on http:\/\/crm\.localhost/);
  const detection = popup.getByLabel('Click-to-dial numbers on this site');
  assert.equal(await detection.isChecked(), true);
  await detection.uncheck();
  await waitFor(async () => (await storedConfig(h)).siteSettings?.[h.server.origins.crm]?.detection === false, 'detection off');
  await detection.check();
  await waitFor(async () => !(await storedConfig(h)).siteSettings?.[h.server.origins.crm], 'detection back on');
  // Disable the site from the popup: the panel leaves the open page at once.
  await popup.getByLabel('Softphone on this site').uncheck();
  await waitFor(async () => !(await storedConfig(h)).sites.includes(h.server.origins.crm), 'site removed');
  await page.waitForSelector('ccaas-softphone', { state: 'detached' });
  await popup.getByLabel('Softphone on this site').check();
  await waitFor(async () => (await storedConfig(h)).sites.includes(h.server.origins.crm), 'site added back');
  await page.waitForSelector('ccaas-softphone', { state: 'attached' });
  await popup.close();
  await page.close();
});

test('export, then import on a fresh profile, gives the same configuration', async () => {
  const options = await openOptions(h);
  // ("All sites" is left out: it asks for every https site, a prompt headless cannot answer.)
  await options.getByLabel('Default region for national numbers').selectOption('AU');
  await options.getByLabel('Default area code for local numbers').fill('2');
  await setSites(options, [h.server.origins.crm, h.server.origins.other]);
  await options.getByLabel(`Number detection on ${h.server.origins.other}`).uncheck();
  assert.match(await save(options), /^Saved/);
  const exported = await storedConfig(h);
  const [download] = await Promise.all([options.waitForEvent('download'), options.getByRole('button', { name: 'Export configuration' }).click()]);
  const file = await download.path();
  const text = await readFile(file, 'utf8');
  assert.deepEqual(JSON.parse(text), exported);
  assert.equal(exported.region, 'AU');
  assert.equal(exported.siteSettings[h.server.origins.other].detection, false);
  // Put the first profile back the way the other tests expect it.
  await setSites(options, [h.server.origins.crm]);
  await options.getByLabel('Default region for national numbers').selectOption('US');
  assert.match(await save(options), /^Saved/);
  await options.close();

  const fresh = await launch();
  try {
    assert.equal(await storedConfig(fresh), null);
    const page = await openOptions(fresh);
    await page.locator('#import').setInputFiles({ name: 'ccaas-bridge-config.json', mimeType: 'application/json', buffer: Buffer.from(text) });
    await page.waitForFunction(() => /Imported/.test(document.getElementById('status').textContent));
    assert.match(await save(page), /^Saved/);
    assert.deepEqual(await storedConfig(fresh), exported);
  } finally {
    await fresh.close();
  }
});

test('the managed-storage schema accepts the README example policy', async () => {
  const schema = JSON.parse(await readFile(new URL('../../extension/managed_schema.json', import.meta.url), 'utf8'));
  const manifest = JSON.parse(await readFile(new URL('../../manifest.json', import.meta.url), 'utf8'));
  assert.equal(manifest.storage.managed_schema, 'managed_schema.json');
  const readme = await readFile(new URL('../../README.md', import.meta.url), 'utf8');
  const block = readme.match(/<!-- policy-example -->\s*```json\n([\s\S]*?)```/);
  assert.ok(block, 'README has the policy example');
  const policy = JSON.parse(block[1]);
  const settings = policy['3rdparty'].extensions['<extension id>'];
  // Chrome's managed schemas are a subset of JSON Schema: types of properties and array items.
  const check = (value, s, path) => {
    const type = Array.isArray(value) ? 'array' : Number.isInteger(value) ? 'integer' : typeof value;
    assert.equal(type, s.type, `${path} should be ${s.type}`);
    if (s.type === 'object') for (const [k, v] of Object.entries(value)) {
      assert.ok(s.properties[k], `${path}.${k} is not in the schema`);
      check(v, s.properties[k], `${path}.${k}`);
    }
    if (s.type === 'array') value.forEach((v, i) => check(v, s.items, `${path}[${i}]`));
  };
  check(settings, schema, 'policy');
  assert.ok(settings.widgetUrl && settings.sites.length);
});
