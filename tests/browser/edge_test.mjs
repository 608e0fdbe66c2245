// The dashboard's in-browser sampling in a real browser: headless Chromium
// (Debian's chromium, driven by playwright-core) against a real coordinator,
// worker and dashboard. A tiny real training job leaves a packed generator;
// its job page runs it with the edge runtime built to WebAssembly, and the
// page's samples must equal the native runtime's (bitsweep-edge) for the
// same latents.
//
//   BITSWEEP_BIN=build/cli/bitsweep BITSWEEP_EDGE_BIN=build/edge/bitsweep-edge node tests/browser/edge_test.mjs
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import {chromium} from 'playwright-core';

import {bin, browserPath, browserTest, freePort, waitFor} from './harness.mjs';

const edgeBin = path.resolve(process.env.BITSWEEP_EDGE_BIN || 'build/edge/bitsweep-edge');
const {dir, start, run: runBinary, test, finish} = browserTest('bitsweep-edge-browser-');
// Largest |wasm - native| allowed on images in [-1, 1]: the same tolerance
// as against LibTorch (docs/edge.md). The kernels differ (SIMD128 without
// fused multiply-add against AVX), so the sums round differently.
const TOLERANCE = 1e-5;

function run(program, args) {
  const r = runBinary(args, program);
  assert.equal(r.code, 0, `${path.basename(program)} ${args.join(' ')}: ${r.out}${r.err}`);
  return r.out;
}

// .npy files (float32, C order), as numpy and bitsweep-edge write them.
function writeNpy(file, shape, values) {
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': (${shape.join(', ')}${shape.length === 1 ? ',' : ''}), }`;
  header += ' '.repeat((64 - ((10 + header.length + 1) % 64)) % 64) + '\n';
  const head = Buffer.alloc(10);
  Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]).copy(head);
  head.writeUInt16LE(header.length, 8);
  fs.writeFileSync(file, Buffer.concat([head, Buffer.from(header, 'latin1'), Buffer.from(Float32Array.from(values).buffer)]));
}

function readNpy(file) {
  const bytes = fs.readFileSync(file);
  const length = bytes.readUInt16LE(8);
  const header = bytes.subarray(10, 10 + length).toString('latin1');
  assert.match(header, /'descr': '<f4'/);
  const shape = header.match(/'shape': \(([^)]*)\)/)[1].split(',').filter((s) => s.trim()).map(Number);
  const data = bytes.subarray(10 + length);
  return {shape, values: new Float32Array(data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength))};
}

function maxDiff(a, b) {
  assert.equal(a.length, b.length);
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
  return worst;
}

function quantile(values, q) {
  const v = [...values].sort((x, y) => x - y);
  const at = q * (v.length - 1), lo = Math.floor(at), hi = Math.min(lo + 1, v.length - 1);
  return v[lo] + (v[hi] - v[lo]) * (at - lo);
}

// ------------------------------------------------------------ setup

const coordinator = `127.0.0.1:${await freePort()}`;
start(['coordinator', '--listen', coordinator, '--db', 'store.db', '--lease-ttl', '30'], 'coordinator');
await waitFor('the coordinator', () => runBinary(['health', '--coordinator', coordinator]).code === 0, 30);
start(['worker', '--coordinator', coordinator, '--slots', '1', '--work-dir', 'work', '--threads', '1'], 'worker');
start(['dashboard', '--coordinator', coordinator, '--listen', '127.0.0.1:0'], 'dashboard');
const url = await waitFor('the dashboard to print its address', () => {
  const m = fs.readFileSync(path.join(dir, 'dashboard.log'), 'utf8').match(/bitsweep dashboard: (http:\/\/\S+)/);
  return m && m[1];
}, 30);

// A real, tiny training job (no evaluation): its generator.bsg is what the
// page runs.
fs.writeFileSync(path.join(dir, 'tiny.json'), JSON.stringify({
  name: 'edge-tiny',
  base: {
    task: 'qgan',
    dataset: {name: 'fashion-mnist', image_size: 32, limit: 256},
    model: {arch: 'dcgan32', nz: 16, ngf: 8, ndf: 8},
    loss: 'bce',
    quant: {g: {method: 'em', bits: 2}, d: {method: 'none', bits: 32}},
    train: {iterations: 60, batch_size: 32, seed: 7},
    runtime: {device: 'cpu', threads: 1},
  },
  strategy: {kind: 'grid', axes: {'quant.g.bits': [2]}},
}));
const submitted = run(bin, ['submit', '--coordinator', coordinator, '--spec', 'tiny.json', '--watch']);
const sweepId = Number(submitted.match(/sweep (\d+) submitted/)[1]);
const jobId = JSON.parse(run(bin, ['query', '--coordinator', coordinator, '--format', 'json',
                                   `SELECT id FROM jobs WHERE sweep_id = ${sweepId}`]))[0].id;
run(bin, ['artifacts', 'get', '--coordinator', coordinator, '--job', String(jobId), 'generator.bsg', '-o', 'g.bsg']);

const browser = await chromium.launch({
  executablePath: browserPath,
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
         '--disable-component-update', '--disable-sync'],
});
const page = await browser.newPage({viewport: {width: 1400, height: 1000}});
const pageErrors = [];
page.on('pageerror', (e) => pageErrors.push(e.message));

