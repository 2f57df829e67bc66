// Driven by console_fleet_test.sh once the cloud runs with one JITR-provisioned kit and 1,000
// simulated devices: the fleet view in headless Debian chromium (playwright-core from the build's
// npm ci). Prints the measured load time (not asserted: tests do not time things) and ends with
// "console fleet: N passed, M failed".
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import path from 'node:path';

const env = (name) => {
  const value = process.env[name];
  if (!value) throw new Error(`environment variable ${name} is not set`);
  return value;
};
const url = env('ZT_CONSOLE_URL');
const base = env('ZT_CONSOLE_BASE');
const thing = env('ZT_THING');
const kitPid = Number(env('ZT_KIT_PID'));
const artifacts = env('ZT_ARTIFACTS');
const require = createRequire(path.join(env('ZT_WEB_DEPS'), 'package.json'));
const { chromium } = require('playwright-core');

const CHROMIUM = '/usr/bin/chromium';
if (!existsSync(CHROMIUM)) {
  console.error(`FAIL: ${CHROMIUM} is missing: run tools/setup.sh (apt-get install chromium)`);
  process.exit(1);
}
const DEVICES = 1001; // the kit + 1,000 simulated
const MAX_ROWS = 60; // the list's viewport shows 16 rows; 10 above and below are pre-rendered

