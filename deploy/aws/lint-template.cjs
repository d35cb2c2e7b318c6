#!/usr/bin/env node
// deploy/aws/lint-template.cjs - validates a CloudFormation template offline:
// every resource type, property name, property type, required property,
// Ref, Fn::GetAtt and Fn::Sub against the CloudFormation resource
// specification. Unknown properties are errors.
//
//   node deploy/aws/lint-template.cjs [--param NAME=VALUE ...] TEMPLATE
//
// The linter is cfn-lint (npm, martysweet/cfn-lint, pinned in
// package-lock.json): it needs no AWS account and no network. Its own copy
// of the specification is from 2019 and lacks resources the template uses
// (AWS::SES::EmailIdentity, AWS::Cognito::UserPoolDomain, the OAuth
// properties of AWS::Cognito::UserPoolClient), so this file gives it the
// specification that @aws-cdk/cfnspec ships (npm, pinned; the version is
// printed) in the same published format, before any template is read.
//
// cfn-lint evaluates Conditions with the parameter values it is given (or
// guesses), and checks only the resources whose conditions hold: run it
// once per set of --param values that turns each resource on (the test
// suite runs both TLS modes, with and without an existing VPC).
//
// Prints one line per finding and "template ok" or "template invalid";
// exits 0, 1 (findings) or 2 (usage).
'use strict';

const path = require('node:path');

const awsData = require('cfn-lint/lib/awsData');
const spec = require('@aws-cdk/cfnspec/spec/specification.json');

awsData.awsResources.ResourceTypes = spec.ResourceTypes;
awsData.awsResources.PropertyTypes = spec.PropertyTypes;
awsData.awsResources.ResourceSpecificationVersion =
  spec.ResourceSpecificationVersion;

const cfnLint = require('cfn-lint/lib/api');

function usage(msg) {
  if (msg) process.stderr.write(`lint-template: ${msg}\n`);
  process.stderr.write(
    'usage: lint-template.cjs [--param NAME=VALUE ...] TEMPLATE\n');
  process.exit(2);
}

function main(argv) {
  const parameters = {};
  let file;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--help' || a === '-h') usage();
    if (a === '--param') {
      const kv = argv[++i] || '';
      const eq = kv.indexOf('=');
      if (eq < 1) usage(`--param wants NAME=VALUE, not '${kv}'`);
      parameters[kv.slice(0, eq)] = kv.slice(eq + 1);
    } else if (!file && !a.startsWith('-')) {
      file = a;
    } else {
      usage(`unexpected argument '${a}'`);
    }
  }
  if (!file) usage('no template given');

  process.stdout.write(`lint-template: ${path.basename(file)} against the ` +
    `CloudFormation resource specification ${spec.ResourceSpecificationVersion}\n`);
  let result;
  try {
    result = cfnLint.validateFile(file, { parameters });
  } catch (err) {
    process.stdout.write(`error: ${err.message}\ntemplate invalid\n`);
    return 1;
  }
  const { crit = [], warn = [] } = result.errors;
  for (const e of crit) process.stdout.write(`error: ${e.resource}: ${e.message}\n`);
  for (const e of warn) process.stdout.write(`warning: ${e.resource}: ${e.message}\n`);
  // a warning is a finding too: the template is kept free of both
  const ok = result.templateValid && crit.length === 0 && warn.length === 0;
  process.stdout.write(ok ? 'template ok\n' : 'template invalid\n');
  return ok ? 0 : 1;
}

process.exitCode = main(process.argv.slice(2));
