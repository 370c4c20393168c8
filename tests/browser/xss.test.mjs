// XSS: every payload of xss-payloads.json goes through every field a user can write, and every
// page that shows those fields is rendered in headless Chromium as each role that can see it.
//
// A page passes when
//   - no script ran: a hook installed before any page script records calls of window.__xss,
//     alert, confirm, prompt and print (the payloads call them), and any dialog fails the test;
//   - the DOM holds no markup a payload could have made: only the elements and attributes the
//     templates use, no inline handler, no script but /static/trellis.js, links only to the
//     site itself or (in a message) to allow-listed https/http hosts;
//   - each planted payload is visible as text where that viewer should see it (so it was
//     rendered, escaped, not dropped);
//   - every HTML response carries a Content-Security-Policy without 'unsafe-inline'.
// The payload pages are opened with the CSP bypassed, so the hook tests the escaping on its own;
// the CSP is checked on every response and, in a control test, shown to block an inline handler.
//
// Run: TRELLIS_BIN=$CARGO_TARGET_DIR/debug/trellis node --test --test-concurrency=1 .
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as helpers from './helpers.mjs';

const PAYLOADS = JSON.parse(readFileSync(new URL('./xss-payloads.json', import.meta.url), 'utf8'));
// Payloads with a NUL character are refused with a 400 before any handler (src/web/request_guard.rs),
// so they are planted nowhere; a test below checks the refusal.
const NUL_PAYLOADS = PAYLOADS.map((p) => p.payload).filter((p) => p.includes('\u0000'));
const ALL = PAYLOADS.map((p) => p.payload).filter((p) => !p.includes('\u0000'));
const codePoints = (s) => [...s].length;

// What the user sees of a text: the HTML parser turns CR LF into LF and drops or replaces NUL.
const normalize = (s) => s.replace(/\r\n?/g, '\n').replace(/[\u0000\uFFFD]/g, '').trim();

const ALLOWED_LINK_HOSTS = ['wikipedia.org', 'khanacademy.org', 'nasa.gov', 'nih.gov', 'noaa.gov', 'arxiv.org',
  'doi.org', 'python.org', 'ocw.mit.edu', 'scratch.mit.edu', 'phet.colorado.edu', 'desmos.com'];

// Every element and attribute the templates (and the analytics charts) produce.
const DOM_RULES = {
  tags: ['html', 'head', 'meta', 'title', 'link', 'script', 'body', 'a', 'header', 'nav', 'span', 'form', 'input',
    'button', 'main', 'p', 'footer', 'section', 'h1', 'h2', 'h3', 'article', 'ul', 'li', 'ol', 'strong', 'time', 'div',
    'details', 'summary', 'label', 'textarea', 'select', 'option', 'table', 'thead', 'tbody', 'tr', 'th', 'td',
    'blockquote', 'mark', 'aside', 'figure', 'figcaption', 'fieldset', 'legend', 'svg', 'line', 'text', 'rect'],
  attrs: ['action', 'autocomplete', 'charset', 'checked', 'class', 'content', 'defer', 'for', 'href', 'id', 'lang',
    'max', 'maxlength', 'method', 'min', 'minlength', 'name', 'open', 'rel', 'required', 'role', 'rows', 'scope',
    'selected', 'src', 'tabindex', 'type', 'value',
    // the charts
    'viewbox', 'xmlns', 'x', 'y', 'x1', 'y1', 'x2', 'y2', 'width', 'height', 'text-anchor'],
  hosts: ALLOWED_LINK_HOSTS,
};

// Runs in the page: what in the DOM could not have come from the templates?
function scanDom({ tags, attrs, hosts }) {
  const problems = [];
  for (const el of document.querySelectorAll('*')) {
    const tag = el.tagName.toLowerCase();
    if (!tags.includes(tag)) problems.push(`unexpected <${tag}>`);
    if (tag === 'script' && el.getAttribute('src') !== '/static/trellis.js') problems.push('a script element');
    if (tag === 'svg' && !el.closest('figure.chart-card')) problems.push('an svg outside the analytics charts');
    for (const { name, value } of Array.from(el.attributes)) {
      const n = name.toLowerCase();
      if (!attrs.includes(n) && !n.startsWith('aria-') && !n.startsWith('data-')) {
        problems.push(`unexpected attribute ${n} on <${tag}>`);
      }
      if (n === 'href' || n === 'src' || n === 'action') {
        const v = value.trim();
        if ((v.startsWith('/') && !v.startsWith('//')) || v.startsWith('#')) continue;
        let url = null;
        try { url = new URL(v); } catch (_) { /* not absolute */ }
        const linked = url && tag === 'a' && n === 'href' && el.closest('.message-body')
          && (url.protocol === 'https:' || url.protocol === 'http:')
          && hosts.some((h) => url.hostname === h || url.hostname.endsWith(`.${h}`))
          && /\bnoopener\b/.test(el.getAttribute('rel') || '');
        if (!linked) problems.push(`<${tag} ${n}="${v.slice(0, 80)}">`);
      }
    }
  }
  return problems;
}

// Installed in every frame before any page script.
function installHook() {
  for (const name of ['__xss', 'alert', 'confirm', 'prompt', 'print']) {
    window[name] = function () {
      const args = Array.from(arguments, String);
      try { window.__xssReport({ name, args }); } catch (_) { /* the binding reports to the test */ }
    };
  }
}

// ---- the server, the browser and who is signed in -------------------------------------------

let server;
let base;
let browser;
let serverEnv;
const state = { ok: false };
const sessions = new Map();
const cspProblems = [];
const coverage = new Map(); // field -> Set of payload ids that went through it
const visited = new Map(); // role -> Set of pages checked
let checks = 0;
let htmlResponses = 0;

function cover(field, payloads) {
  if (!coverage.has(field)) coverage.set(field, new Set());
  for (const p of payloads) {
    const found = PAYLOADS.find((x) => x.payload === p);
    if (found) coverage.get(field).add(found.id);
  }
}

function checkCsp(url, status, headers) {
  const type = headers['content-type'] || '';
  if (!type.startsWith('text/html') || !url.startsWith(base)) return; // (e-mails are served from elsewhere)
  htmlResponses++;
  const csp = headers['content-security-policy'];
  if (!csp || csp.includes('unsafe-inline') || !csp.includes("script-src 'self'") || !csp.includes("default-src 'none'")
    || !csp.includes("object-src 'none'") || !csp.includes("base-uri 'none'")) {
    cspProblems.push(`${status} ${url}: ${csp}`);
  }
}

