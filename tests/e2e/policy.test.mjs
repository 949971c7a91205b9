// Issue 5: an administrator's policy. The README's example policy is given to Chromium the way
// an administrator deploys it (a JSON file in Chromium's managed-policy folder); the options page
// shows those fields locked and the worker writes them over the stored configuration.
// Writing that folder needs root (as in CI here); elsewhere the test is skipped, saying why.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { access, mkdir, readFile, rm, writeFile, constants } from 'node:fs/promises';
import { launch, openOptions, storedConfig, waitFor } from './harness.mjs';

const POLICY_DIR = '/etc/chromium/policies/managed';
const POLICY_FILE = `${POLICY_DIR}/ccaas-bridge-e2e-test.json`;

async function writable() {
  try {
    await mkdir(POLICY_DIR, { recursive: true });
    await access(POLICY_DIR, constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

test('the README example policy locks its fields in the options page and is applied', async (t) => {
  if (!(await writable())) return t.skip(`${POLICY_DIR} is not writable (needs root)`);
  const readme = await readFile(new URL('../../README.md', import.meta.url), 'utf8');
  const example = JSON.parse(readme.match(/<!-- policy-example -->\s*```json\n([\s\S]*?)```/)[1]);
  const settings = example['3rdparty'].extensions['<extension id>'];
  // The unpacked extension's id depends only on its folder: learn it, then install the policy.
  let h = await launch();
  const id = h.extId;
  await h.close();
  await writeFile(POLICY_FILE, JSON.stringify({ '3rdparty': { extensions: { [id]: settings } } }));
  try {
    h = await launch();
    assert.equal(h.extId, id);
    const page = await openOptions(h);
    await page.waitForFunction(() => !document.getElementById('managed-note').hidden);
    for (const label of ['Widget URL', 'Add a site', 'All sites', 'Default region for national numbers', 'Default area code for local numbers']) {
      assert.equal(await page.getByLabel(label).isDisabled(), true, `${label} is locked`);
    }
    assert.match(await page.locator('label[for=widget-url]').evaluate((l) => getComputedStyle(l, '::after').content), /administrator/);
    const stored = await waitFor(async () => {
      const c = await storedConfig(h);
      return c && c.region === settings.region && c;
    }, 'policy applied to the stored configuration');
    assert.deepEqual(
      { widgetUrl: stored.widgetUrl, sites: stored.sites, allSites: stored.allSites, region: stored.region, areaCode: stored.areaCode },
      { ...settings, sites: settings.sites },
    );
    await h.close();
  } finally {
    await rm(POLICY_FILE, { force: true });
  }
});
