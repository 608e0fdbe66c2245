// How fast the dashboard opens a big sweep, in headless Chromium: a grid of
// JOBS synthetic jobs (default 100,000) on a coordinator process, a
// dashboard process, timed from navigation to the rendered job table.
//
//   node bench/dashboard_bench.mjs [JOBS=100000] [REPEAT=5]
//
// Two states of the sweep: just submitted (jobs queued; grids of more
// than 10,000 points are planned as they run, so 10,000 jobs exist), and
// after every job finished (all JOBS rows, results included). Each open is
// timed until the job table shows and until every section has loaded.
// "cold" is the first open (the dashboard starts following the sweep: one
// WatchSweep snapshot of every job; the results are fetched); "warm" the
// next ones. Also the API alone: a page
// of jobs from the middle, sorted by state, and a page of results.
import {spawn, spawnSync} from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import {fileURLToPath} from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const {chromium} = await import(path.join(root, 'tests/browser/node_modules/playwright-core/index.mjs'));
const bin = process.env.BITSWEEP_BIN || path.join(root, 'build/cli/bitsweep');
const jobs = Number(process.argv[2] || 100000);
const repeat = Number(process.argv[3] || 5);
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bitsweep-dashboard-bench-'));
const children = [];

const freePort = () => new Promise((resolve) => {
  const s = net.createServer();
  s.listen(0, '127.0.0.1', () => { const {port} = s.address(); s.close(() => resolve(port)); });
});
const start = (args, name) => {
  const log = fs.openSync(path.join(dir, `${name}.log`), 'w');
  const child = spawn(bin, args, {cwd: dir, stdio: ['ignore', log, log]});
  children.push(child);
  return child;
};
const run = (args) => spawnSync(bin, args, {cwd: dir, encoding: 'utf8'});
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
async function until(check, seconds) {
  const deadline = Date.now() + seconds * 1000;
  while (Date.now() < deadline) {
    if (await check()) return;
    await sleep(200);
  }
  throw new Error('timed out');
}

