/// <reference lib="dom" />
// The status page in a real browser (issue 18): headless Chromium (Debian's `chromium`,
// installed by .ci/run) driven by puppeteer-core. With rustlb and two servers: the page
// loads with no console error and no failed request, lists both servers up; a server that
// stops shows as down with its reason without a reload of the page; traffic moves the
// request-rate chart; reloads (rejected, accepted) show; an action with the token drains a
// server; it fits a phone. Screenshots go to test/output/ for a person to look at.
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import {
  FAST_CHECK,
  freePort,
  frontend,
  get,
  type HttpUpstream,
  type LbConfig,
  ROOT,
  RustlbProcess,
  startHttpUpstream,
  TestPki,
  waitFor,
  webPool,
} from '@rustlb/testkit';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';

/** Debian's chromium package; .ci/run installs it. A missing browser fails the test: it is not skipped. */
const CHROMIUM = '/usr/bin/chromium';
const OUTPUT = process.env.RUSTLB_TEST_OUTPUT ?? join(ROOT, 'test', 'output');
const TOKEN = 'browser-test-token-0123456789';
/** Health checks every 200 ms, two failures to go down: "a few health intervals". */
const HEALTH = FAST_CHECK;

let a: HttpUpstream;
let b: HttpUpstream;
let lb: RustlbProcess;
let web: number;
/** Kept: a closed upstream has no address any more. */
let aAddress: string;
let bAddress: string;
let browser: Browser;
let page: Page;
/** The CA of the certificate a test adds; its files stay until the end (the configuration names them). */
let pki: TestPki | undefined;
const consoleErrors: string[] = [];
const failedRequests: string[] = [];

function config(weight = 1): LbConfig {
  return webPool(web, [{ address: aAddress, weight }, bAddress], { global: { admin: { status_actions: true, token: TOKEN } }, health_check_defaults: HEALTH });
}

before(async () => {
  assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is missing: install Debian's chromium package (apt-get install -y chromium; .ci/run does)`);
  a = await startHttpUpstream('a');
  b = await startHttpUpstream('b');
  aAddress = a.address;
  bAddress = b.address;
  web = await freePort();
  lb = await RustlbProcess.start({ config: config(), args: ['--no-watch'] });
  browser = await puppeteer.launch({
    executablePath: CHROMIUM,
    headless: true,
    // Root in a container: no sandbox; no GPU; /dev/shm may be small.
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--no-first-run', '--no-default-browser-check'],
  });
  page = await browser.newPage();
  await page.setViewport({ width: 1280, height: 800 });
  // Anything the Content-Security-Policy blocks (Chromium also logs it as a console error).
  await page.evaluateOnNewDocument(() => {
    const w = window as unknown as { cspViolations: string[] };
    w.cspViolations = [];
    document.addEventListener('securitypolicyviolation', (e) => w.cspViolations.push(`${e.violatedDirective} ${e.blockedURI}`));
  });
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warn') consoleErrors.push(`${m.type()}: ${m.text()}`);
  });
  page.on('pageerror', (err) => consoleErrors.push(`pageerror: ${String(err)}`));
  page.on('requestfailed', (r) => failedRequests.push(`${r.url()}: ${r.failure()?.errorText}`));
  page.on('response', (r) => {
    if (r.status() >= 400) failedRequests.push(`${r.url()}: HTTP ${r.status()}`);
  });
  mkdirSync(OUTPUT, { recursive: true });
});

after(async () => {
  await browser?.close();
  await lb?.dispose();
  await Promise.all([a?.close(), b?.close()]);
  pki?.dispose();
});

const url = () => `http://127.0.0.1:${lb.metricsPort}/status`;

/** Health of each server row, as the page shows it. */
function rows(): Promise<Record<string, { health: string; state: string; text: string }>> {
  return page.$$eval('table.servers tr[data-server]', (trs) =>
    Object.fromEntries(
      trs.map((tr) => {
        const el = tr as HTMLElement;
        // biome-ignore lint/performance/useDomNodeTextContent: the rendered text is what is checked
        return [el.dataset.server ?? '', { health: el.dataset.health ?? '', state: el.dataset.state ?? '', text: el.innerText }];
      }),
    ),
  );
}

