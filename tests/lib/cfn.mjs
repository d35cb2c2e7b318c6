// cfn.mjs - reads a CloudFormation template written in YAML (with the short
// tags !Ref, !Sub, !GetAtt, ...) and evaluates its intrinsic functions for
// given parameter values, so a test can look at what a stack would really
// get: the actions and resources of a policy, the lines of the user data.
//
// Parameters and pseudo parameters (AWS::Region, ...) resolve to the values
// given, or to the parameter's Default. What only exists once the stack
// does - Ref or Fn::GetAtt of a resource - resolves to a placeholder that
// names it, "<Queue>" or "<Queue.Arn>", so a test can compare exact strings
// such as "<Bucket.Arn>/raw/*". Conditions are evaluated; Fn::If picks its
// branch and AWS::NoValue drops the key or list item it stands in.

import { readFileSync } from 'node:fs';
import YAML from 'yaml';

const FUNCS = ['Ref', 'Condition', 'Fn::Base64', 'Fn::Cidr', 'Fn::FindInMap',
  'Fn::GetAtt', 'Fn::GetAZs', 'Fn::ImportValue', 'Fn::Join', 'Fn::Select',
  'Fn::Split', 'Fn::Sub', 'Fn::If', 'Fn::Equals', 'Fn::Not', 'Fn::And',
  'Fn::Or'];

// one YAML tag per intrinsic: !Ref x -> {Ref: x}, !GetAtt a.b -> {Fn::GetAtt:
// [a, b]}, !Sub s -> {Fn::Sub: s}, for scalars, sequences and mappings
const customTags = FUNCS.flatMap((fn) => {
  const short = fn.replace(/^Fn::/, '');
  const wrap = (v) => {
    if (fn === 'Fn::GetAtt' && typeof v === 'string') {
      const dot = v.indexOf('.');
      return { [fn]: [v.slice(0, dot), v.slice(dot + 1)] };
    }
    return { [fn]: v };
  };
  return ['scalar', 'seq', 'map'].map((nodeClass) => ({
    tag: `!${short}`,
    collection: nodeClass === 'scalar' ? undefined : nodeClass,
    resolve: (node) => wrap(node && typeof node.toJSON === 'function'
      ? node.toJSON() : node),
  }));
});

export function parseTemplate(file) {
  return YAML.parse(readFileSync(file, 'utf8'), { customTags });
}

const NO_VALUE = Symbol('AWS::NoValue');

export class Evaluator {
  constructor(template, params = {}, pseudo = {}) {
    this.t = template;
    this.values = {
      'AWS::Region': 'eu-west-1', 'AWS::AccountId': '123456789012',
      'AWS::Partition': 'aws', 'AWS::StackName': 'echostream',
      'AWS::URLSuffix': 'amazonaws.com', ...pseudo,
    };
    for (const [name, p] of Object.entries(template.Parameters || {})) {
      if (name in params) this.values[name] = String(params[name]);
      else if ('Default' in p) this.values[name] = String(p.Default);
    }
    for (const name of Object.keys(params)) {
      if (!(name in (template.Parameters || {}))) {
        throw new Error(`no parameter ${name} in the template`);
      }
    }
    this.conds = {};
  }

  condition(name) {
    if (!(name in this.conds)) {
      const c = (this.t.Conditions || {})[name];
      if (c === undefined) throw new Error(`no condition ${name}`);
      this.conds[name] = this.eval(c);
    }
    return this.conds[name];
  }

  ref(name) {
    if (name === 'AWS::NoValue') return NO_VALUE;
    if (name in this.values) return this.values[name];
    if ((this.t.Resources || {})[name]) return `<${name}>`;
    throw new Error(`Ref to unknown ${name} (a parameter without a value?)`);
  }

  sub(text, vars = {}) {
    return text.replace(/\$\{([^}!]+)\}/g, (_, name) => {
      if (name in vars) return vars[name];
      if (name.includes('.') && !name.startsWith('AWS::')) {
        const [res, ...attr] = name.split('.');
        if (!(this.t.Resources || {})[res]) throw new Error(`Sub of ${name}`);
        return `<${res}.${attr.join('.')}>`;
      }
      return String(this.ref(name));
    }).replace(/\$\{!/g, '${');
  }

  // evaluates node; NO_VALUE inside objects and lists drops the entry
  eval(node) {
    if (Array.isArray(node)) {
      return node.map((n) => this.eval(n)).filter((v) => v !== NO_VALUE);
    }
    if (node === null || typeof node !== 'object') return node;
    const keys = Object.keys(node);
    if (keys.length === 1 && FUNCS.includes(keys[0])) {
      return this.fn(keys[0], node[keys[0]]);
    }
    const out = {};
    for (const k of keys) {
      const v = this.eval(node[k]);
      if (v !== NO_VALUE) out[k] = v;
    }
    return out;
  }

  fn(name, arg) {
    switch (name) {
      case 'Ref': return this.ref(arg);
      case 'Condition': return this.condition(arg);
      case 'Fn::GetAtt': {
        const [res, attr] = Array.isArray(arg) ? arg : arg.split('.');
        if (!(this.t.Resources || {})[res]) throw new Error(`GetAtt ${res}`);
        return `<${res}.${attr}>`;
      }
      case 'Fn::Sub': {
        if (typeof arg === 'string') return this.sub(arg);
        const vars = this.eval(arg[1]);
        return this.sub(arg[0], vars);
      }
      case 'Fn::Join': {
        const [sep, list] = arg;
        return this.eval(list).join(sep);
      }
      case 'Fn::Select': {
        const [i, list] = [this.eval(arg[0]), this.eval(arg[1])];
        if (!(Number(i) < list.length)) throw new Error(`Select ${i} of ${list}`);
        return list[Number(i)];
      }
      case 'Fn::Split': return String(this.eval(arg[1])).split(arg[0]);
      case 'Fn::Base64': return this.eval(arg);
      case 'Fn::GetAZs': return ['eu-west-1a', 'eu-west-1b', 'eu-west-1c'];
      case 'Fn::If':
        return this.condition(arg[0]) ? this.eval(arg[1]) : this.eval(arg[2]);
      case 'Fn::Equals': return this.eval(arg[0]) === this.eval(arg[1]);
      case 'Fn::Not': return !this.eval(arg[0]);
      case 'Fn::And': return arg.every((c) => this.eval(c));
      case 'Fn::Or': return arg.some((c) => this.eval(c));
      default: throw new Error(`${name} is not evaluated here`);
    }
  }

  // the resources that exist for these parameters, evaluated
  resources() {
    const out = {};
    for (const [name, r] of Object.entries(this.t.Resources || {})) {
      if (r.Condition && !this.condition(r.Condition)) continue;
      out[name] = { ...r, Properties: this.eval(r.Properties || {}) };
    }
    return out;
  }
}