let passed = 0;
let failed = 0;
function check(what, condition, detail = '') {
  if (condition) passed++;
  else {
    failed++;
    console.log(`FAIL: ${what}${detail ? ': ' + detail : ''}`);
  }
}
async function until(what, probe, seconds = 20) {
  const deadline = Date.now() + seconds * 1000;
  let last;
  while (Date.now() < deadline) {
    try {
      last = await probe();
      if (last) return last;
    } catch (e) {
      last = e.message;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  check(what, false, `not within ${seconds} s (last: ${JSON.stringify(last)})`);
  return null;
}

const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu'] });
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(url); // the one-time login link: sets the session cookie
  await page.waitForSelector('#thing-name', { timeout: 15000 });

  // --- 1,001 devices: load, CA count, bounded DOM while scrolling --------------------------
  const started = Date.now();
  await page.goto(base + '/console/#/fleet');
  await page.waitForSelector('[data-testid="fleet-row"]', { timeout: 20000 });
  const loadMs = Date.now() - started;
  await until('total shows 1,001 devices', async () => /1,001 devices/.test(await page.textContent('#fleet-total')));
  console.log(`fleet view: first rows of ${DEVICES} devices after ${loadMs} ms`);
  await until('CA row counts 1,001 devices', async () => (await page.textContent('[data-testid="ca-devices"]')) === String(DEVICES));
  const rowCount = () => page.locator('[data-testid="fleet-row"]').count();
  const initialRows = await rowCount();
  check('only the rows in view are in the DOM', initialRows > 10 && initialRows <= MAX_ROWS, `${initialRows}`);
  await page.screenshot({ path: path.join(artifacts, 'fleet-1-list.png'), fullPage: true });

  const scrolledMs = [];
  for (const fraction of [0.5, 1, 0.25]) {
    const t0 = Date.now();
    await page.$eval('#fleet-list', (list, f) => { list.scrollTop = (list.scrollHeight - list.clientHeight) * f; }, fraction);
    const expectIndex = fraction === 1 ? DEVICES - 1 : Math.floor((DEVICES - 16) * fraction);
    await until(`rows near index ${expectIndex} rendered after scrolling`, async () =>
      page.$$eval('[data-testid="fleet-row"]', (rows, i) => rows.some((r) => Math.abs(Number(r.dataset.index) - i) <= 20), expectIndex));
    scrolledMs.push(Date.now() - t0);
    const rows = await rowCount();
    check(`DOM rows stay bounded at ${fraction * 100}% scrolled`, rows <= MAX_ROWS, `${rows}`);
  }
  console.log(`fleet view: scroll to 50%/100%/25% rendered in ${scrolledMs.join('/')} ms`);
  await page.$eval('#fleet-list', (list) => { list.scrollTop = list.scrollHeight; });
  await until('the last row (index 1000) is rendered', async () =>
    page.$$eval('[data-testid="fleet-row"]', (rows) => rows.some((r) => r.dataset.index === '1000')));
  await page.screenshot({ path: path.join(artifacts, 'fleet-2-scrolled.png'), fullPage: true });
  const clickable = await page.evaluate(async () => {
    const t0 = performance.now();
    await new Promise((r) => requestAnimationFrame(() => r()));
    return performance.now() - t0;
  });
  check('the page still answers (a frame within 1 s)', clickable < 1000, `${clickable} ms`);

  // --- The kit: search, timeline in order, device page link --------------------------------
  await page.fill('#fleet-search', thing.slice(0, 12).toUpperCase()); // case-insensitive
  await until('search finds the kit alone', async () => /^1 device$/.test(await page.textContent('#fleet-total')));
  const row = page.locator(`[data-testid="fleet-row"][data-thing="${thing}"]`);
  await until('the kit row is listed', async () => (await row.count()) === 1);
  check('the kit is ACTIVE and connected', /ACTIVE/.test(await row.textContent()) && (await row.locator('[data-connected]').getAttribute('data-connected')) === 'true');
  await row.click();
  const story = ['connect-refused', 'registration-event', 'rule-matched', 'function-invoked', 'thing-created', 'policy-attached', 'principal-attached', 'certificate-active', 'function-succeeded', 'connected', 'subscribed'];
  const kinds = await until('the timeline tells the JITR story', async () => {
    const found = await page.$$eval('#timeline li[data-kind]', (items) => items.map((i) => i.dataset.kind));
    return story.every((k) => found.includes(k)) ? found : null;
  });
  if (kinds) {
    const positions = story.map((k) => kinds.indexOf(k));
    check('timeline order: refused → event → rule → function → thing, policy → ACTIVE → connected', positions.every((p, i) => i === 0 || p > positions[i - 1]), kinds.join(', '));
    check('first event is the certificate registration', kinds[0] === 'certificate-registered', kinds[0]);
  }
  await page.screenshot({ path: path.join(artifacts, 'fleet-3-timeline.png'), fullPage: true });

  // --- Invocations: the JITR function succeeded, Broken failed and was retried -------------
  await until('invocation log lists the JITR function', async () =>
    page.$$eval('[data-testid="invocation-row"]', (rows) => rows.some((r) => r.textContent.includes('ZTLambdaJITR') && r.dataset.status === 'succeeded')));
  await until('Broken failed three times (two retries)', async () => {
    await page.uncheck('#failed-only');
    await page.check('#failed-only');
    await page.waitForTimeout(300);
    const rows = await page.$$eval('[data-testid="invocation-row"]', (r) => r.map((x) => [x.dataset.status, x.textContent]));
    return rows.length === 3 && rows.every(([status, text]) => status === 'failed' && text.includes('Broken') && text.includes('no such table'));
  }, 30);
  await page.screenshot({ path: path.join(artifacts, 'fleet-4-failed-invocations.png'), fullPage: true });

  // --- Live: the kit stops → the row and the timeline follow the fleet-wide stream ----------
  process.kill(kitPid, 'SIGTERM');
  await until('the row turns disconnected without a reload', async () =>
    (await page.locator(`[data-testid="fleet-row"][data-thing="${thing}"] [data-connected]`).getAttribute('data-connected')) === 'false', 20);
  await until('the timeline ends with disconnected', async () =>
    (await page.$$eval('#timeline li[data-kind]', (items) => items.map((i) => i.dataset.kind))).at(-1) === 'disconnected', 20);

  await page.click('#device-link');
  await until('the device page opens from the timeline', async () => page.url().endsWith(`#/device/${thing}`));
  check('no JavaScript errors on the page', errors.length === 0, errors.join('; '));
} finally {
  await browser.close();
}
console.log(`console fleet: ${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
