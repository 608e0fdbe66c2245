// Per-layer widths in the dashboard, in a real browser: headless Chromium
// (Debian's chromium) driven by playwright-core against a real coordinator,
// worker and dashboard over loopback.
//
//   BITSWEEP_BIN=build/cli/bitsweep node tests/browser/allocation_test.mjs
//
// A layer_allocation search on the synthetic task (its per-layer quality is
// a known function of the widths; two seeds, so the points have error bars)
// and one real training job whose generator has a width per layer. Fails if
// the front, the uniform widths beside it, the bound, the answer, the
// per-layer points of the quality chart or a job's per-layer widths and
// bytes disappear or disagree with the store.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import {chromium} from 'playwright-core';

import {browserPath, browserTest, freePort, waitFor} from './harness.mjs';

const {dir, start, run, test, finish} = browserTest('bitsweep-allocation-');

// ------------------------------------------------------------ setup

const coordinator = `127.0.0.1:${await freePort()}`;
start(['coordinator', '--listen', coordinator, '--db', 'store.db', '--lease-ttl', '30'], 'coordinator');
await waitFor('the coordinator', () => run(['health', '--coordinator', coordinator]).code === 0, 30);
start(['worker', '--coordinator', coordinator, '--slots', '2', '--work-dir', 'work', '--threads', '1'], 'worker');
start(['dashboard', '--coordinator', coordinator, '--listen', '127.0.0.1:0'], 'dashboard');
const url = await waitFor('the dashboard to print its address', () => {
  const m = fs.readFileSync(path.join(dir, 'dashboard.log'), 'utf8').match(/bitsweep dashboard: (http:\/\/\S+)/);
  return m && m[1];
}, 30);

function cli(...args) {
  const r = run([...args, '--coordinator', coordinator]);
  assert.equal(r.code, 0, `bitsweep ${args.join(' ')}: ${r.err}`);
  return r.out;
}

function submit(spec, file) {
  fs.writeFileSync(path.join(dir, file), JSON.stringify(spec));
  const out = cli('submit', '--spec', file, '--watch');
  return Number(out.match(/sweep (\d+) submitted/)[1]);
}

// The search: the third and last layers most sensitive (as in the demo's
// generator), damage exactly additive in log FID, 3% noise per run.
const allocationId = submit({
  name: 'per-layer widths',
  base: {
    task: 'synthetic',
    model: {arch: 'dcgan32', nz: 100, ngf: 32, ndf: 32},
    synthetic: {seconds: 0.05, fid_full_precision: 20, sensitivity_g: 1, ptq_factor: 1, noise: 0.03,
                layer_sensitivity_g: {conv1: 0.05, conv2: 0.1, conv3: 0.6, conv4: 1.5}, layer_damage: 'product'},
  },
  strategy: {kind: 'layer_allocation', methods: ['em', 'minmax'], bits: [1, 2, 3, 4, 8],
             requirement: {metric: 'fid', relative_to_baseline: 2}, seeds: [1, 2], max_seeds: 3, confidence: 0.9,
             qat: true, max_in_flight: 4},
}, 'allocation.json');

// A real generator with a width per layer (conv4 at full precision), so
// its job has the packed file's per-layer bytes.
const classifier = run(['evaluator', 'train', '--dataset', 'fashion-mnist', '--epochs', '1', '--limit', '2000',
                        '--threads', '1', '--out', 'classifier.pt']);
assert.equal(classifier.code, 0, classifier.err);
const realId = submit({
  name: 'one per-layer generator',
  base: {
    task: 'qgan',
    dataset: {name: 'fashion-mnist', image_size: 32, limit: 512},
    model: {arch: 'dcgan32', nz: 16, ngf: 8, ndf: 8},
    loss: 'bce',
    quant: {g: {method: 'em', bits: 2, layers: {conv3: {bits: 4}, conv4: {method: 'none', bits: 32}}},
            d: {method: 'none', bits: 32}},
    train: {iterations: 10, batch_size: 32, seed: 7},
    eval: {evaluator: {kind: 'classifier', path: path.join(dir, 'classifier.pt')}, metrics: ['fid'], num_samples: 128},
    runtime: {device: 'cpu', threads: 1},
  },
  strategy: {kind: 'grid', axes: {'train.seed': [7]}},
}, 'real.json');