function testPolicies() {
  const dir = mkdtempSync(join(tmpdir(), 'trellis-xss-policies-'));
  cpSync(join(helpers.repoRoot, 'policies'), dir, { recursive: true });
  const file = join(dir, 'programme.toml');
  let toml = readFileSync(file, 'utf8');
  const set = (pattern, value) => { assert.match(toml, pattern); toml = toml.replace(pattern, value); };
  // Hundreds of payload messages from one sender in a few seconds.
  set(/^max_per_minute = \d+$/m, 'max_per_minute = 100000');
  set(/^max_per_hour = \d+$/m, 'max_per_hour = 1000000');
  // No quiet hours (start = end), so students' e-mails with their survey links go out at once.
  set(/^start = "\d\d:\d\d"$/m, 'start = "00:00"');
  set(/^end = "\d\d:\d\d"$/m, 'end = "00:00"');
  writeFileSync(file, toml);
  return dir;
}

function runTrellis(args, extraEnv = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(helpers.trellisBin, [...args, '--database', server.databaseUrl], {
      cwd: server.dir,
      env: { ...process.env, ...serverEnv, ...extraEnv },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => { out += d; });
    child.stderr.on('data', (d) => { err += d; });
    child.on('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`trellis ${args.slice(0, 2).join(' ')}: ${code} ${err}`))));
  });
}

async function pool(items, width, fn) {
  const results = new Array(items.length);
  let next = 0;
  await Promise.all(Array.from({ length: width }, async (_, worker) => {
    while (next < items.length) {
      const k = next++;
      results[k] = await fn(items[k], k, worker);
    }
  }));
  return results;
}

/// Packs `items` into at most `slots` texts of at most `max` code points each (joined by new
/// lines), spread evenly (or, with `fill`, as full as `max` allows), for fields that exist only
/// a few times or are short. Returns the texts, the items in each, and what fitted nowhere.
function pack(items, slots, max, { fill = false, measure = codePoints } = {}) {
  const per = fill ? Infinity : Math.ceil(items.length / slots);
  const groups = [];
  let current = [];
  const left = [];
  for (const item of items) {
    if (current.length > 0 && (current.length >= per || measure([...current, item].join('\n')) > max)) {
      groups.push(current);
      current = [];
    }
    if (groups.length >= slots || measure(item) > max) { left.push(item); continue; }
    current.push(item);
  }
  if (current.length > 0) groups.push(current);
  return { texts: groups.map((g) => g.join('\n')), groups, fitted: groups.flat(), left };
}

function attach(session, page) {
  page.on('response', (r) => checkCsp(r.url(), r.status(), r.headers()));
  page.on('dialog', (d) => {
    session.hits.push({ name: `dialog:${d.type()}`, args: [d.message()], url: page.url() });
    d.dismiss().catch(() => {});
  });
}

async function newSession(who, { password, anonymous = false } = {}) {
  const hits = [];
  const session = { who, hits };
  const prepare = async (context) => {
    await context.addInitScript(installHook);
    await context.exposeBinding('__xssReport', (source, call) => hits.push({ ...call, url: source.frame.url() }));
    context.on('page', (page) => attach(session, page));
  };
  if (anonymous) {
    const context = await browser.newContext({ bypassCSP: true });
    await prepare(context);
    const page = await context.newPage();
    const errors = [];
    page.on('pageerror', (e) => errors.push(e.message));
    Object.assign(session, { context, page, errors, anonymous: true });
  } else {
    Object.assign(session, await helpers.signIn(browser, base, who, {
      password, contextOptions: { bypassCSP: true }, prepare,
    }));
    session.csrf = await session.page.locator('input[name=csrf_token]').first().inputValue();
  }
  return session;
}

async function as(who) {
  if (!sessions.has(who)) sessions.set(who, await newSession(who));
  return sessions.get(who);
}

const role = (who) => who.replace(/\d+$/, '');

/// Checks the page `session` shows now; `expected` are texts that must be visible.
async function check(session, label, expected = []) {
  const { page } = session;
  // Image errors run before the load event; let autofocus, animations and timers happen too.
  await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(() => setTimeout(r, 30)))));
  const problems = [];
  const hits = session.hits.splice(0);
  if (hits.length) problems.push(`script ran: ${JSON.stringify(hits.slice(0, 5))}`);
  const errors = session.errors.splice(0);
  if (errors.length) problems.push(`page errors: ${errors.slice(0, 5).join(' | ')}`);
  for (const frame of page.frames()) {
    if (frame !== page.mainFrame()) problems.push(`a frame: ${frame.url()}`);
  }
  problems.push(...(await page.evaluate(scanDom, DOM_RULES)).slice(0, 10));
  if (expected.length) {
    const text = normalize(await page.evaluate(() => document.documentElement.textContent));
    const missing = [...new Set(expected.map(normalize))].filter((e) => e && !text.includes(e));
    if (missing.length) problems.push(`${missing.length} planted texts not visible, e.g. ${JSON.stringify(missing.slice(0, 3))}`);
  }
  const csp = cspProblems.splice(0);
  if (csp.length) problems.push(`responses without a strict CSP: ${csp.slice(0, 3).join(' | ')}`);
  assert.deepEqual(problems, [], `${session.who}: ${label}`);
  checks++;
  const r = session.anonymous ? 'anonymous' : session.who.includes('@') ? 'coordinator named by a payload' : role(session.who);
  if (!visited.has(r)) visited.set(r, new Set());
  visited.get(r).add(label.replace(/\?.*/, '').replace(/[0-9a-f]{8}-[0-9a-f-]{27}|[0-9a-f]{64}/g, '{id}'));
}

async function visit(session, path, expected = [], status = 200) {
  const response = await session.page.goto(`${base}${path}`);
  assert.equal(response.status(), status, `${session.who} GET ${path}`);
  await check(session, path, expected);
}

/// Posts a form the way the page's own form does (same fields, CSRF token, session cookie).
/// A 500 is tried again (counted and reported): under concurrent writes SQLite can answer
/// "database is locked", and the whole transaction was rolled back.
let retried500 = 0;
let screenedOut = 0; // goals and answer notes the pipeline refused (never stored)
async function post(session, path, fields, expected = [303]) {
  let response;
  for (let attempt = 0; attempt < 4; attempt++) {
    response = await session.context.request.post(`${base}${path}`, {
      form: { csrf_token: session.csrf, ...fields }, maxRedirects: 0,
    });
    checkCsp(response.url(), response.status(), response.headers());
    if (response.status() !== 500 || expected.includes(500)) break;
    retried500++;
    await new Promise((r) => setTimeout(r, 250));
  }
  if (!expected.includes(response.status())) {
    assert.fail(`${session.who} POST ${path}: ${response.status()} ${(await response.text()).slice(0, 400)}`);
  }
  return response;
}