/** The text a person sees in `selector`: laid out, with the spaces between cells (which textContent lacks). */
function visible(selector: string): Promise<string> {
  // biome-ignore lint/performance/useDomNodeTextContent: the rendered text is what is checked
  return page.$eval(selector, (e) => (e as HTMLElement).innerText);
}

/** Polls the page (no reload) until `check` holds. */
async function until<T>(check: () => Promise<T>, what: string, timeoutMs = 10_000): Promise<NonNullable<T>> {
  return waitFor(check, what, timeoutMs, 100);
}

test('the page loads with no console error and no failed request, and lists both servers up', async () => {
  const response = await page.goto(url(), { waitUntil: 'load' });
  assert.equal(response?.status(), 200);
  await page.waitForSelector('body[data-live="yes"]', { timeout: 10_000 });
  const servers = await until(async () => {
    const r = await rows();
    return Object.keys(r).length === 2 && Object.values(r).every((x) => x.health === 'up') ? r : null;
  }, 'both servers up');
  assert.deepEqual(Object.keys(servers).sort(), [`pool/${aAddress}`, `pool/${bAddress}`].sort());
  assert.match(await visible('#process'), /generation\s*1\b/);
  assert.equal(await page.$$eval('#workers tbody tr', (trs) => trs.length), 2);
  assert.equal(await page.$$eval('[data-frontend="web"] canvas', (c) => c.length > 0), true, 'the frontend chart is drawn (uPlot)');
  // Marks this document: still there later means the page was never reloaded.
  await page.evaluate(() => {
    (window as unknown as { loadedOnce: number }).loadedOnce = 1;
  });
  assert.deepEqual(consoleErrors, []);
  assert.deepEqual(failedRequests, []);
});

test('a server that stops shows as down with its reason, within a few health intervals, without a reload', async () => {
  const key = `pool/${bAddress}`;
  const started = Date.now();
  await b.close();
  const row = await until(async () => {
    const r = (await rows())[key];
    return r?.health === 'down' ? r : null;
  }, `${key} down on the page`);
  assert.ok(Date.now() - started < 8_000, `shown down after ${Date.now() - started} ms`);
  assert.match(row.text, /down/);
  assert.match(row.text, /refused|ECONNREFUSED/i, row.text);
  assert.equal((await rows())[`pool/${aAddress}`]?.health, 'up');
  // One row per server, in the servers table (nothing rendered twice, nothing stale elsewhere).
  assert.equal(await page.$$eval('tr[data-server]', (trs) => trs.length), 2);
  assert.match(await page.$eval('[data-backend="pool"] h3', (e) => e.textContent ?? ''), /1 of 2 up/);
  assert.equal(await page.evaluate(() => (window as unknown as { loadedOnce?: number }).loadedOnce), 1);
});

test('traffic moves the request-rate chart', async () => {
  const chart = '[data-frontend="web"] [data-chart="rate"]';
  const pixels = () => page.$eval(`${chart} canvas`, (c) => (c as HTMLCanvasElement).toDataURL());
  const before = await pixels();
  const lastRate = () => page.$eval(chart, (e) => Number((e as HTMLElement).dataset.last || '0'));
  assert.equal(await lastRate(), 0);
  // Requests until the page shows a rate (bounded: 15 s).
  let sent = 0;
  const deadline = Date.now() + 15_000;
  while ((await lastRate()) <= 0 && Date.now() < deadline) {
    for (let i = 0; i < 10; i++) {
      const r = await get(web, { path: '/' });
      assert.equal(r.status, 200);
      sent++;
    }
  }
  assert.ok((await lastRate()) > 0, `request rate shown after ${sent} requests`);
  assert.notEqual(await pixels(), before, 'the chart was redrawn with the traffic');
  assert.match(await visible('[data-frontend="web"] dl'), /requests\s*\d+/);
  // The history is kept: one point per update so far (the page holds 5 minutes).
  const [points, updates] = (await page.$eval(chart, (e) => [
    Number((e as HTMLElement).dataset.points),
    Number((document.body as HTMLElement).dataset.updates),
  ])) as [number, number];
  assert.ok(points >= 2 && points >= updates - 1 && points <= updates, `${points} points for ${updates} updates`);
  // p50 of the backend, from the merged histogram.
  await until(async () => /p50\s*[\d.]+\s+(ms|µs)/.test(await visible('[data-backend="pool"] dl')), 'p50 shown');
});

