// Browser tests: the real server (with demo data) in headless Chromium, driven by playwright-core.
// Run: TRELLIS_BIN=../../target/debug/trellis node --test   (from tests/browser, after `npm ci`)
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as helpers from './helpers.mjs';

let server;
let base;
let browser;

before(async () => {
  server = await helpers.startServer();
  base = server.base;
  browser = await helpers.launchBrowser();
});

after(async () => {
  if (browser) await browser.close();
  if (server) await server.stop();
});

const signIn = (who) => helpers.signIn(browser, base, who);
const conversationUrl = (page) => helpers.conversationUrl(page, base);

test('a mentor sends and the student sees it live, without reloading', async () => {
  const student = await signIn('student1');
  const url = await conversationUrl(student.page);
  await student.page.goto(url);
  // Mark the page: a reload would lose this.
  await student.page.evaluate(() => { window.__notReloaded = true; });
  // Give the EventSource a moment to connect.
  await student.page.waitForTimeout(500);

  const mentor = await signIn('mentor1');
  await mentor.page.goto(url);
  const text = `Great question about trusses ${Date.now()}`;
  await mentor.page.fill('#text', text);
  await Promise.all([mentor.page.waitForURL(/#latest$/), mentor.page.click('.send-form button[type=submit]')]);
  assert.match(await mentor.page.content(), /Message delivered\./);

  await student.page.getByText(text).waitFor({ timeout: 10000 });
  assert.equal(await student.page.evaluate(() => window.__notReloaded), true, 'the page was not reloaded');
  assert.deepEqual(student.errors, []);
  await student.context.close();
  await mentor.context.close();
});

test('a held message is approved by the teacher and reaches the student', async () => {
  const mentor = await signIn('mentor1');
  const url = await conversationUrl(mentor.page);
  await mentor.page.goto(url);
  const secret = '587 555 0123';
  await mentor.page.fill('#text', `my cell is ${secret}, text me after school`);
  await Promise.all([mentor.page.waitForURL(/#latest$/), mentor.page.click('.send-form button[type=submit]')]);
  assert.match(await mentor.page.content(), /waiting for a teacher to review/);

  const student = await signIn('student1');
  await student.page.goto(url);
  assert.doesNotMatch(await student.page.content(), new RegExp(secret));

  const teacher = await signIn('teacher');
  await teacher.page.goto(`${base}/review`);
  const item = teacher.page.locator('article.review-item', { hasText: secret });
  await item.waitFor();
  assert.equal(await item.locator('mark').first().textContent(), secret);
  await Promise.all([teacher.page.waitForURL(`${base}/review`), item.locator('button[value=approve]').click()]);
  assert.match(await teacher.page.content(), /Approved/);

  await student.page.reload();
  await student.page.getByText(secret).first().waitFor();
  await Promise.all([student.context.close(), mentor.context.close(), teacher.context.close()]);
});

test("the guardian's view is read-only", async () => {
  const guardian = await signIn('guardian1');
  const url = await conversationUrl(guardian.page);
  await guardian.page.goto(url);
  assert.equal(await guardian.page.locator('textarea#text').count(), 0, 'no send box');
  assert.equal(await guardian.page.locator('form[action$="/messages"]').count(), 0, 'no send form');
  assert.match(await guardian.page.content(), /read only/);
  assert.match(await guardian.page.content(), /This conversation is supervised\./);
  // Posting anyway (a forged form) is refused.
  const status = await guardian.page.evaluate(async (u) => {
    const token = document.querySelector('input[name=csrf_token]').value;
    const r = await fetch(`${u}/messages`, { method: 'POST', body: new URLSearchParams({ csrf_token: token, text: 'hi' }) });
    return r.status;
  }, url);
  assert.equal(status, 404);
  await guardian.context.close();
});

test('a report reaches the coordinator', async () => {
  const student = await signIn('student1');
  const url = await conversationUrl(student.page);
  await student.page.goto(url);
  const message = student.page.locator('li.message:not(.message-mine)').first();
  await message.locator('details.report summary').click();
  const reason = `This made me uncomfortable ${Date.now()}`;
  await message.locator('textarea[name=reason]').fill(reason);
  await Promise.all([student.page.waitForURL(url), message.locator('button[type=submit]').click()]);
  assert.match(await student.page.content(), /Your report was sent/);

  const coordinator = await signIn('coordinator');
  await coordinator.page.goto(`${base}/alerts`);
  assert.match(await coordinator.page.content(), /A student reported a message\./);
  await Promise.all([student.context.close(), coordinator.context.close()]);
});

test('every page carries the Content-Security-Policy and runs no inline script', async () => {
  const coordinator = await signIn('coordinator');
  for (const path of ['/', '/dashboard', '/conversations', '/review', '/alerts', '/access-log', '/guardians', '/analytics']) {
    const response = await coordinator.page.goto(`${base}${path}`);
    assert.equal(response.status(), 200, path);
    const csp = response.headers()['content-security-policy'];
    assert.ok(csp && csp.includes("script-src 'self'") && !csp.includes('unsafe-inline'), path);
  }
  assert.deepEqual(coordinator.errors, []);
  await coordinator.context.close();
});
