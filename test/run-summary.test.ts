// The test command's closing line is what CI reads: check it on fixture suites that pass,
// fail, skip and declare nothing.
import test from 'ava';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { REPO_ROOT } from './helpers/cli.ts';

function summarize(fixture: string): Promise<{ code: number | null; lastLine: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(REPO_ROOT, 'test/run-summary.js')], { cwd: join(REPO_ROOT, 'test/fixtures', fixture) });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, lastLine: out.trimEnd().split('\n').at(-1) ?? '' }));
  });
}

test('a failing suite ends with the counts and exits non-zero', async (t) => {
  const r = await summarize('summary-mixed');
  t.is(r.lastLine, '1 passed, 1 failed, 2 skipped');
  t.is(r.code, 1);
});

test('a suite that runs no test exits non-zero', async (t) => {
  const r = await summarize('summary-empty');
  t.regex(r.lastLine, /^0 passed, [1-9]\d* failed, 0 skipped$/);
  t.is(r.code, 1);
});
