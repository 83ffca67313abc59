// The `knts` CLI as a user runs it: help, version, usage errors (exit 2), and command
// discovery that lets components add commands without a central switch.
import test from 'ava';
import { buildTree } from '../cli/registry.ts';
import type { Command } from '../cli/command.ts';
import { knts } from './helpers/cli.ts';

test('knts --help lists discovered commands and exits 0', async (t) => {
  const r = await knts(['--help']);
  t.is(r.code, 0);
  t.regex(r.stdout, /^knts: the Knative Serving data plane in TypeScript/);
  t.regex(r.stdout, /\n {2}config check +Print the effective configuration/);
  t.is(r.stderr, '');
});

test('knts with no arguments prints help', async (t) => {
  const r = await knts([]);
  t.is(r.code, 0);
  t.regex(r.stdout, /Usage: knts <command> \[options\]/);
});

test('knts --version prints the package version', async (t) => {
  const r = await knts(['--version']);
  t.is(r.code, 0);
  t.regex(r.stdout, /^knts \d+\.\d+\.\d+\n$/);
});

test('an unknown command exits 2 with a clear message', async (t) => {
  const r = await knts(['frobnicate']);
  t.is(r.code, 2);
  t.is(r.stdout, '');
  t.is(r.stderr, 'knts: unknown command "frobnicate"\nRun "knts --help" for usage.\n');
});

test('a near-miss command gets a suggestion', async (t) => {
  const r = await knts(['confg', 'check']);
  t.is(r.code, 2);
  t.regex(r.stderr, /^knts: unknown command "confg" \(did you mean "config"\?\)/);
});

test('a group without subcommand exits 2 and shows the group help', async (t) => {
  const r = await knts(['config']);
  t.is(r.code, 2);
  t.regex(r.stderr, /\n {2}check +Print the effective configuration/);
  t.regex(r.stderr, /knts config: missing subcommand/);
});

test('an unknown subcommand of a group exits 2', async (t) => {
  const r = await knts(['config', 'lint']);
  t.is(r.code, 2);
  t.regex(r.stderr, /^knts config: unknown command "lint"/);
});

test('an unknown flag exits 2 naming the flag', async (t) => {
  const r = await knts(['config', 'check', '--bogus', 'x.yaml']);
  t.is(r.code, 2);
  t.is(r.stderr, 'knts config check: unknown option --bogus\nRun "knts config check --help" for usage.\n');
});

test('an unknown top-level flag exits 2', async (t) => {
  const r = await knts(['--verbose']);
  t.is(r.code, 2);
  t.regex(r.stderr, /^knts: unknown option --verbose/);
});

test('a flag missing its value exits 2', async (t) => {
  const r = await knts(['config', 'check', 'x.yaml', '--cluster-domain']);
  t.is(r.code, 2);
  t.regex(r.stderr, /^knts config check: option --cluster-domain needs a value/);
});

test('missing positional arguments exit 2', async (t) => {
  const r = await knts(['config', 'check']);
  t.is(r.code, 2);
  t.regex(r.stderr, /^knts config check: expected FILE\.\.\./);
});

test('command help shows usage and options', async (t) => {
  const r = await knts(['config', 'check', '--help']);
  t.is(r.code, 0);
  t.regex(r.stdout, /^Usage: knts config check \[options\] FILE\.\.\./);
  t.regex(r.stdout, /--cluster-domain DOMAIN/);
});

const cmd = (path: string[]): Command => ({ path, summary: path.join(' '), run: async () => 0 });

test('commands from several components merge into one tree', (t) => {
  const tree = buildTree([
    { commands: [cmd(['simulate', 'decisions'])], groups: [{ path: ['simulate'], summary: 'What-if runs' }] },
    { commands: [cmd(['simulate', 'load']), cmd(['queue-proxy'])] },
  ]);
  t.deepEqual([...tree.children.keys()], ['simulate', 'queue-proxy']);
  t.deepEqual([...(tree.children.get('simulate')?.children.keys() ?? [])], ['decisions', 'load']);
  t.is(tree.children.get('simulate')?.summary, 'What-if runs');
});

test('two components defining the same command is an error', (t) => {
  t.throws(() => buildTree([{ commands: [cmd(['serve'])] }, { commands: [cmd(['serve'])] }]), { message: /two components define the command "serve"/ });
});
