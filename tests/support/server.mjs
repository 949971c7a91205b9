// Loopback fixture server for the e2e tests: serves the fake CRM pages, the CCaaS widget
// emulator and the hostile third-party pages on three *.localhost origins of one port.
// Node standard library only. Also runnable as a CLI for demos:
//   node tests/support/server.mjs --port 8130
import http from 'node:http';
import fs from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

// tests/ (this file lives in tests/support/).
export const TESTS_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

const CRM_DIR = path.join(TESTS_DIR, 'fixtures', 'crm');
const OTHER_DIR = path.join(TESTS_DIR, 'fixtures', 'other');
const EMULATOR_DIR = path.join(TESTS_DIR, 'emulator');
// The project's CTI driver as scripts/build-driver.sh built it, for the emulator's
// `?driver=ours` (served at /built/ on the widget hosts).
const DRIVER_DIR = path.join(TESTS_DIR, '..', 'dist', 'driver-test');

export const HOSTS = {
  crm: 'crm.localhost',
  widget: 'ccaas.localhost',
  other: 'other.localhost',
};

const CONTENT_TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.wasm': 'application/wasm',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
  '.txt': 'text/plain; charset=utf-8',
  '.ico': 'image/x-icon',
};

// `?csp=<name>` table. `nowasm` has no 'wasm-unsafe-eval', so a page served with it
// cannot compile WebAssembly from its own scripts.
export const CSP_PRESETS = {
  strict: "script-src 'self'; frame-src 'self'",
  nowasm: "script-src 'self'",
};

// The routes of one host: an ordered list of {prefix, dir}; the first matching prefix wins.
// `prefix` always starts and ends with '/'; the part of the path after it is looked up in `dir`.
function routesFor(hostname, mounts) {
  const extra = mounts
    .filter((m) => m.host === hostname || m.host === '*')
    .map((m) => ({ prefix: normalisePrefix(m.prefix), dir: path.resolve(m.dir) }));
  let base;
  if (hostname === HOSTS.crm) {
    base = [{ prefix: '/', dir: CRM_DIR }];
  } else if (hostname === HOSTS.widget) {
    base = [
      { prefix: '/built/', dir: DRIVER_DIR },
      { prefix: '/', dir: EMULATOR_DIR },
    ];
  } else if (hostname === HOSTS.other) {
    // The same emulator from an origin nobody configured, plus the hostile pages.
    base = [
      { prefix: '/other/', dir: OTHER_DIR },
      { prefix: '/built/', dir: DRIVER_DIR },
      { prefix: '/', dir: EMULATOR_DIR },
    ];
  } else {
    return null;
  }
  // Longer (more specific) mounts first, then the host's own routes.
  extra.sort((a, b) => b.prefix.length - a.prefix.length);
  return [...extra, ...base];
}

function normalisePrefix(prefix) {
  let p = String(prefix || '/');
  if (!p.startsWith('/')) p = '/' + p;
  if (!p.endsWith('/')) p += '/';
  return p;
}

// "crm.localhost:8130" -> "crm.localhost"; "[::1]:8130" -> "::1".
function hostnameOf(hostHeader) {
  const h = String(hostHeader || '').trim().toLowerCase();
  if (h.startsWith('[')) return h.slice(1, h.indexOf(']'));
  return h.split(':')[0];
}

function sendText(res, status, text, extraHeaders = {}) {
  res.writeHead(status, {
    'Content-Type': 'text/plain; charset=utf-8',
    'Cache-Control': 'no-store',
    ...extraHeaders,
  });
  res.end(res.req.method === 'HEAD' ? undefined : text + '\n');
}

async function isFile(p) {
  try {
    return (await fs.stat(p)).isFile();
  } catch {
    return false;
  }
}

async function isDir(p) {
  try {
    return (await fs.stat(p)).isDirectory();
  } catch {
    return false;
  }
}

// Adds `value` to a header that may already be set (several CSP headers are all enforced).
function addHeader(headers, name, value) {
  const key = Object.keys(headers).find((k) => k.toLowerCase() === name.toLowerCase()) || name;
  if (headers[key] === undefined) headers[key] = value;
  else headers[key] = [].concat(headers[key], value);
}