test('per server: req/s, 4xx/s and 5xx/s, p50 and p99, with a small chart each, move under traffic', async () => {
  const key = `pool/${aAddress}`;
  const row = `tr[data-server="${key}"]`;
  const charts = `tr[data-server-charts="${key}"]`;
  a.handler = (req, res) => {
    const status = (req.url ?? '').startsWith('/missing') ? 404 : (req.url ?? '').startsWith('/fail') ? 503 : 200;
    res.writeHead(status, { 'content-type': 'text/plain' });
    res.end(`a ${status}\n`);
  };
  const figures = () =>
    page.$eval(row, (tr) => {
      const cell = (name: string) => tr.querySelector(`td[data-figure="${name}"]`)?.textContent ?? '';
      return { rate: cell('rate'), e4: cell('e4'), e5: cell('e5'), p50: cell('p50'), p99: cell('p99') };
    });
  const pixels = (chart: string) => page.$eval(`${charts} [data-chart="${chart}"] canvas`, (c) => (c as HTMLCanvasElement).toDataURL());
  const lastOf = (chart: string) => page.$eval(`${charts} [data-chart="${chart}"]`, (e) => Number((e as HTMLElement).dataset.last || '0'));
  // Both charts are there from the start, uPlot's; marked to see they are kept, not redrawn from scratch.
  await page.$$eval(`${charts} canvas`, (cs) => {
    for (const c of cs) (c as HTMLCanvasElement).dataset.kept = 'yes';
  });
  assert.equal(await page.$$eval(`${charts} canvas[data-kept]`, (cs) => cs.length), 2);
  const before = { rate: await pixels('server-rate'), latency: await pixels('server-latency') };
  const idle = await figures();
  assert.ok(['0', '–'].includes(idle.e5), `no 5xx yet: ${JSON.stringify(idle)}`);
  const moving = (f: Awaited<ReturnType<typeof figures>>) =>
    Number(f.rate) > 0 && Number(f.e4) > 0 && Number(f.e5) > 0 && /^[\d.]+ (ms|µs)$/.test(f.p50) && /^[\d.]+ (ms|µs)$/.test(f.p99);
  // Traffic with 404s and 503s from a (b is down) until the row shows it all (bounded: 15 s).
  let sent = 0;
  const deadline = Date.now() + 15_000;
  while (!moving(await figures()) && Date.now() < deadline) {
    for (const path of ['/', '/', '/', '/', '/', '/', '/missing', '/fail']) {
      await get(web, { path });
      sent++;
    }
  }
  const f = await figures();
  assert.ok(moving(f), `per-server figures after ${sent} requests: ${JSON.stringify(f)}`);
  assert.ok(Number(f.e4) < Number(f.rate) && Number(f.e5) < Number(f.rate), JSON.stringify(f));
  assert.ok((await lastOf('server-rate')) > 0, 'the request-rate chart has the rate');
  assert.ok((await lastOf('server-latency')) > 0, 'the latency chart has p50');
  assert.notEqual(await pixels('server-rate'), before.rate, 'the rate chart was redrawn with the traffic');
  assert.notEqual(await pixels('server-latency'), before.latency, 'the latency chart was redrawn with the traffic');
  assert.equal(await page.$$eval(`${charts} canvas[data-kept]`, (cs) => cs.length), 2, 'the same two charts, kept across updates');
  // The server that is down answered nothing.
  const down = await page.$eval(`tr[data-server="pool/${bAddress}"]`, (tr) => Array.from(tr.querySelectorAll('td[data-figure]'), (td) => td.textContent));
  assert.deepEqual(down, ['0', '0', '0', '–', '–']);
  // The page's figures are status.json's per-server counters: a answered every request of the backend.
  const json = JSON.parse((await get(lb.metricsPort, { path: '/status.json' })).text) as {
    backends: { name: string; requests: number; servers: { server: string; requests: number; responses: Record<string, number> }[] }[];
  };
  const pool = json.backends.find((x) => x.name === 'pool');
  const served = pool?.servers.find((v) => v.server === key);
  assert.ok(
    served !== undefined && served.requests >= sent && (served.responses['5xx'] ?? 0) > 0 && (served.responses['4xx'] ?? 0) > 0,
    JSON.stringify(served),
  );
  assert.equal(pool?.servers.find((v) => v.server === `pool/${bAddress}`)?.requests, 0);
});

