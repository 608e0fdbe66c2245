// What the browser tests share: bitsweep processes started in a folder of
// their own, waiting for them, and a small runner that prints each test,
// stops every process and keeps the folder (with the tails of the logs
// printed) only when something failed.
import {spawn, spawnSync} from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

export const bin = path.resolve(process.env.BITSWEEP_BIN || 'build/cli/bitsweep');
export const browserPath = process.env.BITSWEEP_CHROMIUM || '/usr/bin/chromium';

/// A loopback port nothing listens on (at the moment of asking).
export function freePort() {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.listen(0, '127.0.0.1', () => {
      const {port} = server.address();
      server.close(() => resolve(port));
    });
  });
}

/// Polls `check` every 200 ms until it returns something truthy (returned);
/// a throw counts as not yet. Fails after `seconds` with the last answer.
export async function waitFor(what, check, seconds = 60) {
  const deadline = Date.now() + seconds * 1000;
  let last;
  while (Date.now() < deadline) {
    try {
      last = await check();
      if (last) return last;
    } catch (e) {
      last = e;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`timed out waiting for ${what} (last: ${last})`);
}

/// A test file's processes and tests, in a new temporary folder whose name
/// starts with `prefix`.
export function browserTest(prefix) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  const children = [];
  const tests = [];
  return {
    dir,
    /// Starts `bin args` in the folder, its output in NAME.log; stopped at the end.
    start(args, name) {
      const log = fs.openSync(path.join(dir, `${name}.log`), 'w');
      const child = spawn(bin, args, {cwd: dir, stdio: ['ignore', log, log]});
      children.push(child);
      return child;
    },
    /// Runs `program args` in the folder to its end.
    run(args, program = bin) {
      const r = spawnSync(program, args, {cwd: dir, encoding: 'utf8'});
      return {code: r.status, out: r.stdout, err: r.stderr};
    },
    test(name, body) { tests.push({name, body}); },
    /// Runs the tests in order, then closes `browser`, stops the processes
    /// and exits: 0 when every test passed and the page threw nothing
    /// (`pageErrors`). `onFailure` runs after a failed test, before the next.
    async finish({browser, pageErrors, onFailure = () => {}}) {
      let failed = 0;
      try {
        for (const t of tests) {
          const started = Date.now();
          try {
            await t.body();
            console.log(`ok   ${t.name} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
          } catch (e) {
            onFailure();
            failed++;
            console.log(`FAIL ${t.name}\n     ${String(e.stack || e).split('\n').join('\n     ')}`);
          }
        }
        if (pageErrors.length) {
          failed++;
          console.log(`FAIL the page threw: ${pageErrors.join('; ')}`);
        }
      } finally {
        await browser.close();
        for (const c of children) c.kill('SIGTERM');
        if (failed) {
          for (const name of ['coordinator', 'worker', 'dashboard']) {
            if (!fs.existsSync(path.join(dir, `${name}.log`))) continue;
            console.log(`--- ${name}.log (last lines)\n${fs.readFileSync(path.join(dir, `${name}.log`), 'utf8').split('\n').slice(-15).join('\n')}`);
          }
        } else {
          fs.rmSync(dir, {recursive: true, force: true});
        }
      }
      console.log(failed ? `${failed} of ${tests.length} failed` : `all ${tests.length} passed`);
      process.exit(failed ? 1 : 0);
    },
  };
}