const browser = await chromium.launch({
  executablePath: browserPath,
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
         '--disable-component-update', '--disable-sync'],
});
const page = await browser.newPage({viewport: {width: 1400, height: 1000}});
const pageErrors = [];
page.on('pageerror', (e) => pageErrors.push(e.message));

async function open(hash) {
  await page.goto('about:blank');
  await page.goto(`${url}${hash}`);
  await page.waitForSelector('body[data-ready]', {timeout: 30000});
}

const api = async (p) => (await fetch(`${url.replace(/\/$/, '')}${p}`)).json();

// A chart's datasets as plain data (kind, label, points), and whether
// each point was drawn inside the plot area.
async function chartData(id) {
  return page.evaluate((canvasId) => {
    const chart = Chart.getChart(canvasId);
    if (!chart) return null;
    const area = chart.chartArea;
    return {
      y: chart.scales.y.type,
      sets: chart.data.datasets.map((d, i) => ({
        kind: d.kind, label: d.label, pointStyle: d.pointStyle,
        points: d.data.map((p, j) => {
          const e = chart.getDatasetMeta(i).data[j];
          return {x: p.x, y: p.y, yMin: p.yMin, yMax: p.yMax,
                  drawn: !!e && e.x >= area.left - 1 && e.x <= area.right + 1 && e.y >= area.top - 1 && e.y <= area.bottom + 1};
        }),
      })),
    };
  }, id);
}

const near = (a, b) => Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(b));

// ------------------------------------------------------------ tests

test('the sweep page draws each method\'s front: measured points with error bars, the uniform widths, the bound and the answer', async () => {
  const {outcome} = await api(`/api/sweeps/${allocationId}`);
  assert.ok(outcome.done, 'the search finished');
  await open(`#/sweep/${allocationId}`);
  await page.waitForSelector('#allocation');
  let bars = 0;
  for (const [method, m] of Object.entries(outcome.methods)) {
    const chart = await chartData(`front-chart-${method}`);
    assert.ok(chart, `a front chart for ${method}`);
    assert.equal(chart.y, 'logarithmic');
    const set = (kind) => chart.sets.find((s) => s.kind === kind);
    const expectPoints = (kind, configs) => {
      const got = set(kind);
      assert.ok(got, `${method}: a ${kind} dataset`);
      assert.equal(got.points.length, configs.length, `${method} ${kind}: ${JSON.stringify(got.points)}`);
      configs.forEach((c, i) => {
        const p = got.points[i];
        assert.ok(near(p.x, c.bytes / 1024) && near(p.y, c.fid), `${method} ${kind} ${c.widths}`);
        assert.ok(near(p.yMin, c.fid - c.fid_se) && near(p.yMax, c.fid + c.fid_se), `${method} ${kind} ${c.widths}: its error bar`);
        assert.ok(p.drawn, `${method} ${kind} ${c.widths} is drawn inside the plot`);
        bars += c.fid_se > 0;
      });
    };
    const measuredFront = m.front.filter((c) => c.fid !== undefined);
    assert.ok(measuredFront.length >= 3, `${method}: points of the front measured`);
    expectPoints('measured', measuredFront);
    assert.equal(m.uniform.length, 5);
    expectPoints('uniform', m.uniform);
    assert.equal(set('uniform').pointStyle, 'rect', 'uniform widths have marks of their own');
    assert.equal(set('predicted').points.length, m.front.length, 'the predicted front, every point');
    const bound = set('bound');
    assert.ok(bound, `${method}: the bound`);
    assert.ok(near(outcome.bound_fid, 2 * outcome.reference.mean_fid));
    assert.deepEqual(bound.points.map((p) => p.y), [outcome.bound_fid, outcome.bound_fid]);
    assert.equal(m.bound.status, 'found', `${method}: ${JSON.stringify(m.bound)}`);
    expectPoints('answer', [m.bound.answer]);
    assert.equal(set('answer').pointStyle, 'star');
    expectPoints('uniform-answer', [m.bound.uniform_answer]);

    // In words, beside the chart, and in the table under it.
    const words = await page.textContent(`#allocation-words-${method}`);
    const u = m.bound.uniform_answer;
    assert.ok(words.includes(`Uniform ${u.bits} bits meets 2× at ${(u.bytes / 1024).toFixed(1)} KiB`), words);
    assert.ok(words.includes(`per layer ${m.bound.answer.widths} meets it at ${(m.bound.answer.bytes / 1024).toFixed(1)} KiB`), words);
    assert.ok(words.includes(`${Math.round(100 * m.bound.saving)}% fewer bytes`), words);
    assert.ok(m.bound.saving > 0, 'per layer takes fewer bytes here');
    const answerRow = await page.$$eval(`#front-table-${method} tr.answer`, (trs) => trs.map((tr) => tr.dataset.widths));
    assert.deepEqual(answerRow, [m.bound.answer.widths]);
  }
  assert.ok(bars > 0, 'some error bars have a length (points with two seeds)');
});

