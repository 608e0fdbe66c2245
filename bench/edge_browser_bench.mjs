// The edge runtime's WebAssembly build in Chromium: latency per image of
// packed generators at batch 1 and 64, on this machine, in Debian's
// chromium driven by playwright-core (as the browser tests are).
//
//   node bench/edge_browser_bench.mjs MODEL.bsg [MODEL.bsg ...]
//
// BITSWEEP_EDGE_WASM names the module (default build/edge/edge.wasm).
// performance.now() is coarse in a browser (0.1 ms), so each sample times a
// group of calls spanning many ticks: batch 1 in groups of 50 calls (40
// samples), batch 64 one call per sample (20 samples); p50 and p99 over
// samples of (group time / images). Prints one JSON line per model.
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import {fileURLToPath} from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const {chromium} = await import(path.join(root, 'tests/browser/node_modules/playwright-core/index.mjs'));
const models = process.argv.slice(2);
if (!models.length) {
  console.error('usage: node bench/edge_browser_bench.mjs MODEL.bsg [MODEL.bsg ...]');
  process.exit(2);
}
const wasm = path.resolve(process.env.BITSWEEP_EDGE_WASM || path.join(root, 'build/edge/edge.wasm'));

// A loopback server for the page: the loader, the module and the models.
const files = {
  '/': ['text/html', Buffer.from('<!doctype html><meta charset="utf-8"><script src="/edge.js"></script>')],
  '/edge.js': ['text/javascript', fs.readFileSync(path.join(root, 'dashboard/web/edge.js'))],
  '/edge.wasm': ['application/wasm', fs.readFileSync(wasm)],
};
models.forEach((m, i) => { files[`/model${i}.bsg`] = ['application/octet-stream', fs.readFileSync(m)]; });
const server = http.createServer((req, res) => {
  const file = files[req.url];
  res.writeHead(file ? 200 : 404, {'Content-Type': file ? file[0] : 'text/plain'});
  res.end(file ? file[1] : 'not found');
});
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const url = `http://127.0.0.1:${server.address().port}/`;

const browser = await chromium.launch({
  executablePath: process.env.BITSWEEP_CHROMIUM || '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
         '--disable-component-update', '--disable-sync'],
});
const page = await browser.newPage();
await page.goto(url);
const version = browser.version();
for (let i = 0; i < models.length; i++) {
  const result = await page.evaluate(async (name) => {
    const g = await BitsweepEdge.load(await (await fetch(name)).arrayBuffer(), '/edge.wasm');
    const quantile = (values, q) => {
      const v = [...values].sort((a, b) => a - b);
      const at = q * (v.length - 1), lo = Math.floor(at), hi = Math.min(lo + 1, v.length - 1);
      return v[lo] + (v[hi] - v[lo]) * (at - lo);
    };
    const cases = [];
    for (const [n, samples, calls] of [[1, 40, 50], [64, 20, 1]]) {
      const z = g.drawLatents(1, 0, n);
      for (let w = 0; w < 3; w++) g.generate(z, n);  // warm-up: the engine's optimising tiers
      const perImage = [];
      for (let s = 0; s < samples; s++) {
        const t0 = performance.now();
        for (let c = 0; c < calls; c++) g.generate(z, n);
        perImage.push((performance.now() - t0) / (calls * n));
      }
      cases.push({batch: n, samples, calls_per_sample: calls, p50_ms: quantile(perImage, 0.5),
                  p99_ms: quantile(perImage, 0.99)});
    }
    const out = {kernels: g.kernels, weight_bytes: g.weightBytes, cases};
    g.release();
    return out;
  }, `/model${i}.bsg`);
  console.log(JSON.stringify({model: models[i], browser: `chromium ${version}`, ...result}));
}
await browser.close();
server.close();
