// Driven by console_browser_test.sh once the cloud and a provisioned emulated kit run: checks the
// console's HTTP guards with plain requests, then the device page in headless Debian chromium
// (playwright-core from the build's npm ci). Ends with "console browser: N passed, M failed".
import { createRequire } from 'node:module';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';

const env = (name) => {
  const value = process.env[name];
  if (!value) throw new Error(`environment variable ${name} is not set`);
  return value;
};
const url = env('ZT_CONSOLE_URL');
const base = env('ZT_CONSOLE_BASE');
const thing = env('ZT_THING');
const kitDir = env('ZT_KIT_DIR');
const artifacts = env('ZT_ARTIFACTS');
const cloudDir = env('ZT_CLOUD_DIR');
const ztp = env('ZTP');
const require = createRequire(path.join(env('ZT_WEB_DEPS'), 'package.json'));
const { chromium } = require('playwright-core');

const CHROMIUM = '/usr/bin/chromium';
if (!existsSync(CHROMIUM)) {
  console.error(`FAIL: ${CHROMIUM} is missing: run tools/setup.sh (apt-get install chromium)`);
  process.exit(1);
}

let passed = 0;
let failed = 0;
function check(what, condition, detail = '') {
  if (condition) passed++;
  else {
    failed++;
    console.log(`FAIL: ${what}${detail ? ': ' + detail : ''}`);
  }
}

// A raw request: the path goes out exactly as written (fetch would normalise "..").
function raw(method, rawPath, { headers = {}, body } = {}) {
  const { hostname, port } = new URL(base);
  return new Promise((resolve, reject) => {
    const request = http.request({ host: hostname, port, method, path: rawPath, headers }, (response) => {
      let text = '';
      response.setEncoding('utf8');
      response.on('data', (chunk) => (text += chunk));
      response.on('end', () => resolve({ status: response.statusCode, headers: response.headers, body: text }));
    });
    request.on('error', reject);
    request.setTimeout(10000, () => request.destroy(new Error('timeout')));
    if (body !== undefined) request.write(body);
    request.end();
  });
}

function credentials() {
  const text = readFileSync(path.join(cloudDir, 'credentials'), 'utf8');
  const id = /aws_access_key_id\s*=\s*(\S+)/.exec(text)[1];
  const secret = /aws_secret_access_key\s*=\s*(\S+)/.exec(text)[1];
  return { id, secret };
}