test('the quality chart puts per-layer generators at their bits per weight, on a log FID axis', async () => {
  await open(`#/sweep/${allocationId}`);
  await page.waitForFunction(() => window.bitsweepChart && Chart.getChart('quality-chart'));
  const chart = await page.evaluate(() => window.bitsweepChart);
  const rows = JSON.parse(cli('results', '--sweep', String(allocationId), '--format', 'json'))
      .filter((r) => r.state === 'SUCCEEDED' && r.method_d === 'none');
  const uniform = (r) => r.widths_g.split(',').every((b) => Number(b) === r.bits_g);
  const perLayerRows = rows.filter((r) => !uniform(r));
  assert.ok(perLayerRows.length > 10, 'the search measured allocations');
  const perLayerPoints = chart.series.filter((s) => s.per_layer).flatMap((s) => s.points.map((p) => ({...p, label: s.label})));
  for (const r of perLayerRows) {
    const p = perLayerPoints.find((q) => q.jobs.some((j) => j.job === r.job));
    assert.ok(p, `job ${r.job} (${r.widths_g}) is a point of a per-layer series`);
    assert.equal(p.widths, r.widths_g);
    assert.ok(Math.abs(p.bits - r.mean_bits_g) < 0.006, `job ${r.job}: at its bits per weight ${r.mean_bits_g}, not ${r.bits_g}`);
    assert.equal(p.label, `${r.method_g} per layer · ${r.protocol}`);
  }
  // No point of a uniform series comes from a per-layer job.
  const perLayerJobs = new Set(perLayerRows.map((r) => r.job));
  for (const s of chart.series.filter((x) => !x.per_layer)) {
    for (const p of s.points) assert.ok(p.jobs.every((j) => !perLayerJobs.has(j.job)), `${s.label} ${p.bits}`);
  }
  assert.equal(await page.evaluate(() => Chart.getChart('quality-chart').scales.y.type), 'logarithmic');
  await page.click('#log-scale');
  await page.waitForFunction(() => Chart.getChart('quality-chart').scales.y.type === 'linear');
});

test('a job page shows each layer of the generator with its width and packed bytes', async () => {
  const job = JSON.parse(cli('results', '--sweep', String(realId), '--format', 'json'))[0].job;
  const stored = JSON.parse(JSON.parse(cli('query', '--format', 'json',
      `SELECT json_extract(result_json, '$.model_bytes') AS b FROM jobs WHERE id = ${job}`))[0].b);
  const layers = stored.generator_layers;
  assert.deepEqual(layers.map((l) => l.bits), [2, 2, 4, 32]);
  await open(`#/job/${job}`);
  const shown = await page.$$eval('#job-widths tr[data-layer]', (trs) => trs.map((tr) => ({
    layer: tr.dataset.layer, bits: Number(tr.children[2].textContent), bytes: Number(tr.children[4].dataset.bytes)})));
  assert.deepEqual(shown, layers.map((l) => ({layer: l.layer, bits: l.bits, bytes: l.bytes})));
  const g = await page.$eval('table.kv', (t) => [...t.querySelectorAll('tr')].find((tr) => tr.children[0].textContent === 'G')
      .children[1].textContent);
  assert.match(g, /^em 2,2,4,32 \(\d+\.\d\d bits per weight, per layer\)$/);
  // A synthetic per-layer job has no packed file: its widths alone.
  const synthetic = JSON.parse(cli('results', '--sweep', String(allocationId), '--format', 'json'))
      .find((r) => new Set(r.widths_g.split(',')).size > 1);
  await open(`#/job/${synthetic.job}`);
  assert.ok((await page.textContent('#job-widths-text')).startsWith(`widths ${synthetic.widths_g} (`));
});

// ------------------------------------------------------------ run

await finish({browser, pageErrors});