try {
  const coordinator = `127.0.0.1:${await freePort()}`;
  start(['coordinator', '--listen', coordinator, '--db', 'store.db'], 'coordinator');
  await until(() => run(['health', '--coordinator', coordinator]).status === 0, 30);
  // A dashboard process and its address.
  async function startDashboard(name) {
    const child = start(['dashboard', '--coordinator', coordinator, '--listen', '127.0.0.1:0'], name);
    let address;
    await until(() => (address = (fs.readFileSync(path.join(dir, `${name}.log`), 'utf8').match(/(http:\/\/\S+)/) || [])[1]), 30);
    return [child, address];
  }
  const rssMib = (child) => (Number(fs.readFileSync(`/proc/${child.pid}/status`, 'utf8').match(/VmRSS:\s*(\d+)/)[1]) / 1024).toFixed(0);
  let [dashboard, url] = await startDashboard('dashboard');

  // jobs = seeds x noises, both axes within the 1,000 values checked at submit.
  const noises = Math.max(1, Math.ceil(jobs / 1000));
  const seeds = Math.ceil(jobs / noises);
  fs.writeFileSync(path.join(dir, 'big.json'), JSON.stringify({
    name: `big-${seeds * noises}`,
    base: {task: 'synthetic'},
    strategy: {kind: 'grid', axes: {'train.seed': Array.from({length: seeds}, (_, i) => i + 1),
                                     'synthetic.noise': Array.from({length: noises}, (_, i) => i / 1000)}},
  }));
  const submitted = run(['submit', '--coordinator', coordinator, '--spec', 'big.json']);
  if (submitted.status !== 0) throw new Error(submitted.stderr);
  const sweepId = Number(submitted.stdout.match(/sweep (\d+) submitted/)[1]);

  const browser = await chromium.launch({executablePath: process.env.BITSWEEP_CHROMIUM || '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
           '--disable-component-update', '--disable-sync']});
  const page = await browser.newPage({viewport: {width: 1400, height: 1000}});
  const cpu = `${(fs.readFileSync('/proc/cpuinfo', 'utf8').match(/model name\s*:\s*(.*)/) || [])[1]}, ${os.cpus().length} cores`;
  console.log(`# ${cpu}; sweep of ${seeds * noises} synthetic jobs`);

  // Where a cold open's time goes: each API call from its start to its
  // last byte.
  const calls = [];
  page.on('requestfinished', (r) => {
    if (r.url().includes('/api/') && !r.url().includes('/events')) calls.push([r.url().replace(url, '/'), r.timing()]);
  });
  // Two times per open: until the job table shows (the page is usable), and
  // until every section (results, charts) has loaded.
  async function openTimes(label) {
    const shown = [], complete = [];
    for (let i = 0; i < repeat; ++i) {
      await page.goto('about:blank');
      calls.length = 0;
      const t0 = performance.now();
      await page.goto(`${url}#/sweep/${sweepId}`);
      await page.waitForSelector('#jobs-table tr[data-job]', {timeout: 120000});
      shown.push((performance.now() - t0) / 1000);
      await page.waitForSelector('body[data-ready]', {timeout: 120000});
      complete.push((performance.now() - t0) / 1000);
      if (i === 0) {
        for (const [u, t] of calls) console.log(`  ${label} cold: ${u}  ${(t.responseEnd / 1000).toFixed(3)} s`);
      }
    }
    const rows = await page.$$eval('#jobs-table tr[data-job]', (r) => r.length);
    const resultRows = await page.$$eval('#results-table tr', (r) => r.length - 1);
    const describe = (times) => {
      const warm = times.slice(1).sort((a, b) => a - b);
      return `cold ${times[0].toFixed(2)} s; warm median ${warm[Math.floor(warm.length / 2)]?.toFixed(2)} s, ` +
             `max ${warm[warm.length - 1]?.toFixed(2)} s`;
    };
    console.log(`${label}: job table shown ${describe(shown)}; every section loaded ${describe(complete)} ` +
                `(${repeat - 1} warm opens); ${rows} job rows, ${resultRows} result rows on the page`);
  }
  async function apiTimes(label) {
    const measure = async (p) => page.evaluate(async (u) => {
      const t0 = performance.now();
      const r = await fetch(u);
      const body = await r.text();
      return [(performance.now() - t0) / 1000, r.status, body.length];
    }, p);
    for (const p of [`/api/sweeps/${sweepId}/jobs?offset=${Math.floor(jobs / 2)}&limit=50&sort=-state`,
                     `/api/sweeps/${sweepId}/results?offset=${Math.floor(jobs / 2)}&limit=50&sort=fid`,
                     `/api/sweeps/${sweepId}/results?format=csv`,
                     `/api/sweeps/${sweepId}/chart`]) {
      const [t, status, bytes] = await measure(p);
      console.log(`${label}: GET ${p.replace(`/api/sweeps/${sweepId}`, '…')}  ${t.toFixed(3)} s  (HTTP ${status}, ${bytes} bytes)`);
    }
  }

  await openTimes('queued');
  await apiTimes('queued');

  start(['worker', '--coordinator', coordinator, '--slots', '16', '--work-dir', 'work'], 'worker');
  const t0 = Date.now();
  await until(async () => (await (await fetch(`${url}api/sweeps/${sweepId}`)).json()).state === 'DONE', 3600);
  console.log(`(ran the ${seeds * noises} jobs in ${((Date.now() - t0) / 1000).toFixed(0)} s)`);
  // The dashboard that watched the sweep end (its page fetched the results
  // as it ended), then a fresh one that has never seen it: the worst case.
  await openTimes('finished, watched');
  await apiTimes('finished, watched');
  console.log(`dashboard RSS after both: ${rssMib(dashboard)} MiB`);
  await page.goto('about:blank');
  dashboard.kill('SIGTERM');
  [dashboard, url] = await startDashboard('dashboard2');
  await openTimes('finished, fresh dashboard');
  console.log(`fresh dashboard RSS after the opens: ${rssMib(dashboard)} MiB`);
  await browser.close();
} finally {
  for (const c of children) c.kill('SIGTERM');
  fs.rmSync(dir, {recursive: true, force: true});
}
