// aws_template.test.mjs - the CloudFormation template (deploy/aws/
// template.yaml) is valid against CloudFormation's resource specification,
// its instance role grants exactly the list docs/deploy.md gives and
// nothing more, and the rest of the stack is shaped as promised.
//
// Validation is offline: deploy/aws/lint-template.cjs runs cfn-lint (npm,
// pinned) with the specification @aws-cdk/cfnspec ships (npm, pinned). It
// runs once per set of parameters that flips the template's Conditions
// (certbot or a load balancer, a new VPC or an existing one, an inference
// profile or a plain model id), and is shown to reject copies of the
// template with an unknown property, at the top of a resource and nested
// in a property type, and an unknown resource type.
//
// The policy check does not trust the linter: it evaluates the template
// (tests/lib/cfn.mjs) for those same parameter sets and compares every
// statement of the role, its managed policies and its trust policy with
// the allowed list, and looks for any other IAM resource that could widen
// it.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';

import { ROOT, tmpDir } from '../../lib/harness.mjs';
import { Evaluator, parseTemplate } from '../../lib/cfn.mjs';

const TEMPLATE = path.join(ROOT, 'deploy', 'aws', 'template.yaml');
const LINT = path.join(ROOT, 'deploy', 'aws', 'lint-template.cjs');
const SOURCE = readFileSync(TEMPLATE, 'utf8');
const T = parseTemplate(TEMPLATE);

const REQUIRED = {
  DomainName: 'echostream.example.com',
  SenderEmail: 'alerts@mail.example.com',
  OperatorEmail: 'ops@example.com',
  PackageUrl: 'https://github.com/o/r/releases/download/v1.0.0',
};
const PROFILE = 'global.anthropic.claude-haiku-4-5-20251001-v1:0';
const PLAIN = 'anthropic.claude-3-haiku-20240307-v1:0';
// every way the Conditions go
const CASES = {
  'certbot, new VPC, inference profile': {},
  'load balancer, existing VPC, hosted zone, key pair, plain model': {
    TlsMode: 'alb', VpcId: 'vpc-0abc', SubnetId: 'subnet-0a',
    SecondSubnetId: 'subnet-0b', HostedZoneId: 'Z0123456789', KeyName: 'me',
    BedrockModelId: PLAIN,
  },
  'certbot, hosted zone, existing VPC': {
    HostedZoneId: 'Z0123456789', VpcId: 'vpc-0abc', SubnetId: 'subnet-0a',
  },
};

function lint(file, params) {
  const args = [LINT];
  for (const [k, v] of Object.entries(params)) args.push('--param', `${k}=${v}`);
  args.push(file);
  return spawnSync(process.execPath, args, { encoding: 'utf8' });
}

function stack(params) {
  return new Evaluator(T, { ...REQUIRED, ...params });
}

const list = (x) => (Array.isArray(x) ? x : [x]);

for (const [name, params] of Object.entries(CASES)) {
  test(`the template passes the linter (${name})`, () => {
    const r = lint(TEMPLATE, { ...REQUIRED, ...params });
    assert.equal(r.status, 0, `${r.stdout}${r.stderr}`);
    assert.match(r.stdout, /resource specification \d+\.\d+\.\d+/);
    assert.match(r.stdout, /^template ok$/m);
  });
}

