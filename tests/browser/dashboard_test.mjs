// The dashboard in a real browser: headless Chromium (Debian's chromium)
// driven by playwright-core, against a real coordinator, worker and
// dashboard, three processes talking gRPC and HTTP over loopback.
//
//   BITSWEEP_BIN=build/cli/bitsweep node tests/browser/dashboard_test.mjs
//
// BITSWEEP_SCREENSHOTS=DIR also saves the main views as PNGs there (the
// README's pictures come from docs/images/).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import {chromium} from 'playwright-core';

import {browserPath, browserTest, freePort, waitFor} from './harness.mjs';

const screenshots = process.env.BITSWEEP_SCREENSHOTS || '';
const {dir, start, run, test, finish} = browserTest('bitsweep-dashboard-');
const XSS_NAME = '<img src=x onerror=alert(1)>';

async function dashboardUrl(logName) {
  return waitFor('the dashboard to print its address', () => {
    const text = fs.readFileSync(path.join(dir, logName), 'utf8');
    const m = text.match(/bitsweep dashboard: (http:\/\/\S+)/);
    return m && m[1];
  }, 30);
}

// ------------------------------------------------------------ setup

const coordinatorPort = await freePort();
const coordinator = `127.0.0.1:${coordinatorPort}`;
start(['coordinator', '--listen', coordinator, '--db', 'store.db', '--lease-ttl', '30'], 'coordinator');
await waitFor('the coordinator', () => run(['health', '--coordinator', coordinator]).code === 0, 30);
// The worker starts only once the sweep page is open (first test), so the
// page sees every job queued however slow the browser is to start.
let worker = null;
function startWorker() {
  worker ??= start(['worker', '--coordinator', coordinator, '--slots', '2', '--work-dir', 'work', '--threads', '1'],
                   'worker');
}
start(['dashboard', '--coordinator', coordinator, '--listen', '127.0.0.1:0'], 'dashboard');
const url = await dashboardUrl('dashboard.log');

// A synthetic grid whose jobs take a second each; two seeds per
// configuration for error bars.
fs.writeFileSync(path.join(dir, 'grid.json'), JSON.stringify({
  name: XSS_NAME,
  base: {task: 'synthetic', synthetic: {seconds: 1.0, noise: 0.05}},
  strategy: {kind: 'grid', axes: {'quant.g.method': ['minmax', 'em'], 'quant.g.bits': [1, 2, 4], 'train.seed': [1, 2]}},
}));
const submitted = run(['submit', '--coordinator', coordinator, '--spec', 'grid.json']);
assert.equal(submitted.code, 0, submitted.err);
const gridId = Number(submitted.out.match(/sweep (\d+) submitted/)[1]);

const browser = await chromium.launch({
  executablePath: browserPath,
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
         '--disable-component-update', '--disable-sync'],
});
const page = await browser.newPage({viewport: {width: 1400, height: 1000}});
const dialogs = [];
const pageErrors = [];
page.on('dialog', (d) => { dialogs.push(d.message()); d.dismiss(); });
page.on('pageerror', (e) => pageErrors.push(e.message));

// A fresh load of the view (a hash change alone would keep the last view's
// ready mark, and the same hash would not navigate at all).
async function open(hash) {
  await page.goto('about:blank');
  await page.goto(`${url}${hash}`);
  await page.waitForSelector('body[data-ready]', {timeout: 30000});
}

function cli(...args) {
  const r = run([...args, '--coordinator', coordinator]);
  assert.equal(r.code, 0, `bitsweep ${args.join(' ')}: ${r.err}`);
  return r.out;
}

// ------------------------------------------------------------ tests

test('the sweep page shows every job and rows change state live, without a reload', async () => {
  await open(`#/sweep/${gridId}`);
  await page.evaluate(() => { window.__sameDocument = true; });
  const before = await page.$$eval('#jobs-table tr[data-job]', (rows) => rows.map((r) => [r.dataset.job, r.dataset.state]));
  assert.equal(before.length, 12, 'one row per job');
  assert.deepEqual(before.map(([, state]) => state), Array(12).fill('QUEUED'), 'no worker yet: every job queued');
  startWorker();
  // Rows leave QUEUED and the last one turns SUCCEEDED in place.
  await page.waitForSelector('#jobs-table tr[data-job]:not([data-state="QUEUED"])', {timeout: 60000});
  const watched = before[before.length - 1][0];
  await page.waitForSelector(`#jobs-table tr[data-job="${watched}"][data-state="SUCCEEDED"]`, {timeout: 60000});
  await page.waitForFunction(() => document.querySelector('#sweep-state').textContent.includes('DONE'), null, {timeout: 60000});
  assert.equal(await page.evaluate(() => window.__sameDocument), true, 'the page was not reloaded');
  const after = await page.$$eval('#jobs-table tr[data-job]', (rows) => rows.map((r) => r.dataset.state));
  assert.deepEqual(after, Array(12).fill('SUCCEEDED'));
  if (screenshots) await page.screenshot({path: path.join(screenshots, 'dashboard-sweep.png'), fullPage: true});
});