async function until(what, probe, seconds = 20) {
  const deadline = Date.now() + seconds * 1000;
  let last;
  while (Date.now() < deadline) {
    try {
      last = await probe();
      if (last) {
        check(what, true);
        return last;
      }
    } catch (e) {
      last = e.message;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  check(what, false, `not within ${seconds} s (last: ${JSON.stringify(last)})`);
  return null;
}

function kitLeds() {
  return JSON.parse(execFileSync(ztp, ['kit', 'leds', '--kit-dir', kitDir], { encoding: 'utf8' }));
}

function shadow() {
  const out = path.join(artifacts, 'shadow.json');
  execFileSync('/usr/bin/aws', ['--endpoint-url', base, 'iot-data', 'get-thing-shadow', '--thing-name', thing, out], { encoding: 'utf8' });
  return JSON.parse(readFileSync(out, 'utf8'));
}

// --- The guards, without a browser ----------------------------------------------------------
const device = `/console/api/devices/${thing}`;
check('API without login is 401', (await raw('GET', device)).status === 401);
check('stream without login is 401', (await raw('GET', `/console/api/stream?thing=${thing}`)).status === 401);
const { id, secret } = credentials();
const json = { 'Content-Type': 'application/json', 'X-ZT-Console': '1' };
const bad = await raw('POST', '/console/api/login', { headers: json, body: JSON.stringify({ accessKeyId: id, secretAccessKey: secret + 'x' }) });
check('bad credentials refused (401)', bad.status === 401 && !bad.headers['set-cookie'], `${bad.status}`);
for (const traversal of ['/console/assets/../../registry.db', '/console/assets/..%2f..%2fregistry.db', '/console/assets/%2e%2e/%2e%2e/credentials', '/console/../credentials']) {
  const r = await raw('GET', traversal);
  check(`path traversal refused: ${traversal}`, r.status === 404 && !r.body.includes('aws_secret'), `${r.status}`);
}
const good = await raw('POST', '/console/api/login', { headers: json, body: JSON.stringify({ accessKeyId: id, secretAccessKey: secret }) });
const cookie = (good.headers['set-cookie'] || [''])[0].split(';')[0];
check('login with the local credentials sets an HttpOnly cookie', good.status === 200 && /HttpOnly/.test(good.headers['set-cookie'] || ''));
const noCsrf = await raw('POST', `${device}/desired`, { headers: { Cookie: cookie, 'Content-Type': 'application/json' }, body: '{"led3":"on"}' });
check('state change without X-ZT-Console is refused (403)', noCsrf.status === 403, `${noCsrf.status}`);
check('LED3 untouched by the refused request', kitLeds().led3 === 'off');

// --- The device page in chromium ------------------------------------------------------------
const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu'] });
try {
  const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
  const consoleErrors = [];
  page.on('pageerror', (e) => consoleErrors.push(e.message));
  await page.goto(url);
  check('the login link lands on the device page', page.url().endsWith(`/console/#/device/${thing}`), page.url());
  await page.waitForSelector('#thing-name', { timeout: 15000 });
  await until('page shows the device connected', async () => (await page.textContent('#connection')) === 'connected');
  await until('virtual board visible', async () => page.isVisible('#virtual-board'));
  await until('OLED shows the cloud state', async () => /AWS: connected/.test(await page.textContent('#oled')));
  await page.screenshot({ path: path.join(artifacts, '1-device-page.png'), fullPage: true });

  const led2 = page.locator('[data-testid="led-checkbox-2"]');
  check('LED2 starts unticked', !(await led2.isChecked()));
  await led2.check();
  await until('virtual board shows LED2 on', async () => (await page.getAttribute('[data-testid="board-led-2"]', 'data-state')) === 'on');
  await until('ztp kit leds shows LED2 on', async () => kitLeds().led2 === 'on');
  await until('message log shows the delta', async () => /shadow\/update\/delta/.test(await page.textContent('#message-log')));
  await page.screenshot({ path: path.join(artifacts, '2-led2-on.png'), fullPage: true });
  await page.reload();
  await page.waitForSelector('#thing-name', { timeout: 15000 });
  await until('LED2 still ticked after a reload', async () => page.locator('[data-testid="led-checkbox-2"]').isChecked());

  const indicator = '[data-testid="button-indicator-3"]';
  await until('button 3 indicator known', async () => (await page.getAttribute(indicator, 'data-state')) === 'up');
  const before = shadow().state.reported.button3;
  await page.click('[data-testid="board-button-3"]');
  await until('button 3 indicator changes to down', async () => (await page.getAttribute(indicator, 'data-state')) === 'down');
  await until('reported.button3 changes in the shadow', async () => shadow().state.reported.button3 !== before && shadow().state.reported.button3 === 'down');
  await until('virtual board shows button 3 down', async () => (await page.getAttribute('[data-testid="board-button-3"]', 'data-state')) === 'down');
  await page.screenshot({ path: path.join(artifacts, '3-button3-pressed.png'), fullPage: true });

  // Unticking goes back through the shadow too.
  await page.locator('[data-testid="led-checkbox-2"]').uncheck();
  await until('LED2 off again on the kit', async () => kitLeds().led2 === 'off');
  check('no JavaScript errors on the page', consoleErrors.length === 0, consoleErrors.join('; '));
} finally {
  await browser.close();
}

console.log(`console browser: ${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
