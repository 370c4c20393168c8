// Shared by the browser tests: start the real server (demo data, temporary SQLite database) and
// Debian's Chromium, and sign in through the real form.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium } from 'playwright-core';

export const PASSWORD = 'trellis-demo-2026';
export const repoRoot = resolve('../..');
export const trellisBin = resolve(process.env.TRELLIS_BIN || '../../target/debug/trellis');

async function waitForHealth(base, server) {
  for (let i = 0; i < 150; i++) {
    if (server.exitCode !== null) throw new Error(`the server exited with ${server.exitCode}`);
    try {
      const r = await fetch(`${base}/healthz`);
      if (r.ok) return;
    } catch (_) { /* not up yet */ }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error('server did not start');
}

/// Starts `trellis serve --demo` on a random port with its own temporary folder and database.
/// `env` adds or overrides environment variables (e.g. a test-only policy folder).
export async function startServer({ env = {} } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'trellis-browser-'));
  const port = 18000 + Math.floor(Math.random() * 2000);
  const base = `http://127.0.0.1:${port}`;
  const databaseUrl = `sqlite://${dir}/t.db`;
  const server = spawn(trellisBin, ['serve', '--demo', '--bind', `127.0.0.1:${port}`, '--database', databaseUrl], {
    cwd: dir,
    // The server runs in a temporary folder, so point it at the repository's model and policies.
    env: {
      ...process.env,
      TRELLIS_DATA_DIR: dir,
      TRELLIS_LOG: 'warn',
      TRELLIS_MODELS_DIR: join(repoRoot, 'models'),
      TRELLIS_POLICIES_DIR: join(repoRoot, 'policies'),
      ...env,
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  await waitForHealth(base, server);
  return {
    base,
    dir,
    databaseUrl,
    /// SIGTERM, then SIGKILL after a few seconds: a graceful shutdown otherwise waits up to 30 s
    /// for live-update (Server-Sent Events) streams whose browser has already gone.
    /// The temporary folder goes too, unless TRELLIS_BROWSER_KEEP_TMP is set (to look at a failure).
    async stop() {
      if (server.exitCode === null) {
        const exited = new Promise((r) => server.once('exit', r));
        server.kill('SIGTERM');
        const timer = setTimeout(() => server.kill('SIGKILL'), 3000);
        await exited;
        clearTimeout(timer);
      }
      if (!process.env.TRELLIS_BROWSER_KEEP_TMP) rmSync(dir, { recursive: true, force: true });
    },
  };
}

export function launchBrowser() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
  });
}

/// A new browser context signed in as `who` (an e-mail address, or a demo account's short name
/// such as `student1`) through the sign-in form. Collects page errors and CSP reports in `errors`.
export async function signIn(browser, base, who, { contextOptions = {}, password = PASSWORD, prepare } = {}) {
  const context = await browser.newContext(contextOptions);
  if (prepare) await prepare(context);
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => { if (m.type() === 'error' && /Content Security Policy/.test(m.text())) errors.push(m.text()); });
  await page.goto(`${base}/login`);
  await page.fill('#email', who.includes('@') ? who : `${who}@demo.trellis.test`);
  await page.fill('#password', password);
  await Promise.all([page.waitForURL(`${base}/dashboard`), page.click('button[type=submit]')]);
  return { context, page, errors };
}

/// The address of the first conversation listed for the signed-in user.
export async function conversationUrl(page, base) {
  await page.goto(`${base}/conversations`);
  const href = await page.locator('table a').first().getAttribute('href');
  return `${base}${href}`;
}
