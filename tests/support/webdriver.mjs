// A minimal W3C WebDriver client over plain HTTP, for the Firefox e2e test: starts geckodriver on
// a loopback port, opens a headless Firefox ESR session, installs the unpacked extension as a
// temporary add-on, and exposes the few commands the test needs. Node standard library only
// (playwright-core drives only its own patched Firefox builds, not Debian's).
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';

/** A free loopback port. */
async function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/** The W3C element reference key. */
const ELEMENT = 'element-6066-11e4-a52e-4f735466cecf';

/**
 * Starts geckodriver and a headless Firefox with `prefs`, installs the extension folder
 * `addonDir` as a temporary add-on. Resolves a session: `cmd(method, path, body)`, helpers, and
 * `close()`, which ends the session and stops geckodriver.
 */
export async function startFirefox({ addonDir, prefs = {}, binary = process.env.FIREFOX || '/usr/bin/firefox-esr', driver = process.env.GECKODRIVER || 'geckodriver', driverArgs = [] }) {
  const port = await freePort();
  const proc = spawn(driver, ['--host', '127.0.0.1', '--port', String(port), ...driverArgs], { stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  proc.stdout.on('data', (d) => { log += d; });
  proc.stderr.on('data', (d) => { log += d; });
  const exited = new Promise((resolve) => proc.once('exit', resolve));
  const base = `http://127.0.0.1:${port}`;

  const http = async (method, path, body) => {
    const res = await fetch(base + path, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const json = await res.json().catch(() => ({}));
    if (!res.ok) {
      const v = json.value || {};
      throw new Error(`${method} ${path}: ${v.error || res.status}: ${v.message || ''}`.trim());
    }
    return json.value;
  };

  // geckodriver listens a moment after it starts.
  for (let i = 0; ; i++) {
    try {
      await http('GET', '/status');
      break;
    } catch (e) {
      if (i > 100 || proc.exitCode !== null) {
        proc.kill();
        throw new Error(`geckodriver did not start: ${e.message}\n${log}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  let id;
  try {
    ({ sessionId: id } = await http('POST', '/session', {
      capabilities: { alwaysMatch: { browserName: 'firefox', 'moz:firefoxOptions': { binary, args: ['-headless'], prefs } } },
    }));
  } catch (e) {
    proc.kill();
    throw new Error(`${e.message}\n${log}`);
  }
  const cmd = (method, path, body) => http(method, `/session/${id}${path}`, body);
  const addonId = await cmd('POST', '/moz/addon/install', { path: addonDir, temporary: true });

  const s = {
    addonId,
    cmd,
    get log() { return log; },
    goto: (url) => cmd('POST', '/url', { url }),
    /** Runs `fn` (a function, serialised) in the current frame with `args`; resolves its value. */
    exec: (fn, ...args) => cmd('POST', '/execute/async', {
      script: `const done = arguments[arguments.length - 1];
        Promise.resolve((${fn}).apply(null, Array.prototype.slice.call(arguments, 0, -1)))
          .then((v) => done({ ok: v }), (e) => done({ err: String(e && e.stack || e) }));`,
      args,
    }).then((r) => {
      if (r && 'err' in r) throw new Error(r.err);
      return r?.ok;
    }),
    find: async (css) => (await cmd('POST', '/element', { using: 'css selector', value: css }))[ELEMENT],
    click: async (css) => cmd('POST', `/element/${await s.find(css)}/click`, {}),
    type: async (css, text) => {
      const el = await s.find(css);
      await cmd('POST', `/element/${el}/clear`, {});
      return cmd('POST', `/element/${el}/value`, { text });
    },
    /** Switches to the child frame at `index` of the current one (null: the top). */
    frame: (index) => cmd('POST', '/frame', { id: index }),
    async close() {
      await http('DELETE', `/session/${id}`).catch(() => {});
      proc.kill('SIGTERM');
      await exited;
    },
  };
  return s;
}