/// Submits a form built in the page (text areas keep new lines), and waits for the answer page.
async function submitInPage(session, action, fields) {
  const { page } = session;
  const [response] = await Promise.all([
    page.waitForNavigation(),
    page.evaluate(({ action, fields }) => {
      const form = document.createElement('form');
      form.method = 'post';
      form.action = action;
      for (const [name, value] of Object.entries(fields)) {
        const input = document.createElement('textarea');
        input.name = name;
        input.value = value;
        form.append(input);
      }
      document.body.append(form);
      form.submit();
    }, { action, fields }),
  ]);
  return response;
}

const tokens = new Map();
async function api(who, method, path, body) {
  if (!tokens.has(who)) {
    const r = await fetch(`${base}/api/v1/tokens`, {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: `${who}@demo.trellis.test`, password: helpers.PASSWORD }),
    });
    assert.equal(r.status, 201, `token for ${who}`);
    tokens.set(who, await r.json());
  }
  const r = await fetch(`${base}/api/v1${path}`, {
    method,
    headers: { authorization: `Bearer ${tokens.get(who).token}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await r.text();
  return { status: r.status, body: text ? JSON.parse(text) : null };
}
const userId = async (who) => { await api(who, 'GET', '/me'); return tokens.get(who).user.id; };

// ---- what was planted, and who should see it --------------------------------------------------

const planted = {
  messages: [], // { conversation, sender, text, status, delivered }
  goals: [], // texts: titles, descriptions and progress notes
  requests: [], // { text, status, delivered }
  responseNotes: [],
  requestRejections: [], // groups of payloads, each one reviewer's note
  escalationNotes: [],
  resolutionNotes: [],
  pauseReasons: [],
  surveyAnswers: [],
  names: [],
};
const ids = {};

function messagesFor(conversation, viewer) {
  const staff = viewer === 'teacher' || viewer === 'coordinator';
  return planted.messages.filter((m) => m.conversation === conversation).flatMap((m) => {
    if (staff || m.sender === viewer) return [m.text];
    return m.status === 'delivered' || m.status === 'redacted' ? [m.delivered] : [];
  });
}

async function send(who, conversation, text) {
  let r;
  for (let attempt = 0; attempt < 4; attempt++) {
    r = await api(who, 'POST', `/conversations/${conversation}/messages`, { text });
    if (r.status !== 500) break;
    // "database is locked": if the message was stored before the failure, it is there, pending.
    retried500++;
    const stored = (await api(who, 'GET', `/conversations/${conversation}/messages`)).body.messages
      .find((m) => m.mine && m.text === text);
    if (stored) {
      planted.messages.push({ conversation, sender: who, text, status: stored.status, delivered: stored.status === 'delivered' ? text : null, id: stored.id });
      return stored;
    }
  }
  assert.equal(r.status, 201, `${who} sends: ${JSON.stringify(r.body)}`);
  planted.messages.push({ conversation, sender: who, text, status: r.body.status, delivered: r.body.delivered_text, id: r.body.id });
  return r.body;
}

/// The delivered e-mails: address, subject and HTML part (quoted-printable or base64 decoded).
function mails() {
  const dir = join(server.dir, 'mail');
  if (!existsSync(dir)) return [];
  return readdirSync(dir).filter((f) => f.endsWith('.eml')).map((file) => {
    const raw = readFileSync(join(dir, file), 'utf8');
    const header = (name) => new RegExp(`^${name}: (.+)$`, 'm').exec(raw)?.[1]?.trim();
    const boundary = /boundary="([^"]+)"/.exec(raw)?.[1];
    const part = (boundary ? raw.split(`--${boundary}`) : [raw]).find((p) => /^Content-Type: text\/html/im.test(p)) ?? '';
    const body = part.replace(/^[\s\S]*?\r?\n\r?\n/, '');
    let html;
    if (/^Content-Transfer-Encoding: base64/im.test(part)) html = Buffer.from(body, 'base64').toString('utf8');
    else if (/^Content-Transfer-Encoding: quoted-printable/im.test(part)) {
      const qp = body.replace(/=\r?\n/g, '');
      const bytes = [];
      for (let i = 0; i < qp.length; i++) {
        if (qp[i] === '=' && /^[0-9A-F]{2}$/.test(qp.slice(i + 1, i + 3))) { bytes.push(parseInt(qp.slice(i + 1, i + 3), 16)); i += 2; } else bytes.push(...Buffer.from(qp[i]));
      }
      html = Buffer.from(bytes).toString('utf8');
    } else html = body;
    return { to: header('To'), subject: header('Subject'), html };
  });
}

function mailLinks() {
  const dir = join(server.dir, 'mail');
  const links = [];
  if (!existsSync(dir)) return links;
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.eml'))) {
    const raw = readFileSync(join(dir, file), 'utf8').replace(/=\r?\n/g, '');
    const to = /^To: (.+)$/m.exec(raw)?.[1]?.trim();
    for (const m of raw.matchAll(/\/(consent|surveys)\/([A-Za-z0-9_-]+)/g)) links.push({ to, kind: m[1], path: `/${m[1]}/${m[2]}` });
  }
  return links;
}

// ---- the tests ------------------------------------------------------------------------------------

before(async () => {
  serverEnv = {
    TRELLIS_POLICIES_DIR: testPolicies(),
    // Every payload is also tried as an e-mail address at the sign-in form.
    TRELLIS_LOGIN_MAX_FAILURES: '100000',
    TRELLIS_LOG: 'error',
  };
  server = await helpers.startServer({ env: serverEnv });
  serverEnv = { ...serverEnv, TRELLIS_DATA_DIR: server.dir, TRELLIS_MODELS_DIR: join(helpers.repoRoot, 'models') };
  base = server.base;
  browser = await helpers.launchBrowser();
});

after(async () => {
  for (const s of sessions.values()) await s.context.close().catch(() => {});
  if (browser) await browser.close();
  if (server) await server.stop();
  if (serverEnv?.TRELLIS_POLICIES_DIR) rmSync(serverEnv.TRELLIS_POLICIES_DIR, { recursive: true, force: true });
});

test('controls: the hook sees a script, and the CSP stops an inline handler', async () => {
  // With the CSP bypassed (as the payload pages are opened), injected markup runs and is seen.
  const s = await newSession('anonymous', { anonymous: true });
  await s.page.goto(`${base}/login`);
  await s.page.evaluate(() => { document.body.insertAdjacentHTML('beforeend', '<img src="/nothing" onerror="__xss(0)">'); });
  await s.page.waitForTimeout(300);
  assert.deepEqual(s.hits.map((h) => h.name), ['__xss'], 'the hook records a payload that runs');
  s.hits.length = 0;
  await s.page.evaluate(() => { window.alert('x'); window.print(); });
  assert.deepEqual(s.hits.map((h) => h.name), ['alert', 'print']);
  s.hits.length = 0;
  assert.ok((await s.page.evaluate(scanDom, DOM_RULES)).some((p) => p.includes('onerror')), 'the DOM scan sees a handler');
  await s.context.close();

  // With the CSP enforced, the same inline handler is refused.
  const hits = [];
  const context = await browser.newContext();
  await context.addInitScript(installHook);
  await context.exposeBinding('__xssReport', (_, call) => hits.push(call));
  const page = await context.newPage();
  const violations = [];
  page.on('console', (m) => { if (/Content Security Policy/.test(m.text())) violations.push(m.text()); });
  await page.goto(`${base}/login`);
  await page.evaluate(() => { document.body.insertAdjacentHTML('beforeend', '<img src="/nothing" onerror="__xss(0)">'); });
  await page.waitForTimeout(300);
  assert.deepEqual(hits, [], 'the CSP blocked the inline handler');
  assert.ok(violations.length > 0, 'the browser reported the CSP violation');
  await context.close();
  cspProblems.length = 0;
});

test('plant every payload in every field users can write', async (t) => {
  const started = Date.now();
  const lap = (what) => t.diagnostic(`${what}: ${((Date.now() - started) / 1000).toFixed(1)} s`);
  ids.student3 = await userId('student3');
  ids.mentor3 = await userId('mentor3');
  const c1 = (await api('student1', 'GET', '/conversations')).body.conversations[0];
  const c2 = (await api('student2', 'GET', '/conversations')).body.conversations[0];
  ids.c1 = c1.id;
  ids.match1 = c1.match_id;
  ids.c2 = c2.id;

  // 1. Pair 2 closes first (its survey e-mails are queued before the hundreds that follow):
  //    the guardian pauses it with a reason, then the coordinator ends it with a reason.
  const pauses = pack(ALL, 3, 1000);
  const guardian2 = await as('guardian2');
  await post(guardian2, `/conversations/${ids.c2}/pause`, { reason: pauses.texts[0] });
  planted.pauseReasons.push(pauses.texts[0]);
  cover('guardian pause reason', pauses.groups[0]);
  const coordinator = await as('coordinator');
  const ends = pack(ALL, 1, 1000); // the form's limit
  await post(coordinator, `/conversations/${ids.c2}/end`, { reason: ends.texts[0] });
  cover('end-of-mentorship reason (stored, not shown)', ends.fitted);
  lap('pair 2 paused and ended');

  // 2. Mentor requests: the student writes one per payload (moderated like a message); the
  //    mentor declines each with a note (a payload). One that moderation holds is withdrawn
  //    (held requests get their own turn below).
  const student3 = await as('student3');
  const mentor3 = await as('mentor3');
  const existing = (await api('student3', 'GET', '/requests')).body.requests.filter((r) => r.status === 'open');
  for (const r of existing) await post(mentor3, '/mentoring', { action: 'decline', request_id: r.id, message: 'Not this time, sorry.' });
  for (const [k, payload] of ALL.entries()) {
    const text = codePoints(payload.trim()) >= 10 ? payload : `Request: ${payload}`;
    const r = await api('student3', 'POST', '/requests', { mentor_id: ids.mentor3, message: text });
    if (r.status === 400) { // blocked by moderation: kept as "cancelled", shown to the student
      planted.requests.push({ text, status: 'cancelled' });
      continue;
    }
    assert.equal(r.status, 201, JSON.stringify(r.body));
    planted.requests.push({ text, status: r.body.status, id: r.body.id });
    if (r.body.status === 'open') {
      const note = ALL[k];
      // The note is screened like a message; one the pipeline would not deliver is refused.
      const answer = await post(mentor3, '/mentoring', { action: 'decline', request_id: r.body.id, message: note }, [303, 400]);
      if (answer.status() === 303) {
        planted.responseNotes.push(note);
      } else {
        screenedOut++;
        await post(mentor3, '/mentoring', { action: 'decline', request_id: r.body.id, message: 'Not this time, sorry.' });
      }
    } else if (r.body.status === 'awaiting_review') {
      assert.equal((await api('student3', 'POST', `/requests/${r.body.id}/withdraw`)).status, 204);
      planted.requests.at(-1).status = 'withdrawn';
    }
  }
  // What the mentor was shown of each request (a redacted one is masked).
  const shown = new Map((await api('mentor3', 'GET', '/requests')).body.requests.map((x) => [x.id, x.text]));
  for (const r of planted.requests) r.delivered = shown.get(r.id) ?? null;
  cover('mentor request message', ALL);
  cover('mentor answer note', planted.responseNotes);

  // A phone number gets a request held for a reviewer. The teacher rejects some with a note
  // (it is e-mailed to the student); two stay in the review queue, one per mentor (a student
  // may have one waiting request per mentor, two at most).
  const teacher = await as('teacher');
  const heldPrefix = 'my cell is 587 555 0123, text me after school\n';
  const requestNotes = pack(ALL, Infinity, 2000, { fill: true });
  for (const note of requestNotes.texts) {
    const r = await api('student3', 'POST', '/requests', { mentor_id: ids.mentor3, message: `${heldPrefix}please say yes` });
    assert.equal(r.body.status, 'awaiting_review', JSON.stringify(r.body));
    await post(teacher, `/review/requests/${r.body.id}`, { decision: 'reject', note });
    planted.requests.push({ text: r.body.text, status: 'cancelled', id: r.body.id });
  }
  planted.requestRejections.push(...requestNotes.groups);
  cover('reviewer note on a held request (e-mailed)', requestNotes.fitted);
  const queued = pack(ALL, 2, 4000 - codePoints(heldPrefix));
  for (const [k, group] of queued.texts.entries()) {
    const mentor = k === 0 ? ids.mentor3 : await userId('mentor2');
    const r = await api('student3', 'POST', '/requests', { mentor_id: mentor, message: heldPrefix + group });
    assert.equal(r.body.status, 'awaiting_review', JSON.stringify(r.body));
    planted.requests.push({ text: heldPrefix + group, status: 'awaiting_review', id: r.body.id, held: true });
  }
  cover('held mentor request (review queue)', queued.fitted);
  lap(`${ALL.length} requests`);

  // 3. A manual match of student 3 and mentor 3 (with a note), signed by both: the guardian is
  //    e-mailed a consent link.
  const notes = pack(ALL, 1, 2000); // the form's limit
  await post(coordinator, '/mentoring', { action: 'manual_match', student_id: ids.student3, mentor_id: ids.mentor3, note: notes.texts[0] });
  cover('manual match note (stored, not shown)', notes.fitted);
  const panel = await (await student3.context.request.get(`${base}/mentoring`)).text();
  ids.match3 = /name="match_id" value="([0-9a-f-]{36})"/.exec(panel)[1];
  await post(student3, '/mentoring', { action: 'sign', match_id: ids.match3 });
  await post(mentor3, '/mentoring', { action: 'sign', match_id: ids.match3 });

  // 4. Deliver the e-mail now (one pass of the jobs worker, as often as needed).
  let links = [];
  for (let i = 0; i < 20; i++) {
    await runTrellis(['jobs', 'run']);
    links = mailLinks();
    if (links.some((l) => l.kind === 'consent') && links.filter((l) => l.kind === 'surveys').length >= 3) break;
  }
  const consent = links.find((l) => l.kind === 'consent' && l.to === 'guardian2@demo.trellis.test');
  assert.ok(consent, 'the consent e-mail reached guardian 2');
  lap('e-mail delivered');

  // The e-mails with the reviewers' notes, opened in the browser like a web-mail client would.
  const notices = mails().filter((m) => m.subject === 'Your mentor request was not sent');
  assert.equal(notices.length, planted.requestRejections.length, 'one e-mail per rejected request');
  const reader = await newSession('anonymous', { anonymous: true });
  await reader.page.route('http://mail.invalid/**', (route) => route.fulfill({
    contentType: 'text/html; charset=utf-8', body: notices[Number(new URL(route.request().url()).pathname.slice(1))].html,
  }));
  for (const [k, notice] of notices.entries()) {
    await reader.page.goto(`http://mail.invalid/${k}`);
    await reader.page.evaluate(() => new Promise((r) => requestAnimationFrame(() => setTimeout(r, 30))));
    const problems = await reader.page.evaluate(() => Array.from(document.querySelectorAll('*')).flatMap((el) => {
      const tag = el.tagName.toLowerCase();
      const bad = ['html', 'head', 'body', 'p', 'a', 'ul', 'li', 'strong'].includes(tag) ? [] : [`<${tag}>`];
      for (const a of el.attributes) {
        if (!['href', 'style'].includes(a.name) || (a.name === 'href' && !/^https?:\/\//.test(a.value))) bad.push(`${tag} ${a.name}=${a.value.slice(0, 60)}`);
      }
      return bad;
    }));
    const text = normalize(await reader.page.evaluate(() => document.body.textContent));
    const group = planted.requestRejections.find((g) => g.every((p) => text.includes(normalize(p))));
    assert.deepEqual([...problems, ...reader.hits.splice(0).map((h) => `script ran: ${h.name}`)], [], `e-mail ${k}`);
    assert.ok(group, `e-mail ${k} shows a reviewer's note as text`);
  }
  await reader.context.close();

  // 5. The guardian consents on the real page, with a reason (stored, not shown).
  const consentReasons = pack(ALL, 1, 1000);
  await visit(guardian2, consent.path, []);
  await guardian2.page.fill('#reason', consentReasons.texts[0]);
  await Promise.all([guardian2.page.waitForNavigation(), guardian2.page.click('button[value=give]')]);
  await check(guardian2, '/consent/{token} (answered)', ['The mentorship has started.']);
  cover('consent reason (stored, not shown)', consentReasons.fitted);
  ids.c3 = (await api('student3', 'GET', '/conversations')).body.conversations.find((c) => c.match_id === ids.match3).id;

  // 6. Closure surveys of pair 2, on the real form: two free-text answers each.
  const answers = pack(ALL, 6, 2000);
  let slot = 0;
  for (const who of ['student2', 'mentor2', 'guardian2']) {
    const link = links.find((l) => l.kind === 'surveys' && l.to === `${who}@demo.trellis.test`);
    assert.ok(link, `a survey e-mail reached ${who}`);
    const s = await as(who);
    await visit(s, link.path);
    await s.page.selectOption('#rating', '4');
    for (const field of ['#went_well', '#improve']) {
      const text = answers.texts[slot++] ?? 'fine';
      await s.page.fill(field, text);
    }
    await Promise.all([s.page.waitForURL(`${base}/dashboard`), s.page.click('main button[type=submit]')]);
    await check(s, '/dashboard (after the survey)');
  }
  planted.surveyAnswers.push(...answers.fitted);
  cover('closure survey answers', answers.fitted);
  lap('consent and surveys');

  // 7. Conversation 1, one payload per message: the student sends each; the mentor sends each
  //    next to a phone number, so it is held for review. (The mentor's delivered payloads go to
  //    conversation 3 in the live-update test below.)
  const jobs = [];
  for (const payload of ALL) {
    jobs.push(['student1', payload], ['mentor1', `my cell is 587 555 0123, text me after school ${payload}`]);
  }
  await pool(jobs, 4, ([who, text]) => send(who, ids.c1, text));
  cover('message, student to mentor', ALL);
  cover('message, mentor to student, held for review', ALL);
  const held = planted.messages.filter((m) => m.status === 'held');
  t.diagnostic(`messages: ${planted.messages.length}, held ${held.length}, redacted ${planted.messages.filter((m) => m.status === 'redacted').length}, blocked ${planted.messages.filter((m) => m.status === 'blocked').length}`);
  lap('messages');

  // 8. The teacher escalates every held message with a note (it becomes the alert's summary),
  //    then rejects half of them with notes (stored; the sender is told in general words).
  // (the teacher signed in above)
  const escalations = pack(ALL, held.length, 2000);
  await pool(held.slice(0, escalations.texts.length), 1, async (m, k) => {
    await post(teacher, `/review/${m.id}`, { decision: 'escalate', note: escalations.texts[k] });
  });
  planted.escalationNotes.push(...escalations.texts);
  cover('reviewer escalation note', escalations.fitted);
  const rejected = held.slice(0, Math.floor(held.length / 2));
  const rejections = pack(ALL, rejected.length, 2000);
  await pool(rejected.slice(0, rejections.texts.length), 1, async (m, k) => {
    await post(teacher, `/review/${m.id}`, { decision: 'reject', note: rejections.texts[k] });
    m.status = 'rejected';
  });
  cover('reviewer rejection note (stored, not shown)', rejections.fitted);
  ids.stillHeld = held.filter((m) => m.status === 'held').map((m) => m.text);
  lap('reviews');

  // 9. Reports with reasons, from each kind of reader (the reason is stored; the alert names
  //    only who reported what).
  const reasons = pack(ALL, 10, 2000);
  const fromMentor = (await api('student1', 'GET', `/conversations/${ids.c1}/messages`)).body.messages.filter((m) => !m.mine);
  const fromStudent = planted.messages.filter((m) => m.sender === 'student1' && m.status === 'delivered');
  const reporters = [['student1', fromMentor[0]], ['student1', fromMentor[1]], ['mentor1', fromStudent[0]],
    ['mentor1', fromStudent[1]], ['guardian1'], ['guardian1'], ['teacher'], ['teacher', fromStudent[2]],
    ['coordinator'], ['coordinator', fromMentor[2]]];
  for (const [k, reason] of reasons.texts.entries()) {
    const [who, message] = reporters[k];
    await post(await as(who), `/conversations/${ids.c1}/reports`, message ? { message_id: message.id, reason } : { reason });
  }
  cover('report reason (stored, not shown)', reasons.fitted);

  // 10. Goals of pair 1, on the mentoring form: a goal per payload (title and details), written
  //     in turn by the student and the mentor, each with a progress note by the other.
  const student1 = await as('student1');
  const mentor1 = await as('mentor1');
  // Goals pass the moderation pipeline; a payload it would not deliver unchanged (a link that
  // is not allow-listed, say) is refused with a 400 and never stored.
  await pool(ALL.map((p, k) => [p, k]), 3, async ([payload, k]) => {
    const r = await post(k % 2 ? mentor1 : student1, '/mentoring', { action: 'goal', match_id: ids.match1, title: payload, description: payload, target_date: '' }, [303, 400]);
    if (r.status() === 400) screenedOut++;
  });
  const goals = (await api('student1', 'GET', `/matches/${ids.match1}/goals`)).body;
  const goalList = Array.isArray(goals) ? goals : goals.goals;
  const goalPayloads = ALL.filter((p) => goalList.some((g) => g.title === p.trim()));
  assert.ok(goalPayloads.length >= ALL.length / 2, `most goals were created (${goalPayloads.length})`);
  const notePayloads = [];
  await pool(goalPayloads.map((p, k) => [p, k]), 3, async ([payload, k]) => {
    const goal = goalList.find((g) => g.title === payload.trim());
    const r = await post(k % 2 ? student1 : mentor1, '/mentoring', { action: 'goal_update', goal_id: goal.id, note: payload }, [303, 400]);
    if (r.status() === 303) notePayloads.push(payload); else screenedOut++;
  });
  planted.goals.push(...goalPayloads);
  cover('goal title', goalPayloads);
  cover('goal details', goalPayloads);
  cover('goal progress note', notePayloads);
  console.log(`# goals and answer notes refused by moderation (not stored): ${screenedOut}`);
  // A forged status is refused, not stored.
  await post(student1, '/mentoring', { action: 'goal_update', goal_id: goalList[0].id, status: ALL[0] }, [400]);
  lap('goals');

  // 11. The coordinator resolves about half of the alerts, each with a note.
  const alerts = (await api('coordinator', 'GET', '/alerts')).body.alerts.filter((a) => a.status !== 'resolved');
  const resolutions = pack(ALL, Math.ceil(alerts.length / 2), 2000);
  await pool(resolutions.texts.map((note, k) => [alerts[k], note]), 1, async ([alert, note]) => {
    await post(coordinator, `/alerts/${alert.id}/resolve`, { note });
  });
  planted.resolutionNotes.push(...resolutions.texts);
  cover('alert resolution note', resolutions.fitted);
  t.diagnostic(`alerts: ${alerts.length}, resolved with notes ${resolutions.texts.length}`);
  lap('alerts');

  // 12. Display names: only `trellis user create --name` sets them. One coordinator account per
  //     payload that is a valid name; each signs in (its name is in the page header) and reads a
  //     conversation, so its name is in the access log.
  const passwordFile = join(server.dir, 'names-password');
  writeFileSync(passwordFile, 'xss-names-password-2026\n');
  // A name is at most 100 characters, and a NUL cannot be passed on a command line. Each account
  // costs two password hashes, so short payloads share a name.
  const nameable = ALL.filter((p) => p.trim() && codePoints(p.trim()) <= 100 && !p.includes('\u0000'));
  const names = pack(nameable.map((p) => p.trim()), Infinity, 100, { fill: true }).groups
    .map((group, k) => ({ id: k + 1, payload: group.join(' ') }));
  await pool(names, 3, async (p) => {
    const email = `xss-name-${p.id}@names.trellis.test`;
    for (let attempt = 0; ; attempt++) {
      try {
        // No model needed to create an account (and not loading it is faster).
        await runTrellis(['user', 'create', '--role', 'coordinator', '--email', email, `--name=${p.payload}`,
          '--password-file', passwordFile], { TRELLIS_MODELS_DIR: join(server.dir, 'no-model-needed') });
        return;
      } catch (e) {
        if (/already exists/.test(e.message)) return;
        if (attempt >= 3) throw e;
        retried500++; // "database is locked" while the server writes too
      }
    }
  });
  lap(`${names.length} accounts created`);
  const readers = await Promise.all([0, 1, 2].map(() => newSession('anonymous', { anonymous: true })));
  await pool(names, 3, async (p, _, worker) => {
    const s = readers[worker];
    s.who = `xss-name-${p.id}@names.trellis.test`;
    await s.context.clearCookies();
    await s.page.goto(`${base}/login`);
    await s.page.fill('#email', s.who);
    await s.page.fill('#password', 'xss-names-password-2026');
    await Promise.all([s.page.waitForURL(`${base}/dashboard`), s.page.click('main button[type=submit]')]);
    s.anonymous = false;
    await check(s, '/dashboard', [p.payload]);
    const r = await s.context.request.get(`${base}/conversations/${ids.c2}/messages`);
    checkCsp(r.url(), r.status(), r.headers());
    assert.equal(r.status(), 200);
  });
  for (const s of readers) await s.context.close();
  planted.names.push(...names.map((p) => p.payload));
  cover('display name', nameable);
  t.diagnostic(`display names: ${nameable.length} payloads in ${names.length} accounts`);
  lap('names');
  state.ok = true;
});

test('reflected input: sign-in form, message draft, questionnaire', async (t) => {
  assert.ok(state.ok, 'planting failed');
  // These fields are echoed straight back, one value per request, so payloads go in packs (each
  // payload is still inside the one value, in the same HTML context).
  const started = Date.now();
  const lap = (what) => t.diagnostic(`${what}: ${((Date.now() - started) / 1000).toFixed(1)} s`);

  // The post-login target is echoed in a hidden field of the sign-in page (only a same-site
  // path under 512 bytes without a backslash is kept; anything else becomes /dashboard).
  const anonymous = await newSession('anonymous', { anonymous: true });
  const kept = ALL.filter((p) => !p.includes('\\'));
  const nexts = pack(kept, Infinity, 500, { fill: true, measure: (x) => Buffer.byteLength(`/${x}`) });
  assert.deepEqual(nexts.left, []);
  for (const next of [...nexts.texts.map((x) => `/${x}`), ...ALL.filter((p) => p.includes('\\')).map((x) => `/${x}`)]) {
    await visit(anonymous, `/login?next=${encodeURIComponent(next)}`);
    const value = await anonymous.page.locator('input[name=next]').getAttribute('value');
    const safe = !next.startsWith('//') && !next.includes('\\') && Buffer.byteLength(next) < 512;
    assert.equal(normalize(value), normalize(safe ? next : '/dashboard'));
  }
  cover('sign-in "next" (reflected)', ALL);
  lap(`next (${nexts.texts.length} packs)`);

  // A failed sign-in shows the form again with the address typed.
  const emails = pack(ALL, Infinity, 1000, { fill: true });
  await anonymous.page.goto(`${base}/login`);
  for (const email of emails.texts) {
    const csrf = await anonymous.page.locator('input[name=csrf_token]').inputValue();
    const response = await submitInPage(anonymous, '/login', { csrf_token: csrf, email, password: 'not-the-password', next: '/dashboard' });
    assert.equal(response.status(), 401);
    await check(anonymous, 'POST /login (failed)');
    // In an attribute, so compared with the attribute rather than looked for in the text.
    assert.equal(normalize(await anonymous.page.locator('#email').getAttribute('value')), normalize(email));
  }
  await anonymous.context.close();
  cover('sign-in e-mail (reflected)', emails.fitted);
  lap(`e-mail (${emails.texts.length} packs)`);

  // A message that is too long comes back in the send box, so nothing typed is lost.
  const student3 = await as('student3');
  await student3.page.goto(`${base}/conversations/${ids.c3}`);
  const drafts = pack(ALL, Infinity, 3000, { fill: true });
  for (const [k, draft] of drafts.texts.entries()) {
    const response = await submitInPage(student3, `/conversations/${ids.c3}/messages`, {
      csrf_token: student3.csrf, text: `${draft}\n${'x'.repeat(4001)}`,
    });
    assert.equal(response.status(), 400);
    await check(student3, 'POST /conversations/{id}/messages (too long)', drafts.groups[k]);
    assert.ok(normalize(await student3.page.locator('#text').inputValue()).startsWith(normalize(draft)));
  }
  cover('message draft (reflected)', drafts.fitted);
  lap(`draft (${drafts.texts.length} packs)`);

  // Questionnaire answers are choices; a forged answer is refused with an error naming it.
  await student3.page.goto(`${base}/mentoring`);
  const answers = pack(ALL, Infinity, 2000, { fill: true });
  for (const [k, answer] of answers.texts.entries()) {
    const response = await submitInPage(student3, '/mentoring', { csrf_token: student3.csrf, action: 'answers', q_fields: answer });
    assert.equal(response.status(), 400);
    await check(student3, 'POST /mentoring (forged questionnaire answer)', answers.groups[k]);
  }
  cover('questionnaire answer (refused, reflected in the error)', answers.fitted);
  lap(`questionnaire (${answers.texts.length} packs)`);
});

test('live updates: payload messages arrive on an open conversation page', async () => {
  assert.ok(state.ok, 'planting failed');
  const student3 = await as('student3');
  await student3.page.goto(`${base}/conversations/${ids.c3}`);
  await student3.page.waitForTimeout(500); // the EventSource connects
  await student3.page.evaluate(() => { window.__notReloaded = true; });
  await pool(ALL, 4, (payload) => send('mentor3', ids.c3, payload));
  // And a few through the real send box.
  const mentor3 = await as('mentor3');
  await mentor3.page.goto(`${base}/conversations/${ids.c3}`);
  for (const payload of ALL.filter((p) => /textarea|<\/title|<\/script/i.test(p))) {
    await mentor3.page.fill('#text', payload);
    await Promise.all([mentor3.page.waitForURL(/#latest$/), mentor3.page.click('.send-form button[type=submit]')]);
    planted.messages.push({ conversation: ids.c3, sender: 'mentor3', text: payload, status: 'unknown' });
    await check(mentor3, '/conversations/{id} (after sending)', [payload]);
  }
  const visible = planted.messages.filter((m) => m.conversation === ids.c3 && (m.status === 'delivered' || m.status === 'redacted'));
  await student3.page.waitForFunction((n) => document.querySelectorAll('#message-list li.message:not(.message-mine)').length >= n,
    visible.length, { timeout: 30000 });
  assert.equal(await student3.page.evaluate(() => window.__notReloaded), true, 'updated in place');
  await check(student3, '/conversations/{id} (live)', visible.map((m) => m.delivered));
  cover('message, mentor to student, delivered (live update)', ALL);
});

test('every page that shows planted text, as every role that can see it', async (t) => {
  assert.ok(state.ok, 'planting failed');
  const started = Date.now();
  // The second pause reason: the guardian pauses pair 3 (after its live test above).
  const pauses = pack(ALL, 3, 1000);
  const guardian2 = await as('guardian2');
  if (pauses.texts[1]) {
    await post(guardian2, `/conversations/${ids.c3}/pause`, { reason: pauses.texts[1] });
    planted.pauseReasons.push(pauses.texts[1]);
    cover('guardian pause reason', pauses.groups[1]);
  }
  const c1 = `/conversations/${ids.c1}`;
  const c2 = `/conversations/${ids.c2}`;
  const c3 = `/conversations/${ids.c3}`;
  const goalTexts = planted.goals;
  const student3Requests = planted.requests.map((r) => r.text);
  const mentor3Requests = planted.requests.map((r) => r.delivered).filter(Boolean); // as the mentor was shown them
  const heldRequest = planted.requests.filter((r) => r.held).map((r) => r.text);

  const pages = {
    student1: [['/dashboard'], ['/conversations'], [c1, messagesFor(ids.c1, 'student1')], [`${c1}/messages`, messagesFor(ids.c1, 'student1')],
      ['/mentoring', goalTexts]],
    mentor1: [['/dashboard'], ['/conversations'], [c1, messagesFor(ids.c1, 'mentor1')], [`${c1}/messages`, messagesFor(ids.c1, 'mentor1')],
      ['/mentoring', goalTexts]],
    guardian1: [['/dashboard'], ['/conversations'], [c1, messagesFor(ids.c1, 'guardian1')], [`${c1}/messages`, messagesFor(ids.c1, 'guardian1')]],
    student2: [['/dashboard'], ['/conversations'], [c2], ['/mentoring']],
    mentor2: [['/dashboard'], ['/conversations'], [c2], ['/mentoring']],
    guardian2: [['/dashboard'], ['/conversations'], [c2], [c3, messagesFor(ids.c3, 'guardian2')]],
    student3: [['/dashboard'], ['/conversations'], [c3, messagesFor(ids.c3, 'student3')], ['/mentoring', [...student3Requests, ...planted.responseNotes]]],
    mentor3: [['/dashboard'], ['/conversations'], [c3, messagesFor(ids.c3, 'mentor3')], [`${c3}/messages`, messagesFor(ids.c3, 'mentor3')],
      ['/mentoring', [...mentor3Requests, ...planted.responseNotes]]],
    teacher: [['/dashboard'], ['/conversations'], [c1, messagesFor(ids.c1, 'teacher')], [`${c1}/messages`, messagesFor(ids.c1, 'teacher')],
      [c2], [c3, messagesFor(ids.c3, 'teacher')], ['/review', [...ids.stillHeld, ...heldRequest]]],
    coordinator: [['/dashboard'], ['/conversations'], [c1, messagesFor(ids.c1, 'coordinator')], [`${c1}/messages`, messagesFor(ids.c1, 'coordinator')],
      [c2], [c3, messagesFor(ids.c3, 'coordinator')], ['/review', [...ids.stillHeld, ...heldRequest]],
      ['/alerts', [...planted.escalationNotes, ...planted.resolutionNotes, ...planted.pauseReasons]],
      ['/access-log', planted.names], ['/guardians'], ['/analytics'],
      // The answers are shown as the stored JSON; the browser sent the text areas' new lines as CR LF.
      ['/mentoring', planted.surveyAnswers.map((a) => JSON.stringify(a.replace(/\r?\n/g, '\r\n')).slice(1, -1))],
      ['/no-such-page', [], 404]],
  };
  for (const [who, list] of Object.entries(pages)) {
    const s = await as(who);
    for (const [path, expected = [], status = 200] of list) await visit(s, path, expected, status);
  }
  t.diagnostic(`pages: ${((Date.now() - started) / 1000).toFixed(1)} s`);
});

test('control: the same page with its escaping undone is caught', async (t) => {
  assert.ok(state.ok, 'planting failed');
  // Student 1's goals page, with every escape undone on the way to the browser: the payloads
  // become markup, and the checks above must say so.
  const s = await newSession('student1');
  await s.page.route(`${base}/mentoring`, async (route) => {
    const response = await route.fetch();
    const body = (await response.text()).replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"')
      .replace(/&#x27;/g, "'").replace(/&#x2F;/g, '/').replace(/&amp;/g, '&');
    await route.fulfill({ response, body });
  });
  await s.page.goto(`${base}/mentoring`);
  await s.page.waitForTimeout(500);
  const ran = new Set(s.hits.flatMap((h) => (h.name === '__xss' ? h.args : [h.name])));
  await assert.rejects(check(s, '/mentoring (escaping undone on purpose)', planted.goals),
    (e) => /script ran/.test(e.message) && /unexpected|a script element/.test(e.message));
  t.diagnostic(`with the escaping undone, ${ran.size} distinct payloads or dialogs ran`);
  assert.ok(ran.size >= 20);
  await s.context.close();
});

test("a guardian view suspension reason, and a last pause, on the coordinator's pages", async () => {
  assert.ok(state.ok, 'planting failed');
  // The coordinator suspends guardian 2's view of student 3 with a reason (at most 500
  // characters on the form), once per slice of the payloads.
  const coordinator = await as('coordinator');
  await coordinator.page.goto(`${base}/guardians`);
  const row = coordinator.page.locator('tr', { hasText: 'Sasha Student' });
  const action = await row.locator('form').first().getAttribute('action');
  const slices = pack(ALL, Infinity, 500, { fill: true }); // the form's limit
  for (const reason of slices.texts) {
    await post(coordinator, action, { suspend: 'true', reason });
    await visit(coordinator, '/guardians', [reason]);
  }
  cover('guardian view suspension reason', slices.fitted);
  const guardian2 = await as('guardian2');
  await visit(guardian2, '/dashboard');

  // Guardian 1 pauses pair 1 with the third slice of pause reasons; the coordinator sees it.
  const pauses = pack(ALL, 3, 1000);
  if (pauses.texts[2]) {
    await post(await as('guardian1'), `/conversations/${ids.c1}/pause`, { reason: pauses.texts[2] });
    planted.pauseReasons.push(pauses.texts[2]);
    cover('guardian pause reason', pauses.groups[2]);
  }
  await visit(coordinator, '/alerts', planted.pauseReasons);
  await visit(coordinator, '/dashboard');
  await visit(await as('student1'), '/mentoring');
  await visit(await as('guardian1'), `/conversations/${ids.c1}`);
});

test('summary', (t) => {
  assert.ok(state.ok, 'planting failed');
  const fields = [...coverage.entries()].map(([field, set]) => `${field}: ${set.size}/${PAYLOADS.length}`);
  for (const line of fields) t.diagnostic(line);
  for (const [r, pages] of visited) t.diagnostic(`${r}: ${[...pages].sort().join(', ')}`);
  t.diagnostic(`${PAYLOADS.length} payloads, ${coverage.size} fields, ${checks} page checks, ${htmlResponses} HTML responses with a strict CSP`);
  if (retried500) t.diagnostic(`${retried500} form posts answered 500 (SQLite "database is locked") and were tried again`);
  assert.ok(PAYLOADS.length >= 100);
  assert.equal(new Set(ALL).size, ALL.length, 'payloads are unique');
  for (const p of PAYLOADS) {
    for (const m of p.payload.matchAll(/__xss\((\d+)\)/g)) assert.equal(Number(m[1]), p.id, `payload ${p.id} calls the hook with its own number`);
  }
});

test('payloads with a NUL character are refused with a 400 and never stored', async () => {
  assert.ok(state.ok, 'planting failed');
  assert.ok(NUL_PAYLOADS.length > 0);
  for (const payload of NUL_PAYLOADS) {
    const r = await api('student1', 'POST', `/conversations/${ids.c1}/messages`, { text: payload });
    assert.equal(r.status, 400, JSON.stringify(r.body));
  }
});
