// Screenshots of a running dashboard's views for the docs, in headless
// Chromium (Debian's chromium, driven by playwright-core).
//
//   node tests/browser/screenshots.mjs URL OUT_DIR NAME=HASH[=HEIGHT] [...]
//   e.g. node tests/browser/screenshots.mjs http://127.0.0.1:8080/ docs/images \
//          dashboard-sweeps=#/ dashboard-search=#/sweep/1 dashboard-job=#/job/12
//
// Each view is loaded fresh, given a second to settle (charts draw), and
// saved as OUT_DIR/NAME.png: its top HEIGHT pixels, or the whole page.
import path from 'node:path';
import {chromium} from 'playwright-core';

const [url, out, ...views] = process.argv.slice(2);
if (!url || !out || views.length === 0) {
  console.error('usage: node tests/browser/screenshots.mjs URL OUT_DIR NAME=HASH [NAME=HASH ...]');
  process.exit(2);
}
const browser = await chromium.launch({
  executablePath: process.env.BITSWEEP_CHROMIUM || '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
         '--disable-component-update', '--disable-sync'],
});
const page = await browser.newPage({viewport: {width: 1280, height: 900}});
for (const view of views) {
  const [name, hash, height] = view.split('=');
  await page.goto('about:blank');
  await page.goto(`${url.replace(/\/$/, '')}/${hash}`);
  await page.waitForSelector('body[data-ready]', {timeout: 60000});
  await page.waitForTimeout(1000);
  const file = path.join(out, `${name}.png`);
  await page.screenshot(height ? {path: file, clip: {x: 0, y: 0, width: 1280, height: Number(height)}, fullPage: true}
                               : {path: file, fullPage: true});
  console.log(file);
}
await browser.close();