test('the chart has one point per finished configuration, each with an error bar', async () => {
  await open(`#/sweep/${gridId}`);
  const rows = JSON.parse(cli('results', '--sweep', String(gridId), '--format', 'json'));
  const configs = new Set(rows.map((r) => `${r.method_g}-${r.bits_g}`));
  const chart = await page.evaluate(() => window.bitsweepChart);
  const points = chart.series.flatMap((s) => s.points.map((p) => ({...p, label: s.label})));
  assert.equal(points.length, configs.size);
  for (const p of points) {
    assert.equal(p.n, 2, `two seeds behind ${p.label} ${p.bits}`);
    const values = p.jobs.map((j) => j.value);
    const mean = (values[0] + values[1]) / 2;
    assert.ok(Math.abs(p.mean - mean) < 1e-9);
    assert.ok(Math.abs(p.err - Math.abs(values[0] - values[1]) / Math.SQRT2) < 1e-9, 'the error bar is the std over seeds');
    const fromCli = rows.filter((r) => p.jobs.some((j) => j.job === r.job)).map((r) => r.fid);
    assert.deepEqual([...values].sort((a, b) => a - b), fromCli.sort((a, b) => a - b));
  }
});

test('filtering and sorting give the rows the CLI gives; the CSV equals results --format csv', async () => {
  await open(`#/sweep/${gridId}`);
  await page.fill('#where', 'method_g=em bits_g<=2');
  await page.click('#apply-filter');
  await page.waitForFunction(() => document.querySelectorAll('#results-table tr').length === 5);
  await page.click('#results-table th[data-col="fid"]');
  await page.waitForSelector('#results-table th.sorted-asc[data-col="fid"]');
  const shown = await page.$$eval('#results-table tr', (trs) => trs.slice(1).map((tr) => tr.children[1].textContent));
  const expected = JSON.parse(cli('results', '--sweep', String(gridId), '--where', 'method_g=em', '--where', 'bits_g<=2',
                                  '--sort', 'fid', '--format', 'json'));
  assert.deepEqual(shown, expected.map((r) => String(r.job)));

  const href = await page.getAttribute('#csv', 'href');
  const csv = await page.evaluate(async (h) => (await fetch(h)).text(), href);
  assert.equal(csv, cli('results', '--sweep', String(gridId), '--where', 'method_g=em', '--where', 'bits_g<=2',
                        '--sort', 'fid', '--format', 'csv'));
  const allCsv = await page.evaluate(async (id) => (await fetch(`/api/sweeps/${id}/results?format=csv`)).text(), gridId);
  assert.equal(allCsv, cli('results', '--sweep', String(gridId), '--format', 'csv'));

  await page.fill('#where', 'no_such_column=1');
  await page.click('#apply-filter');
  await page.waitForFunction(() => document.querySelector('#results .error').textContent.includes('no_such_column'));
});

test('a sweep named like markup renders as text', async () => {
  await open('#/');
  const name = await page.textContent(`#sweeps tr[data-sweep="${gridId}"] .sweep-name`);
  assert.equal(name, XSS_NAME);
  await open(`#/sweep/${gridId}`);
  assert.equal(await page.textContent('#sweep-name'), XSS_NAME);
  assert.equal(await page.$$eval('img[src="x"]', (imgs) => imgs.length), 0);
  assert.deepEqual(dialogs, []);
  if (screenshots) {
    await open('#/');
    await page.screenshot({path: path.join(screenshots, 'dashboard-sweeps.png')});
  }
});