test('p50 and p99 are those of the requests between two measurements (as histogram_quantile), rates per second', async () => {
  const got = await page.evaluate(() => {
    type H = { bounds: number[]; counts: number[]; count: number; sum: number };
    const s = (window as unknown as { rustlbStatus: { quantile(q: number, now: H, then: H | null): number | null; rate: (...a: unknown[]) => number | null } })
      .rustlbStatus;
    const bounds = [0.001, 0.01, 0.1, 1];
    // Before: 10 requests under 1 ms. Then 100 more: 50 under 1 ms, 40 in (1, 10] ms, 9 in (10, 100] ms, 1 over 1 s.
    const then = { bounds, counts: [10, 10, 10, 10, 10], count: 10, sum: 0.005 };
    const now = { bounds, counts: [60, 100, 109, 109, 110], count: 110, sum: 3 };
    const samples = (t: number, requests: number) => ({ t, d: { requests } });
    return {
      p50: s.quantile(0.5, now, then),
      p90: s.quantile(0.9, now, then),
      p99: s.quantile(0.99, now, then),
      p999: s.quantile(0.999, now, then),
      none: s.quantile(0.5, then, then),
      rate: s.rate(samples(12, 130), samples(10, 100), (d: { requests: number }) => d.requests),
      reset: s.rate(samples(12, 5), samples(10, 100), (d: { requests: number }) => d.requests),
    };
  });
  // rank 50 of 100: the last of the 50 in the first bucket.
  assert.ok(Math.abs((got.p50 ?? -1) - 0.001) < 1e-12, String(got.p50));
  // rank 90: 40 into the (1 ms, 10 ms] bucket of 40, i.e. its top.
  assert.ok(Math.abs((got.p90 ?? -1) - 0.01) < 1e-12, String(got.p90));
  // rank 99: 9 of the 9 in (10 ms, 100 ms].
  assert.ok(Math.abs((got.p99 ?? -1) - 0.1) < 1e-12, String(got.p99));
  // In +Inf: the highest finite bound, as Prometheus answers.
  assert.equal(got.p999, 1);
  assert.equal(got.none, null);
  assert.equal(got.rate, 15);
  assert.equal(got.reset, null, 'a counter that went back (a restart) gives no rate');
});

test('a rejected reload shows its error; an accepted one the new generation, without a reload of the page', async () => {
  lb.writeConfig({ ...config(), frontends: [frontend('web', web, 'nowhere')] });
  const bad = await lb.ctl(['reload']);
  assert.notEqual(bad.code, 0);
  await page.waitForSelector('#reload[data-result="rejected"]', { timeout: 10_000 });
  assert.match(await visible('#reload'), /rejected[\s\S]*nowhere/);
  lb.writeConfig(config(3));
  const good = await lb.ctl(['reload']);
  assert.equal(good.code, 0, good.stderr);
  await page.waitForSelector('#process[data-generation="2"]', { timeout: 10_000 });
  assert.match(await visible('#reload'), /accepted[\s\S]*generation 2/);
  await until(
    async () => (await page.$$eval('#workers tbody tr', (trs) => trs.map((t) => t.children[3]?.textContent))).every((g) => g === '2'),
    'workers at generation 2',
  );
  assert.match((await rows())[`pool/${aAddress}`]?.text ?? '', /\b3\b/, 'the new weight');
  assert.equal(await page.evaluate(() => (window as unknown as { loadedOnce?: number }).loadedOnce), 1);
});

test('drain from the page, with the token and a confirmation, goes through rustlb-ctl’s command', async () => {
  const key = `pool/${aAddress}`;
  await page.type('#token', TOKEN);
  let confirmed = '';
  page.once('dialog', (d) => {
    confirmed = d.message();
    void d.accept();
  });
  await page.click(`tr[data-server="${key}"] button[data-action="drain"]`);
  await until(async () => ((await rows())[key]?.state === 'drain' ? true : null), 'drain shown');
  assert.equal(confirmed, `drain ${key}?`);
  const status = await lb.ctl(['status', '--json']);
  const parsed = JSON.parse(status.stdout) as { backends: { servers: { server: string; state: string }[] }[] };
  assert.equal(parsed.backends[0]?.servers.find((s) => s.server === key)?.state, 'drain');
  await lb.waitForLog((l) => l.msg === 'status page action' && l.action === 'drain' && l.server === key, 'the action logged');
  // Dismissed: nothing happens.
  page.once('dialog', (d) => void d.dismiss());
  await page.click(`tr[data-server="${key}"] button[data-action="enable"]`);
  assert.equal((await rows())[key]?.state, 'drain');
  // Back to normal for the screenshot.
  page.once('dialog', (d) => void d.accept());
  await page.click(`tr[data-server="${key}"] button[data-action="enable"]`);
  await until(async () => ((await rows())[key]?.state === 'enabled' ? true : null), 'enabled again');
});

