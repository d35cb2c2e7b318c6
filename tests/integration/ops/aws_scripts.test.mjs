// aws_scripts.test.mjs - deploy/aws/deploy.sh and destroy.sh issue the AWS
// CLI calls docs/deploy.md describes, offline.
//
// The scripts' only tool is the user's AWS CLI, so the suite puts a
// stand-in `aws` first on PATH: a small Node program that records every
// call and answers the few the scripts read (describe-stacks outputs and
// parameter values, the SSM command's id and status) from a state file, as
// CloudFormation would for a stack that exists or not. What is checked is
// the scripts' logic: create needs a release, an update keeps the
// parameters it is not given and never touches PackageUrl (the instance's
// user data), nor another parameter only the first boot reads unless
// told, a new release on an existing stack goes through SSM Run Command,
// and destroy keeps the bucket and the user pool unless told.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';

import { ROOT, tmpDir } from '../../lib/harness.mjs';

const DEPLOY = path.join(ROOT, 'deploy', 'aws', 'deploy.sh');
const DESTROY = path.join(ROOT, 'deploy', 'aws', 'destroy.sh');
const URL1 = 'https://github.com/o/r/releases/download/v1.0.0';
const URL2 = 'https://github.com/o/r/releases/download/v1.1.0';
const OUTPUTS = {
  DashboardUrl: 'https://echostream.example.com/', DnsRecord: '203.0.113.7',
  InstanceId: 'i-0123456789abcdef0', ArchiveBucketName: 'echostream-archive-x',
  UserPoolId: 'eu-west-1_abc', MailDomain: 'example.com',
  DkimRecord1: 'a._domainkey.example.com CNAME a.dkim.amazonses.com',
  DkimRecord2: 'b._domainkey.example.com CNAME b.dkim.amazonses.com',
  DkimRecord3: 'c._domainkey.example.com CNAME c.dkim.amazonses.com',
};

// the stand-in AWS CLI: state.json says whether the stack exists
const FAKE_AWS = `#!${process.execPath}
const fs = require('fs');
const dir = ${JSON.stringify('DIR')};
const args = process.argv.slice(2);
fs.appendFileSync(dir + '/calls.jsonl', JSON.stringify(args) + '\\n');
const state = JSON.parse(fs.readFileSync(dir + '/state.json', 'utf8'));
const save = () => fs.writeFileSync(dir + '/state.json', JSON.stringify(state));
const rest = args[0] === '--region' ? args.slice(2) : args;
const [svc, op] = rest;
const opt = (k) => { const i = rest.indexOf(k); return i < 0 ? undefined : rest[i + 1]; };
if (svc === 'cloudformation' && op === 'describe-stacks') {
  if (!state.exists) { console.error('Stack does not exist'); process.exit(254); }
  const q = opt('--query');
  const m = q && /OutputKey=='([A-Za-z0-9]+)'/.exec(q);
  const p = q && /ParameterKey=='([A-Za-z0-9]+)'/.exec(q);
  if (p) console.log((state.params || {})[p[1]] ?? 'None');
  else console.log(m ? (${JSON.stringify(OUTPUTS)}[m[1]] || 'None') : '{}');
} else if (svc === 'cloudformation' && op === 'deploy') {
  state.exists = true; save();
} else if (svc === 'cloudformation' && op === 'delete-stack') {
  state.exists = false; save();
} else if (svc === 'ssm' && op === 'send-command') {
  console.log('cmd-1');
} else if (svc === 'ssm' && op === 'get-command-invocation') {
  console.log(opt('--query') === 'Status' ? state.ssmStatus || 'Success' : 'boom');
}
`;

async function sandbox(state) {
  const dir = await tmpDir('es-awscli-');
  writeFileSync(path.join(dir, 'aws'), FAKE_AWS.replace('"DIR"', JSON.stringify(dir)));
  chmodSync(path.join(dir, 'aws'), 0o755);
  writeFileSync(path.join(dir, 'state.json'), JSON.stringify(state));
  writeFileSync(path.join(dir, 'calls.jsonl'), '');
  const run = (script, args, opts = {}) => spawnSync('bash', [script, ...args], {
    encoding: 'utf8', input: opts.input ?? '',
    env: { ...process.env, PATH: `${dir}:${process.env.PATH}`,
      ECHOSTREAM_POLL_SECONDS: '0', ECHOSTREAM_STACK: '' },
  });
  const calls = () => readFileSync(path.join(dir, 'calls.jsonl'), 'utf8')
    .split('\n').filter(Boolean).map((l) => JSON.parse(l));
  return { dir, run, calls, done: () => rmSync(dir, { recursive: true, force: true }) };
}