test('a job page shows its sample grid and the utilisation the store holds', async () => {
  const classifier = run(['evaluator', 'train', '--dataset', 'fashion-mnist', '--epochs', '1', '--limit', '2000',
                          '--threads', '1', '--out', 'classifier.pt']);
  assert.equal(classifier.code, 0, classifier.err);
  fs.writeFileSync(path.join(dir, 'real.json'), JSON.stringify({
    name: 'tiny-real',
    base: {
      task: 'qgan',
      dataset: {name: 'fashion-mnist', image_size: 32, limit: 1024},
      model: {arch: 'dcgan32', nz: 16, ngf: 8, ndf: 8},
      loss: 'bce',
      quant: {g: {method: 'em', bits: 2}, d: {method: 'none', bits: 32}},
      train: {iterations: 20, batch_size: 32, seed: 7, log_every: 1},
      eval: {evaluator: {kind: 'classifier', path: path.join(dir, 'classifier.pt')}, metrics: ['fid', 'is', 'kid'],
             num_samples: 256},
      runtime: {device: 'cpu', threads: 1},
    },
    strategy: {kind: 'grid', axes: {'quant.g.bits': [1, 2]}},
  }));
  const out = run(['submit', '--coordinator', coordinator, '--spec', 'real.json', '--watch']);
  assert.equal(out.code, 0, out.err);
  const sweepId = Number(out.out.match(/sweep (\d+) submitted/)[1]);
  const jobs = JSON.parse(cli('results', '--sweep', String(sweepId), '--format', 'json'));
  const job = jobs.find((r) => r.bits_g === 2).job;

  await open(`#/job/${job}`);
  await page.waitForFunction(() => {
    const img = document.querySelector('#samples');
    return img && img.complete && img.naturalWidth > 0;
  }, null, {timeout: 30000});
  const size = await page.$eval('#samples', (img) => [img.naturalWidth, img.naturalHeight]);
  assert.ok(size[0] > 0 && size[1] > 0);
  const shown = await page.$$eval('#job-layers td[data-layer]', (tds) => tds.map((td) => [td.dataset.layer, td.textContent]));
  const stored = JSON.parse(cli('query', '--format', 'json',
      `SELECT json_extract(result_json, '$.quantization.g') AS g FROM jobs WHERE id = ${job}`))[0].g;
  const layers = JSON.parse(stored);
  assert.equal(shown.length, layers.length);
  assert.ok(layers.length > 0);
  layers.forEach((l, i) => assert.deepEqual(shown[i], [`G.${l.layer}`, l.utilisation.toFixed(3)]));
  if (screenshots) await page.screenshot({path: path.join(screenshots, 'dashboard-job.png'), fullPage: true});

  await open(`#/sweep/${sweepId}`);
  await page.waitForSelector('#utilisation td.cell');
  const heat = await page.$$eval('#utilisation tr', (trs) => trs.length);
  assert.equal(heat, 1 + layers.length, 'one heat-map row per layer');

  await open(`#/compare/${jobs.map((r) => r.job).join(',')}`);
  await page.waitForFunction((n) => [...document.querySelectorAll('#compare img.samples')]
      .filter((img) => img.complete && img.naturalWidth > 0).length === n, jobs.length, {timeout: 30000});
  if (screenshots) await page.screenshot({path: path.join(screenshots, 'dashboard-compare.png')});
});

test('the workers view lists the live worker', async () => {
  await open('#/workers');
  const rows = await page.$$eval('#workers tr[data-worker]', (trs) => trs.map((tr) => tr.textContent));
  assert.equal(rows.length, 1);
  assert.match(rows[0], /alive/);
});

test('the dashboard refuses a non-loopback address unless told, and a port in use', async () => {
  const refused = run(['dashboard', '--coordinator', coordinator, '--listen', '0.0.0.0:0']);
  assert.notEqual(refused.code, 0);
  assert.match(refused.err, /--allow-remote/);
  const taken = run(['dashboard', '--coordinator', coordinator, '--listen', new URL(url).host]);
  assert.notEqual(taken.code, 0, 'a second dashboard must not share the port');
  assert.match(taken.err, /cannot listen on/);
  const bad = run(['dashboard', '--coordinator', coordinator, '--listen', 'localhost']);
  assert.notEqual(bad.code, 0);
  assert.match(bad.err, /HOST:PORT/);
});

test('a dashboard new to a sweep pages its jobs from the coordinator, the rows its own copy then gives', async () => {
  start(['dashboard', '--coordinator', coordinator, '--listen', '127.0.0.1:0'], 'dashboard-fresh');
  const fresh = new URL(await dashboardUrl('dashboard-fresh.log')).origin;
  const jobsPage = async (query) => {
    const r = await fetch(`${fresh}/api/sweeps/${gridId}/jobs?${query}`);
    assert.equal(r.status, 200, `jobs?${query}`);
    return r.json();
  };
  // Nothing follows the sweep in this dashboard yet: version 0 marks a
  // page the coordinator served.
  const paged = await jobsPage('offset=3&limit=4&sort=id');
  assert.equal(paged.version, 0, 'served before any snapshot');
  assert.equal(paged.matching, 12);
  // A sort the coordinator cannot page makes the dashboard follow the sweep.
  assert.equal((await jobsPage('sort=state&limit=1')).matching, 12);
  const copied = await jobsPage('offset=3&limit=4&sort=id');
  assert.ok(copied.version > 0, 'served from the snapshot');
  assert.deepEqual(paged.jobs, copied.jobs);
  assert.equal(paged.matching, copied.matching);
  const bad = await fetch(`${fresh}/api/sweeps/${gridId}/jobs?limit=0`);
  assert.equal(bad.status, 400);
  const unknown = await fetch(`${fresh}/api/sweeps/777/jobs`);
  assert.equal(unknown.status, 404);
});

test('the API answers bad requests and unknown ids with an error naming them', async () => {
  const get = (p) => page.evaluate(async (u) => { const r = await fetch(u); return [r.status, await r.json()]; }, p);
  const [missing, body] = await get('/api/sweeps/999');
  assert.equal(missing, 404);
  assert.match(body.error, /999/);
  const [badSort, sortBody] = await get(`/api/sweeps/${gridId}/jobs?sort=colour`);
  assert.equal(badSort, 400);
  assert.match(sortBody.error, /colour/);
  const [badJob] = await get('/api/jobs/424242');
  assert.equal(badJob, 404);
});

// ------------------------------------------------------------ run

await finish({browser, pageErrors, onFailure: startWorker});