test('the linter rejects unknown properties and resource types', async () => {
  const dir = await tmpDir('es-cfn-');
  try {
    const mutations = {
      'a property of a resource': ['      ClientName: dashboard\n',
        '      ClientName: dashboard\n      ClientNam: dashboard\n',
        /ClientNam is not a valid property of AWS::Cognito::UserPoolClient/],
      'a property inside a property type': ['            Status: Enabled\n',
        '            Status: Enabled\n            Expires: 30\n', /Expires/],
      'a resource type': ['  MirrorQueue:\n    Type: AWS::SQS::Queue\n',
        '  MirrorQueue:\n    Type: AWS::SQS::Queues\n', /AWS::SQS::Queues/],
    };
    for (const [what, [from, to, message]] of Object.entries(mutations)) {
      assert.equal(SOURCE.split(from).length, 2, `'${from.trim()}' is in the template once`);
      const file = path.join(dir, 'template.yaml');
      writeFileSync(file, SOURCE.replace(from, to));
      const r = lint(file, REQUIRED);
      assert.equal(r.status, 1, `${what}: rejected\n${r.stdout}${r.stderr}`);
      assert.match(r.stdout, message, what);
      assert.match(r.stdout, /^template invalid$/m);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

// What the instance may do, as docs/deploy.md lists it. Every statement
// of the role must be one of these, each exactly once.
function allowed(params) {
  const p = { ...REQUIRED, ...params };
  const region = 'eu-west-1';
  const account = '123456789012';
  const model = p.BedrockModelId || PROFILE;
  const domain = p.SenderEmail.split('@')[1];
  const bedrock = model.split('.').length === 3
    ? [`arn:aws:bedrock:${region}:${account}:inference-profile/${model}`,
      `arn:aws:bedrock:*::foundation-model/${model.split('.').slice(1).join('.')}`]
    : [`arn:aws:bedrock:${region}::foundation-model/${model}`];
  return {
    'comprehend:BatchDetectSentiment': ['*'],
    'bedrock:InvokeModel': bedrock,
    'sqs:SendMessage': ['<MirrorQueue.Arn>'],
    'ses:SendEmail': [`arn:aws:ses:${region}:${account}:identity/${domain}`],
    's3:PutObject': [`<ArchiveBucket.Arn>/${p.ArchivePrefix || 'raw/'}*`],
  };
}

for (const [name, params] of Object.entries(CASES)) {
  test(`the instance role grants the list and nothing more (${name})`, () => {
    const res = stack(params).resources();
    const role = res.InstanceRole.Properties;

    assert.deepEqual(role.AssumeRolePolicyDocument.Statement, [{
      Effect: 'Allow', Principal: { Service: 'ec2.amazonaws.com' },
      Action: 'sts:AssumeRole',
    }], 'only EC2 may assume the role');
    assert.deepEqual([...role.ManagedPolicyArns].sort(), [
      'arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore',
      'arn:aws:iam::aws:policy/CloudWatchAgentServerPolicy',
    ], 'SSM and CloudWatch agent basics, nothing else managed');

    const want = allowed(params);
    const got = {};
    for (const pol of role.Policies) {
      for (const st of list(pol.PolicyDocument.Statement)) {
        for (const k of Object.keys(st)) {
          assert.ok(['Sid', 'Effect', 'Action', 'Resource', 'Condition'].includes(k),
            `statement ${st.Sid}: ${k} (NotAction, NotResource widen a grant)`);
        }
        assert.equal(st.Effect, 'Allow');
        for (const action of list(st.Action)) {
          assert.ok(!action.includes('*'), `${action}: no wildcard actions`);
          assert.ok(!(action in got), `${action} granted once`);
          got[action] = list(st.Resource);
          if (action === 'ses:SendEmail') {
            assert.deepEqual(st.Condition, {
              StringEquals: { 'ses:FromAddress': REQUIRED.SenderEmail },
            }, 'mail only from the sender address');
          } else {
            assert.equal(st.Condition, undefined);
          }
        }
      }
    }
    assert.deepEqual(got, want);

    // nothing else can attach permissions to the role or hand out keys
    for (const [n, r] of Object.entries(res)) {
      if (n === 'InstanceRole') continue;
      assert.ok(!/^AWS::IAM::(Policy|ManagedPolicy|Role|User|AccessKey|Group|UserToGroupAddition)$/
        .test(r.Type), `${n} (${r.Type}): no other IAM grant`);
    }
    assert.deepEqual(res.InstanceProfile.Properties.Roles, ['<InstanceRole>']);
  });
}

test('the instance role rejects a grant beyond the list (the check can fail)', () => {
  const widened = structuredClone(T);
  widened.Resources.InstanceRole.Properties.Policies[0].PolicyDocument.Statement
    .push({ Effect: 'Allow', Action: 's3:GetObject', Resource: '*' });
  const role = new Evaluator(widened, REQUIRED).resources().InstanceRole.Properties;
  const actions = role.Policies.flatMap((p) => p.PolicyDocument.Statement)
    .flatMap((s) => list(s.Action));
  assert.ok(actions.includes('s3:GetObject'));
  assert.notDeepEqual(actions.sort(), Object.keys(allowed({})).sort());
});

for (const [name, params] of Object.entries(CASES)) {
  test(`only ports 80 and 443 are open (${name})`, () => {
    const res = stack(params).resources();
    const ingress = [];
    for (const r of Object.values(res)) {
      if (r.Type === 'AWS::EC2::SecurityGroup') {
        ingress.push(...(r.Properties.SecurityGroupIngress || []));
      } else if (r.Type === 'AWS::EC2::SecurityGroupIngress') {
        ingress.push(r.Properties);
      }
    }
    assert.ok(ingress.length > 0);
    for (const rule of ingress) {
      assert.equal(rule.IpProtocol, 'tcp');
      assert.equal(rule.FromPort, rule.ToPort, 'one port a rule');
      assert.ok([80, 443].includes(rule.FromPort), `port ${rule.FromPort}`);
    }
    if (params.TlsMode === 'alb') {
      const open = ingress.filter((r) => r.CidrIp || r.CidrIpv6);
      assert.ok(open.every((r) => r.GroupId === undefined),
        'behind the load balancer the instance is reached from it only');
    }
  });
}

test('Cognito: e-mail sign-up, tenant_id read-only for the app, Hosted UI with PKCE', () => {
  const res = stack({}).resources();
  const pool = res.UserPool.Properties;
  assert.deepEqual(pool.UsernameAttributes, ['email']);
  assert.deepEqual(pool.AutoVerifiedAttributes, ['email']);
  assert.equal(pool.AdminCreateUserConfig.AllowAdminCreateUserOnly, false);
  const tenant = pool.Schema.find((a) => a.Name === 'tenant_id');
  assert.ok(tenant && tenant.AttributeDataType === 'String');
  assert.ok(res.UserPoolDomain, 'a Hosted UI domain');
  const c = res.UserPoolClient.Properties;
  assert.ok(c.ReadAttributes.includes('custom:tenant_id'), 'readable');
  assert.ok(!c.WriteAttributes.includes('custom:tenant_id'), 'not writable');
  assert.equal(c.GenerateSecret, false, 'a public client (PKCE, no secret)');
  assert.deepEqual(c.AllowedOAuthFlows, ['code']);
  assert.deepEqual(c.CallbackURLs, ['https://echostream.example.com/']);
});

test('SQS with a dead-letter queue, SES with DKIM outputs, an archive bucket locked down', () => {
  const res = stack({}).resources();
  const q = res.MirrorQueue.Properties;
  assert.equal(q.RedrivePolicy.deadLetterTargetArn, '<MirrorDeadLetterQueue.Arn>');
  assert.ok(q.RedrivePolicy.maxReceiveCount > 0);
  assert.equal(res.MailIdentity.Properties.EmailIdentity, 'mail.example.com');
  assert.equal(res.MailIdentity.Properties.DkimAttributes.SigningEnabled, true);
  for (const i of [1, 2, 3]) {
    assert.match(JSON.stringify(T.Outputs[`DkimRecord${i}`].Value),
      new RegExp(`DkimDNSTokenName${i}.*DkimDNSTokenValue${i}`));
  }
  const b = res.ArchiveBucket.Properties;
  assert.ok(b.BucketEncryption.ServerSideEncryptionConfiguration[0]
    .ServerSideEncryptionByDefault.SSEAlgorithm);
  assert.deepEqual(b.PublicAccessBlockConfiguration, {
    BlockPublicAcls: true, BlockPublicPolicy: true,
    IgnorePublicAcls: true, RestrictPublicBuckets: true,
  });
  const rule = b.LifecycleConfiguration.Rules[0];
  assert.ok(rule.Transitions.length > 0 && Number(rule.ExpirationInDays) > 0);
  assert.equal(T.Resources.ArchiveBucket.DeletionPolicy, 'Retain',
    'the bucket outlives the stack (destroy.sh --delete-bucket removes it)');
  const budget = res.Budget.Properties;
  assert.equal(budget.NotificationsWithSubscribers[0].Subscribers[0].SubscriptionType, 'EMAIL');
});

test('the user data writes the stack values under the workers\' own keys', () => {
  const ud = stack({}).resources().Instance.Properties.UserData;
  // every key written to echostream.conf is one the workers know
  const conf = /cat >\/etc\/echostream\/echostream\.conf <<'EOF'\n([^]*?)\nEOF\n/.exec(ud);
  assert.ok(conf, 'echostream.conf is written');
  const example = readFileSync(path.join(ROOT, 'conf', 'echostream.conf.example'), 'utf8');
  const keys = conf[1].split('\n').filter((l) => l && !l.startsWith('#'))
    .map((l) => l.split(' = ')[0]);
  for (const k of keys) {
    assert.match(example, new RegExp(`^#${k.replace(/\./g, '\\.')} =`, 'm'),
      `${k} is a key of conf/echostream.conf.example`);
  }
  for (const k of ['aws.region', 'mirror.queue_url', 's3.bucket', 's3.prefix',
    'bedrock.model', 'mail.from']) {
    assert.ok(keys.includes(k), `${k} written`);
  }
  assert.match(conf[1], /^mirror\.queue_url = <MirrorQueue\.QueueUrl>$/m);
  assert.match(conf[1], /^s3\.bucket = <ArchiveBucket>$/m);
  const json = /cat >\/etc\/echostream\/config\.json <<'EOF'\n([^]*?)\nEOF\n/.exec(ud);
  const cfg = JSON.parse(json[1]);
  assert.deepEqual(cfg.cognito, {
    region: 'eu-west-1', userPoolId: '<UserPool>', clientId: '<UserPoolClient>',
    domain: '<UserPoolDomain>.auth.eu-west-1.amazoncognito.com',
  });
  assert.match(conf[1], /^bedrock\.price_input_per_mtok = 1\.00$/m);
  assert.match(conf[1], /^bedrock\.price_output_per_mtok = 5\.00$/m);
  // and it is a clean shell script
  const r = spawnSync('shellcheck', ['-s', 'bash', '-f', 'gcc', '-'],
    { input: ud, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stdout);
});

test('the parameters deploy.sh keeps from a running instance are the ones its user data reads', () => {
  // every parameter the user data's text or variables name (the Sub's
  // own variables resolve to resources), plus the parameters those
  // resources' names are made of: the Hosted UI domain's prefix
  const [text, vars] = T.Resources.Instance.Properties.UserData['Fn::Base64']['Fn::Sub'];
  const named = new Set([...text.matchAll(/\$\{([A-Za-z0-9]+)\}/g)].map((m) => m[1]));
  const refs = (node) => JSON.stringify(node).match(/"Ref":"[A-Za-z0-9]+"/g) || [];
  for (const r of refs(vars)) named.add(r.slice(7, -1));
  const want = new Set([...named].filter((n) => n in T.Parameters));
  for (const n of named) {
    if (!(n in T.Resources)) continue;
    const d = T.Resources[n];
    if (d.Type !== 'AWS::Cognito::UserPoolDomain') continue;
    for (const m of JSON.stringify(d.Properties.Domain).matchAll(/\$\{([A-Za-z0-9]+)\}/g)) {
      if (m[1] in T.Parameters) want.add(m[1]);
    }
  }
  assert.ok(want.has('BedrockModelId') && want.has('DomainName') && want.has('AuthDomainPrefix'));
  assert.deepEqual([...T.Metadata['EchoStream::FirstBootParameters']].sort(), [...want].sort());
});