async function generateOnPage() {
  const before = await page.evaluate(() => window.bitsweepEdgeLast?.seed ?? null);
  await page.click('#edge-generate');
  await page.waitForFunction((old) => window.bitsweepEdgeLast && window.bitsweepEdgeLast.seed !== old, before,
                             {timeout: 60000});
  return page.evaluate(() => {
    const last = window.bitsweepEdgeLast;
    return {seed: last.seed, n: last.n, ms: last.ms, latents: Array.from(last.latents), images: Array.from(last.images),
            status: document.querySelector('#edge-status').textContent};
  });
}

// ------------------------------------------------------------ tests

test('the job page generates new samples in the browser, equal to the native runtime\'s for the same latents', async () => {
  await page.goto(`${url}#/job/${jobId}`);
  await page.waitForSelector('body[data-ready]', {timeout: 30000});
  const first = await generateOnPage();
  assert.equal(first.n, 64);
  assert.equal(first.latents.length, 64 * 16);
  assert.equal(first.images.length, 64 * 32 * 32);
  assert.match(first.status, /64 images in [0-9.]+ ms .* in this browser, vec128 kernels/);
  const size = await page.$eval('#edge-samples', (c) => [c.width, c.height]);
  assert.deepEqual(size, [8 * 32 + 9 * 2, 8 * 32 + 9 * 2], 'an 8 x 8 grid like samples.png');

  // The same latents through the native runtime.
  writeNpy(path.join(dir, 'page-z.npy'), [64, 16], first.latents);
  run(edgeBin, ['generate', 'g.bsg', '--latents', 'page-z.npy', '--raw', 'native.npy', '-o', 'native.png']);
  const native = readNpy(path.join(dir, 'native.npy'));
  assert.deepEqual(native.shape, [64, 1, 32, 32]);
  const diff = maxDiff(first.images, native.values);
  assert.ok(diff <= TOLERANCE, `page vs native: max difference ${diff}`);
  const spread = Math.max(...first.images) - Math.min(...first.images);
  assert.ok(spread > 0.1, `not a flat picture (values span ${spread})`);

  // The page drew its latents from the seed with the runtime's documented
  // generator: the native binary draws the same ones from that seed.
  run(edgeBin, ['generate', 'g.bsg', '--seed', first.seed, '-n', '64', '--latents-out', 'seed-z.npy', '--raw', 'seed.npy']);
  assert.ok(maxDiff(first.latents, readNpy(path.join(dir, 'seed-z.npy')).values) <= 1e-6);
  assert.ok(maxDiff(first.images, readNpy(path.join(dir, 'seed.npy')).values) <= TOLERANCE);

  // The canvas shows those images: tile (row 1, column 2), pixel (5, 7).
  const x = 2 + 2 * 34 + 7, y = 2 + 1 * 34 + 5, k = 1 * 8 + 2;
  const shown = await page.$eval('#edge-samples', (c, [px, py]) => c.getContext('2d').getImageData(px, py, 1, 1).data[0], [x, y]);
  assert.equal(shown, Math.min(255, Math.max(0, Math.round((first.images[k * 1024 + 5 * 32 + 7] + 1) * 127.5))));

  // A second click: new seed, new samples.
  const second = await generateOnPage();
  assert.notEqual(second.seed, first.seed);
  assert.ok(maxDiff(first.images, second.images) > 0.01);
  console.log(`     in Chromium: 64 images in ${first.ms.toFixed(1)} and ${second.ms.toFixed(1)} ms on the job page`);
});

test('latency per image in Chromium, batch 1 and 64 (reported)', async () => {
  // performance.now() is coarse in a browser (0.1 ms): each sample times
  // enough calls to span many ticks.
  const timing = await page.evaluate(async (jobId) => {
    const bsg = await (await fetch(`/api/jobs/${jobId}/artifacts/generator.bsg`)).arrayBuffer();
    const g = await BitsweepEdge.load(bsg);
    const result = {};
    for (const [n, samples, calls] of [[1, 40, 50], [64, 20, 2]]) {
      const z = g.drawLatents(1, 0, n);
      g.generate(z, n);
      const perImage = [];
      for (let s = 0; s < samples; s++) {
        const t0 = performance.now();
        for (let c = 0; c < calls; c++) g.generate(z, n);
        perImage.push((performance.now() - t0) / (calls * n));
      }
      result[n] = perImage;
    }
    g.release();
    return result;
  }, jobId);
  for (const n of [1, 64]) {
    assert.ok(timing[n].every((ms) => ms > 0));
    console.log(`     batch ${n}: p50 ${quantile(timing[n], 0.5).toFixed(4)} ms, p99 ${quantile(timing[n], 0.99).toFixed(4)} ms ` +
                'per image (this tiny job\'s generator; bench/edge_browser_bench.mjs times real ones)');
  }
});

test('a damaged generator gives an error, in the page as anywhere', async () => {
  const errors = await page.evaluate(async (jobId) => {
    const bsg = new Uint8Array(await (await fetch(`/api/jobs/${jobId}/artifacts/generator.bsg`)).arrayBuffer());
    const out = [];
    for (const bytes of [bsg.slice(0, bsg.length - 9), bsg.slice(0, 30), new Uint8Array(100)]) {
      try {
        await BitsweepEdge.load(bytes);
        out.push('loaded');
      } catch (e) {
        out.push(String(e.message));
      }
    }
    return out;
  }, jobId);
  assert.match(errors[0], /generator\.bsg: truncated: payload has/);
  assert.match(errors[1], /truncated header/);
  assert.match(errors[2], /bad magic/);
});

// ------------------------------------------------------------ run

await finish({browser, pageErrors});