const find = (calls, svc, op) => calls.filter((c) => {
  const r = c[0] === '--region' ? c.slice(2) : c;
  return r[0] === svc && r[1] === op;
});
const overrides = (call) => {
  const i = call.indexOf('--parameter-overrides');
  return i < 0 ? [] : call.slice(i + 1);
};

test('--help explains both scripts', () => {
  for (const [s, word] of [[DEPLOY, '--package-url'], [DESTROY, '--delete-bucket']]) {
    const r = spawnSync('bash', [s, '--help'], { encoding: 'utf8' });
    assert.equal(r.status, 0);
    assert.match(r.stdout, new RegExp(word));
  }
});

test('creating the stack needs a release; with one it passes every parameter', async () => {
  const sb = await sandbox({ exists: false });
  try {
    let r = sb.run(DEPLOY, ['--stack', 'es1', 'DomainName=echostream.example.com']);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /needs --package-url/);
    assert.equal(find(sb.calls(), 'cloudformation', 'deploy').length, 0);

    r = sb.run(DEPLOY, ['--stack', 'es1', '--region', 'eu-west-1', '--package-url', `${URL1}/`,
      'DomainName=echostream.example.com', 'SenderEmail=alerts@example.com',
      'OperatorEmail=ops@example.com']);
    assert.equal(r.status, 0, r.stderr);
    const [d] = find(sb.calls(), 'cloudformation', 'deploy');
    assert.deepEqual(d.slice(0, 2), ['--region', 'eu-west-1']);
    assert.ok(d.includes('CAPABILITY_IAM') && d.includes('--no-fail-on-empty-changeset'));
    assert.equal(d[d.indexOf('--template-file') + 1],
      path.join(ROOT, 'deploy', 'aws', 'template.yaml'));
    assert.equal(d[d.indexOf('--stack-name') + 1], 'es1');
    assert.deepEqual(overrides(d).sort(), ['DomainName=echostream.example.com',
      'OperatorEmail=ops@example.com', `PackageUrl=${URL1}`,
      'SenderEmail=alerts@example.com']);
    assert.equal(find(sb.calls(), 'ssm', 'send-command').length, 0, 'a new instance installs itself');
    assert.match(r.stdout, /^Dashboard: https:\/\/echostream\.example\.com\/$/m);
    assert.match(r.stdout, /^DNS: echostream\.example\.com -> 203\.0\.113\.7/m);
    assert.match(r.stdout, /^DKIM: a\._domainkey\.example\.com CNAME/m);
  } finally {
    sb.done();
  }
});

test('running it again changes nothing it was not asked to', async () => {
  const sb = await sandbox({ exists: true });
  try {
    const r = sb.run(DEPLOY, []);
    assert.equal(r.status, 0, r.stderr);
    const [d] = find(sb.calls(), 'cloudformation', 'deploy');
    assert.equal(d[d.indexOf('--stack-name') + 1], 'echostream');
    assert.deepEqual(overrides(d), [], 'previous parameter values are kept');
    assert.equal(find(sb.calls(), 'ssm', 'send-command').length, 0);
    assert.match(r.stdout, /^Dashboard: /m);
  } finally {
    sb.done();
  }
});

test('a parameter only the first boot reads is not changed on a running stack unless asked', async () => {
  const PROFILE = 'global.anthropic.claude-haiku-4-5-20251001-v1:0';
  const sb = await sandbox({ exists: true, params: {
    DomainName: 'echostream.example.com', BedrockModelId: PROFILE,
    BedrockPriceInputPerMtok: '1.00', MonthlyBudget: '15' } });
  try {
    // the same values again, and a parameter the instance does not read
    let r = sb.run(DEPLOY, ['DomainName=echostream.example.com', `BedrockModelId=${PROFILE}`,
      'MonthlyBudget=20']);
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(overrides(find(sb.calls(), 'cloudformation', 'deploy')[0]).sort(),
      [`BedrockModelId=${PROFILE}`, 'DomainName=echostream.example.com', 'MonthlyBudget=20']);

    // a new model and its prices: refused before any change, with the way out
    r = sb.run(DEPLOY, ['BedrockModelId=anthropic.claude-3-haiku-20240307-v1:0',
      'BedrockPriceInputPerMtok=0.25', 'MonthlyBudget=25']);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /BedrockModelId BedrockPriceInputPerMtok would change on stack echostream/);
    assert.match(r.stderr, /first boot/);
    assert.match(r.stderr, /--restart-instance/);
    assert.equal(find(sb.calls(), 'cloudformation', 'deploy').length, 1, 'nothing deployed');

    // asked for: it goes ahead and says what it does
    r = sb.run(DEPLOY, ['--restart-instance', 'InstanceType=t4g.micro']);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /changing InstanceType: CloudFormation stops and starts the instance/);
    const deploys = find(sb.calls(), 'cloudformation', 'deploy');
    assert.equal(deploys.length, 2);
    assert.deepEqual(overrides(deploys[1]), ['InstanceType=t4g.micro']);
  } finally {
    sb.done();
  }
});

