// The demo: the product's main job on the built-in sandbox — a CRM page with the softphone
// docked, the widget emulator inside it, a click-to-dial from the page and a conversation
// popping back into the page. With --headless it writes screenshots of what the agent sees.
// Run through scripts/demo.sh, which installs and builds first.
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { launch, configure, openCrm, openOptions, setSites, widgetFrame, driverBound, panelFrame, inShadow } from '../tests/e2e/harness.mjs';

const args = process.argv.slice(2);
const headless = args.includes('--headless') || !process.env.DISPLAY;
const outDir = path.resolve(args.find((a) => a.startsWith('--out='))?.slice(6) || 'demo-screenshots');
if (!args.includes('--headless') && !process.env.DISPLAY) console.log('[demo] no display: running headless');

const h = await launch({ headless });
const shot = async (page, name) => {
  if (!headless) return;
  const file = path.join(outDir, name);
  await page.screenshot({ path: file });
  console.log(`[demo] screenshot ${file}`);
};
try {
  await mkdir(outDir, { recursive: true });
  console.log(`[demo] CRM ${h.server.origins.crm}  widget emulator ${h.server.widgetUrl()}`);

  // 1. The agent (or admin) sets the widget URL and the CRM site in the options page.
  const options = await openOptions(h);
  await options.getByLabel('Widget URL').fill(h.server.widgetUrl());
  await options.getByLabel('Widget URL').dispatchEvent('input');
  await setSites(options, [h.server.origins.crm]);
  await options.setViewportSize({ width: 900, height: 1100 });
  await shot(options, '01-options.png');
  await options.close();
  console.log(`[demo] ${await configure(h)}`);

  // 2. The CRM page gets the softphone docked; the emulator's stock-behaving driver binds.
  const { page } = await openCrm(h, 'permissive.html');
  const widget = await widgetFrame(h, page);
  await driverBound(widget);
  const panel = await panelFrame(h, page);
  await panel.waitForFunction(() => document.body.dataset.driver === 'stock');
  await shot(page, '02-crm-with-softphone.png');

  // 3. Click-to-dial from the CRM page's own script reaches the widget's SDK.
  await page.evaluate(() => window.crmDial('+14255550100'));
  await widget.waitForFunction(() => window.__emu.calls.some((c) => c.method === 'clickToDial'));
  await shot(page, '03-click-to-dial.png');

  // 4. A conversation loads in the widget and pops into the page.
  await widget.evaluate(() => window.__emu.loadConversation());
  await page.waitForFunction(() => window.crmLog.some((m) => m.type === 'conversationLoaded'));
  await shot(page, '04-conversation-loaded.png');

  // 5. Minimized to a tab.
  await page.evaluate(() => window.crmRequest('hidePanel'));
  await page.waitForTimeout(200);
  await shot(page, '05-minimized.png');

  // 6. A second CRM tab (the strict-CSP page, wasm2js route): one softphone across tabs, so it
  //    shows the bar naming the tab that has it.
  const strict = await openCrm(h, 'strict.html', { waitForPanel: false });
  await strict.page.waitForSelector('ccaas-softphone-bar', { state: 'attached' });
  await strict.page.waitForTimeout(200);
  await shot(strict.page, '06-second-tab-bar.png');

  // 7. "Open here" moves the softphone into the strict-CSP page.
  await inShadow(strict.page, 'ccaas-softphone-bar', '.here');
  await strict.page.waitForSelector('ccaas-softphone', { state: 'attached' });
  await driverBound(await widgetFrame(h, strict.page));
  await shot(strict.page, '07-strict-csp-page.png');

  if (!headless) {
    console.log('[demo] running: close the browser window or press Ctrl+C to stop');
    await new Promise((resolve) => { h.context.on('close', resolve); process.on('SIGINT', resolve); });
  }
} finally {
  await h.close();
}
console.log('[demo] done');
