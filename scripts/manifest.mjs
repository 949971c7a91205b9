// Writes the manifest for one browser from the source manifest.json.
// Chrome: as is. Firefox: background.scripts instead of a service worker, and a gecko id.
import { readFileSync } from 'node:fs';

const target = process.argv[2];
const m = JSON.parse(readFileSync(new URL('../manifest.json', import.meta.url), 'utf8'));
if (target === 'firefox') {
  m.background = { scripts: ['background.js'], type: 'module' };
  m.browser_specific_settings = { gecko: { id: 'ccaas-bridge@ccaas-bridge.dev', strict_min_version: '128.0' } };
  delete m.minimum_chrome_version;
} else if (target === 'chrome-e2e') {
  // The e2e build: identical files, plus loopback hosts granted at install. Headless Chromium
  // shows the optional-permission prompt where no one can answer it, so the tests' sites must
  // be granted up front; the options page still calls permissions.request, which then resolves
  // at once. Never shipped.
  m.host_permissions = ['http://*.localhost/*'];
} else if (target !== 'chrome') {
  console.error(`usage: manifest.mjs chrome|chrome-e2e|firefox`);
  process.exit(2);
}
process.stdout.write(JSON.stringify(m, null, 2) + '\n');