test('a new release on an existing stack is installed through SSM, not the user data', async () => {
  const sb = await sandbox({ exists: true });
  try {
    const r = sb.run(DEPLOY, ['--package-url', URL2, 'MonthlyBudget=20']);
    assert.equal(r.status, 0, r.stderr);
    const [d] = find(sb.calls(), 'cloudformation', 'deploy');
    assert.deepEqual(overrides(d), ['MonthlyBudget=20'], 'PackageUrl is not changed');
    const [s] = find(sb.calls(), 'ssm', 'send-command');
    assert.equal(s[s.indexOf('--instance-ids') + 1], OUTPUTS.InstanceId);
    assert.equal(s[s.indexOf('--document-name') + 1], 'AWS-RunShellScript');
    const { commands } = JSON.parse(s[s.indexOf('--parameters') + 1]);
    assert.equal(commands.length, 1);
    assert.ok(commands[0].includes(`'${URL2}/SHA256SUMS'`));
    assert.match(commands[0], /sha256sum -c -; bash instance-setup\.sh 'https:/);
    // the command is a clean POSIX shell script too: AWS-RunShellScript
    // runs it with sh, which is dash on Debian 12 (no pipefail)
    const sc = spawnSync('shellcheck', ['-s', 'sh', '-f', 'gcc', '-'],
      { input: commands[0], encoding: 'utf8' });
    assert.equal(sc.status, 0, sc.stdout);
    assert.match(r.stderr, /upgrade done/);
  } finally {
    sb.done();
  }
});

test('a failed upgrade fails the deploy, with the instance\'s error', async () => {
  const sb = await sandbox({ exists: true, ssmStatus: 'Failed' });
  try {
    const r = sb.run(DEPLOY, ['--package-url', URL2]);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /boom/);
    assert.match(r.stderr, /ended Failed/);
  } finally {
    sb.done();
  }
});

test('deploy refuses a release address that is not plain https', async () => {
  const sb = await sandbox({ exists: false });
  try {
    for (const bad of ['http://example.com/r', "https://example.com/r'; rm -rf /", 'ftp://x']) {
      const r = sb.run(DEPLOY, ['--package-url', bad]);
      assert.equal(r.status, 1, bad);
      assert.match(r.stderr, /must be an https:\/\/ address/);
    }
    const r = sb.run(DEPLOY, ['--package-url', URL1, 'PackageUrl=https://x.example']);
    assert.equal(r.status, 1);
    assert.equal(find(sb.calls(), 'cloudformation', 'deploy').length, 0);
  } finally {
    sb.done();
  }
});

test('destroy keeps the bucket and the user pool unless told', async () => {
  let sb = await sandbox({ exists: true });
  try {
    const r = sb.run(DESTROY, ['--yes']);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(find(sb.calls(), 'cloudformation', 'delete-stack').length, 1);
    assert.equal(find(sb.calls(), 's3', 'rm').length, 0);
    assert.equal(find(sb.calls(), 'cognito-idp', 'delete-user-pool').length, 0);
    assert.match(r.stderr, /kept bucket echostream-archive-x/);
    assert.match(r.stderr, /kept user pool eu-west-1_abc/);
  } finally {
    sb.done();
  }
  sb = await sandbox({ exists: true });
  try {
    const r = sb.run(DESTROY, ['--yes', '--delete-bucket', '--delete-user-pool']);
    assert.equal(r.status, 0, r.stderr);
    const [rm] = find(sb.calls(), 's3', 'rm');
    assert.deepEqual(rm, ['s3', 'rm', 's3://echostream-archive-x', '--recursive']);
    assert.equal(find(sb.calls(), 's3api', 'delete-bucket').length, 1);
    assert.equal(find(sb.calls(), 'cognito-idp', 'delete-user-pool').length, 1);
  } finally {
    sb.done();
  }
});

test('destroy asks first, and deletes nothing unasked without a terminal', async () => {
  const sb = await sandbox({ exists: true });
  try {
    const r = sb.run(DESTROY, ['--delete-bucket']);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /pass --yes/);
    assert.equal(find(sb.calls(), 'cloudformation', 'delete-stack').length, 0);
  } finally {
    sb.done();
  }
});