test('the certificates of TLS frontends: none, no section; one added by a reload shows its names, time left (a warning under 14 days) and fingerprint', async () => {
  assert.equal(await page.$eval('#certificates-section', (e) => (e as HTMLElement).hidden), true, 'no TLS frontend, no section');
  pki = await TestPki.create();
  const cert = await pki.server({ dns: ['status.test', 'www.status.test'], name: 'status', days: 10 });
  const fingerprint = new X509Certificate(cert.certPem).fingerprint256;
  const base = config(3);
  lb.writeConfig({
    ...base,
    frontends: [...base.frontends, frontend('secure', await freePort(), 'pool', { tls: { certificates: [{ cert: cert.cert, key: cert.key }] } })],
  });
  const r = await lb.ctl(['reload']);
  assert.equal(r.code, 0, r.stderr);
  await page.waitForSelector('#certificates tr[data-frontend="secure"]', { timeout: 10_000 });
  assert.equal(await page.$eval('#certificates-section', (e) => (e as HTMLElement).hidden), false);
  const row = await visible('#certificates tr[data-frontend="secure"]');
  assert.match(row, /secure\s+status\.test, www\.status\.test\s+in (8d|9d|10d) \d+h /, 'ten days of validity, minus the moments since it was issued');
  assert.ok(row.includes(cert.cert), row);
  assert.equal(await page.$eval('#certificates tr[data-frontend="secure"] td.mono', (e) => e.getAttribute('title')), fingerprint);
  assert.equal(await page.$eval('#certificates tr[data-frontend="secure"] .badge', (e) => e.className), 'badge warn');
  assert.ok(!(await page.content()).includes('PRIVATE KEY'), 'never a key');
  assert.match(await visible('#frontends'), /secure · https:\/\/127\.0\.0\.1:\d+ → pool/, 'a TLS frontend shows as https');
  assert.match(await visible('#frontends'), /web · http:\/\/127\.0\.0\.1:\d+ → pool/);
});

test('screenshots at 1280×800 and on a phone; no console error or failed request all along', async (t) => {
  // Some traffic with errors for the picture: 404s from the upstream.
  a.handler = (req, res) => {
    const status = (req.url ?? '').startsWith('/missing') ? 404 : 200;
    res.writeHead(status, { 'content-type': 'text/plain' });
    res.end(`a ${status}\n`);
  };
  const deadline = Date.now() + 4_000;
  let n = 0;
  while (Date.now() < deadline) {
    await get(web, { path: n % 7 === 0 ? '/missing' : '/' });
    n++;
  }
  const wide = join(OUTPUT, 'status-page.png');
  await page.screenshot({ path: wide, fullPage: true });
  t.diagnostic(`screenshot: ${wide}`);
  // A phone's width (isMobile would reload the page and lose the history it keeps).
  const updates = () => page.$eval('body', (e) => Number((e as HTMLElement).dataset.updates));
  const seen = await updates();
  await page.setViewport({ width: 390, height: 844, deviceScaleFactor: 2 });
  await until(async () => ((await updates()) >= seen + 2 ? true : null), 'two updates at the new size');
  await until(async () => {
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    return overflow <= 0 ? true : null;
  }, 'no horizontal overflow on a phone');
  const phone = join(OUTPUT, 'status-page-phone.png');
  await page.screenshot({ path: phone, fullPage: true });
  t.diagnostic(`screenshot: ${phone}`);
  assert.ok(existsSync(wide) && existsSync(phone));
  assert.deepEqual(await page.evaluate(() => (window as unknown as { cspViolations: string[] }).cspViolations), []);
  assert.deepEqual(consoleErrors, []);
  assert.deepEqual(failedRequests, []);
});