/**
 * Starts the fixture server on 127.0.0.1.
 * @param {object} [opts]
 * @param {number} [opts.port=0]   0 picks a free port.
 * @param {Array<{host: string, prefix: string, dir: string}>} [opts.mounts=[]]
 *   Extra directories to serve, e.g. {host: 'ccaas.localhost', prefix: '/project/', dir: '/abs/dist'}
 *   so the widget emulator can load the project's own driver with `driverUrl=/project/driver.js`.
 *   `host: '*'` mounts on every known host.
 * @returns {Promise<{port: number, origin: (host: string) => string,
 *   origins: {crm: string, widget: string, other: string},
 *   widgetUrl: (params?: object, host?: string) => string, close: () => Promise<void>}>}
 */
export async function startServer({ port = 0, mounts = [] } = {}) {
  const sockets = new Set();

  const server = http.createServer((req, res) => {
    handle(req, res, mounts).catch((err) => {
      if (!res.headersSent) sendText(res, 500, 'internal error: ' + err.message);
      else res.destroy();
    });
  });
  // `/__dead` must be able to hold a request for as long as the test wants.
  server.requestTimeout = 0;
  server.headersTimeout = 0;
  server.keepAliveTimeout = 1000;

  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });

  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });

  const actualPort = server.address().port;
  const origin = (host) => `http://${host}:${actualPort}`;
  const origins = {
    crm: origin(HOSTS.crm),
    widget: origin(HOSTS.widget),
    other: origin(HOSTS.other),
  };

  // The widget URL as the CRM frames it, plus any emulator/server switches
  // (driver, driverUrl, driverDelay, csp, xfo, ...). Undefined/null params are left out.
  const widgetUrl = (params = {}, host = HOSTS.widget) => {
    const url = new URL('/widget/index.html', origin(host));
    url.searchParams.set('dynamicsUrl', 'https://org.crm.dynamics.com');
    url.searchParams.set('msdynembedmode', '3');
    for (const [k, v] of Object.entries(params)) {
      if (v !== undefined && v !== null) url.searchParams.set(k, String(v));
    }
    return url.href;
  };

  let closing = null;
  const close = () => {
    if (!closing) {
      closing = new Promise((resolve) => {
        server.close(() => resolve());
        // Destroy keep-alive and `/__dead` sockets so close() does not wait for them.
        for (const s of sockets) s.destroy();
      });
    }
    return closing;
  };

  return { port: actualPort, origin, origins, widgetUrl, close };
}

async function handle(req, res, mounts) {
  const rawUrl = req.url || '/';
  // Keep the raw path (no URL normalisation) so that '..' segments can be refused, not resolved.
  let rawPath = rawUrl;
  let rawQuery = '';
  const q = rawUrl.indexOf('?');
  if (q >= 0) {
    rawPath = rawUrl.slice(0, q);
    rawQuery = rawUrl.slice(q + 1);
  }
  if (/^[a-z]+:\/\//i.test(rawPath)) rawPath = new URL(rawPath).pathname; // absolute-form
  const query = new URLSearchParams(rawQuery);

  // A widget that accepted the connection and never answers. Checked before anything else,
  // on every host. The socket is only released by close() (or by the client going away).
  if (rawPath === '/__dead') {
    req.resume();
    return;
  }

  if (req.method !== 'GET' && req.method !== 'HEAD') {
    sendText(res, 405, 'method not allowed', { Allow: 'GET, HEAD' });
    return;
  }

  const routes = routesFor(hostnameOf(req.headers.host), mounts);
  if (!routes) {
    sendText(res, 404, 'unknown host');
    return;
  }

  let pathname;
  try {
    pathname = decodeURIComponent(rawPath);
  } catch {
    sendText(res, 400, 'bad path encoding');
    return;
  }
  if (pathname.includes('\0')) {
    sendText(res, 400, 'bad path');
    return;
  }
  if (pathname.includes('\\') || pathname.split('/').includes('..')) {
    sendText(res, 403, 'path traversal refused');
    return;
  }

  const route = routes.find((r) => pathname.startsWith(r.prefix) || pathname + '/' === r.prefix);
  if (!route) {
    sendText(res, 404, 'not found');
    return;
  }
  const rel = pathname.slice(route.prefix.length);
  let filePath = path.resolve(route.dir, '.' + path.sep + rel);
  if (filePath !== route.dir && !filePath.startsWith(route.dir + path.sep)) {
    sendText(res, 403, 'path traversal refused');
    return;
  }

  if (await isDir(filePath)) {
    if (!pathname.endsWith('/')) {
      // Redirect so relative URLs inside index.html resolve against the directory.
      sendText(res, 301, 'moved', { Location: rawPath + '/' + (rawQuery ? '?' + rawQuery : '') });
      return;
    }
    filePath = path.join(filePath, 'index.html');
  }

  // Chromium asks every top-level page for a favicon; a 404 would be console noise in tests.
  if (pathname === '/favicon.ico' && !(await isFile(filePath))) {
    res.writeHead(204, { 'Cache-Control': 'no-store' });
    res.end();
    return;
  }

  // The per-file header sidecars are configuration, never content.
  if (filePath.endsWith('.headers.json') || !(await isFile(filePath))) {
    sendText(res, 404, 'not found');
    return;
  }

  const ext = path.extname(filePath).toLowerCase();
  const headers = {
    'Content-Type': CONTENT_TYPES[ext] || 'application/octet-stream',
    'Cache-Control': 'no-store',
    'X-Content-Type-Options': 'nosniff',
  };

  const sidecar = filePath + '.headers.json';
  if (await isFile(sidecar)) {
    let extra;
    try {
      extra = JSON.parse(await fs.readFile(sidecar, 'utf8'));
    } catch (err) {
      sendText(res, 500, `bad ${path.basename(sidecar)}: ${err.message}`);
      return;
    }
    for (const [name, value] of Object.entries(extra)) {
      // JSON has no comments: keys starting with '//' are notes, not headers.
      if (!name.startsWith('//')) addHeader(headers, name, String(value));
    }
  }

  // Query switches, on any served HTML page.
  if (ext === '.html') {
    const xfo = query.get('xfo');
    if (xfo !== null) {
      if (xfo !== 'deny') {
        sendText(res, 400, `unknown xfo value "${xfo}" (known: deny)`);
        return;
      }
      addHeader(headers, 'X-Frame-Options', 'DENY');
      addHeader(headers, 'Content-Security-Policy', "frame-ancestors 'none'");
    }
    const csp = query.get('csp');
    if (csp !== null) {
      if (!Object.hasOwn(CSP_PRESETS, csp)) {
        sendText(res, 400, `unknown csp preset "${csp}" (known: ${Object.keys(CSP_PRESETS).join(', ')})`);
        return;
      }
      addHeader(headers, 'Content-Security-Policy', CSP_PRESETS[csp]);
    }
  }

  // `?delay=<ms>` on any file: answer late (a slow but alive widget).
  const delay = query.get('delay');
  if (delay !== null) {
    const ms = Number(delay);
    if (!Number.isInteger(ms) || ms < 0 || ms > 60000) {
      sendText(res, 400, 'delay must be an integer number of ms in 0..60000');
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, ms));
  }

  const body = await fs.readFile(filePath);
  headers['Content-Length'] = body.length;
  try {
    res.writeHead(200, headers);
  } catch (err) {
    // An invalid header name/value in a sidecar file.
    sendText(res, 500, 'bad header: ' + err.message);
    return;
  }
  res.end(req.method === 'HEAD' ? undefined : body);
}

// CLI: print the origins as one JSON line and serve until SIGINT/SIGTERM.
async function main(argv) {
  let port = 0;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--port') port = Number(argv[++i]);
    else if (a.startsWith('--port=')) port = Number(a.slice('--port='.length));
    else {
      console.error(`usage: node ${path.relative(process.cwd(), fileURLToPath(import.meta.url))} [--port N]`);
      process.exit(2);
    }
  }
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    console.error('bad --port');
    process.exit(2);
  }
  const srv = await startServer({ port });
  console.log(JSON.stringify({ port: srv.port, origins: srv.origins, widget: srv.widgetUrl() }));
  const stop = async () => {
    await srv.close();
    process.exit(0);
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  main(process.argv.slice(2)).catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
