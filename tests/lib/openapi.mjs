// openapi.mjs - checks HTTP responses against docs/openapi.yaml.
//
// The API's tests pass every response they get through validateResponse()
// so the document and the module cannot drift apart unnoticed: the path is
// matched to its template, the status must be documented for that
// operation (or `default`), the Content-Type must be one the response
// declares, required headers must be present and well-formed, and a JSON
// body must satisfy the schema (Ajv, OpenAPI 3.0 dialect: `nullable`,
// `example`). Anything else throws an Error whose message names the
// request, the status and exactly what did not match.
//
// Requests outside any documented route or method are not free passes:
// under /api/v1 they may only get the answers the document promises for
// every request (404 or 401 for an unknown path, 405 with Allow for an
// unknown method, 429, 500, 503), each checked against its shared
// response in components/responses.

import { readFileSync } from 'node:fs';
import path from 'node:path';
import assert from 'node:assert/strict';

import Ajv from 'ajv';
import addFormats from 'ajv-formats';
import YAML from 'yaml';

import { ROOT } from './harness.mjs';

export const SPEC_PATH = path.join(ROOT, 'docs', 'openapi.yaml');
export const API_PREFIX = '/api/v1/';

// The schema document Ajv holds; component refs are rewritten into it.
const DEFS_ID = 'echostream-openapi';

// The shared response of each status any /api/v1 request may get.
const GENERIC = {
  401: 'Unauthorized', 404: 'NotFound', 405: 'MethodNotAllowed',
  429: 'RateLimited', 500: 'Internal', 503: 'Unavailable',
};
const UNKNOWN_PATH_STATUSES = [401, 404, 405, 429, 500, 503];
const UNKNOWN_METHOD_STATUSES = [401, 405, 429, 500, 503];

// Resolves a local JSON pointer ("#/a/b~1c") in doc; throws if absent.
export function resolvePointer(doc, ref) {
  if (typeof ref !== 'string' || !ref.startsWith('#/')) {
    throw new Error(`only local $refs are allowed, got ${JSON.stringify(ref)}`);
  }
  let node = doc;
  for (const raw of ref.slice(2).split('/')) {
    const key = decodeURIComponent(raw).replace(/~1/g, '/').replace(/~0/g, '~');
    if (node === null || typeof node !== 'object' || !(key in node)) {
      throw new Error(`$ref ${ref} does not resolve (no "${key}")`);
    }
    node = node[key];
  }
  return node;
}

// Follows $ref chains of a non-schema object (response, header, parameter).
function deref(doc, obj) {
  let o = obj;
  for (let i = 0; o && typeof o === 'object' && '$ref' in o; i++) {
    if (i > 20) throw new Error(`$ref loop at ${obj.$ref}`);
    o = resolvePointer(doc, o.$ref);
  }
  return o;
}

// A deep copy of a schema with component refs pointing into DEFS_ID.
function rewriteRefs(node) {
  if (Array.isArray(node)) return node.map(rewriteRefs);
  if (node === null || typeof node !== 'object') return node;
  const out = {};
  for (const [k, v] of Object.entries(node)) {
    if (k === '$ref' && typeof v === 'string') {
      const m = /^#\/components\/schemas\/([^/]+)$/.exec(v);
      if (!m) throw new Error(`unsupported schema $ref ${v}`);
      out.$ref = `${DEFS_ID}#/definitions/${m[1]}`;
    } else if (k === 'properties' && v && typeof v === 'object') {
      // property names are data, not keywords: copy them as they are
      out.properties = Object.fromEntries(Object.entries(v)
        .map(([pk, pv]) => [pk, rewriteRefs(pv)]));
    } else if (k === 'example' || k === 'default' || k === 'enum') {
      out[k] = v;
    } else {
      out[k] = rewriteRefs(v);
    }
  }
  return out;
}

// A short, single-line rendering of a value for messages.
function show(v, max = 120) {
  let s;
  try { s = JSON.stringify(v); } catch { s = String(v); }
  if (s === undefined) s = String(v);
  return s.length > max ? `${s.slice(0, max)}…` : s;
}

// Looks a header up whatever the shape of the headers (object or Headers).
function headerOf(headers, name) {
  if (!headers) return undefined;
  if (typeof headers.get === 'function') {
    const v = headers.get(name);
    return v === null ? undefined : v;
  }
  const want = name.toLowerCase();
  for (const [k, v] of Object.entries(headers)) {
    if (k.toLowerCase() === want) return Array.isArray(v) ? v.join(', ') : v;
  }
  return undefined;
}

// The media type of a Content-Type value, lower case, without parameters.
function mediaType(ct) {
  return String(ct ?? '').split(';')[0].trim().toLowerCase();
}

function isJsonMedia(mt) {
  return mt === 'application/json' || /\+json$/.test(mt);
}

// Turns a header's text into what its schema describes.
function headerValue(text, schema) {
  const t = schema?.type;
  if ((t === 'integer' || t === 'number') && /^-?[0-9]+(\.[0-9]+)?$/
    .test(text.trim())) {
    return Number(text.trim());
  }
  if (t === 'boolean' && /^(true|false)$/.test(text)) return text === 'true';
  return text;
}

export class OpenApiValidator {
  // doc: the parsed document (an object).
  constructor(doc) {
    this.doc = doc;
    this.ajv = new Ajv({ allErrors: true, strict: true, strictTypes: false,
                         validateFormats: true });
    addFormats(this.ajv);
    this.ajv.addKeyword('example');
    this.ajv.addKeyword('externalDocs');
    this.ajv.addKeyword('xml');
    const defs = {};
    for (const [name, s] of Object.entries(doc.components?.schemas ?? {})) {
      defs[name] = rewriteRefs(s);
    }
    this.ajv.addSchema({ $id: DEFS_ID, definitions: defs });
    this.compiled = new WeakMap();
    this.routes = Object.keys(doc.paths ?? {}).map((tpl) => {
      const names = [];
      const re = tpl.split(/(\{[^}]+\})/).map((part) => {
        const m = /^\{([^}]+)\}$/.exec(part);
        if (m) { names.push(m[1]); return '([^/]+)'; }
        return part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      }).join('');
      return { template: tpl, re: new RegExp(`^${re}$`), names,
               item: doc.paths[tpl] };
    });
    // literal routes win over templated ones (/members/invites before
    // /members/{sub}), as OpenAPI requires
    this.routes.sort((a, b) => a.names.length - b.names.length ||
      b.template.length - a.template.length);
  }

  // A compiled validator for a schema object of the document.
  compile(schema) {
    let v = this.compiled.get(schema);
    if (!v) {
      v = this.ajv.compile(rewriteRefs(schema));
      this.compiled.set(schema, v);
    }
    return v;
  }

  // A compiled validator for components/schemas/<name>.
  schema(name) {
    const s = this.doc.components?.schemas?.[name];
    if (!s) throw new Error(`openapi: no schema ${name}`);
    return this.compile(s);
  }

  // Validates value against a schema; returns a list of problems ([] = ok).
  check(schema, value) {
    const v = typeof schema === 'string' ? this.schema(schema)
                                         : this.compile(schema);
    if (v(value)) return [];
    return v.errors.map((e) => {
      let where = e.instancePath || '(root)';
      let what = e.message;
      if (e.keyword === 'additionalProperties') {
        what = `has unknown member "${e.params.additionalProperty}"`;
      } else if (e.keyword === 'required') {
        what = `lacks required member "${e.params.missingProperty}"`;
      } else if (e.keyword === 'enum') {
        what = `must be one of ${show(e.params.allowedValues)}`;
      }
      let got = value;
      for (const p of e.instancePath.split('/').slice(1)) {
        got = got?.[p.replace(/~1/g, '/').replace(/~0/g, '~')];
      }
      if (!['required', 'additionalProperties'].includes(e.keyword)) {
        what += ` (got ${show(got, 60)})`;
      }
      if (where === '') where = '(root)';
      return `${where} ${what}`;
    });
  }

  // The route of a request path (query string ignored): {template, item,
  // params} or null.
  findRoute(reqPath) {
    let p = String(reqPath);
    if (/^https?:\/\//.test(p)) p = new URL(p).pathname;
    p = p.split(/[?#]/)[0];
    for (const r of this.routes) {
      const m = r.re.exec(p);
      if (m) {
        const params = {};
        r.names.forEach((n, i) => { params[n] = m[i + 1]; });
        return { template: r.template, item: r.item, params, path: p };
      }
    }
    return { template: null, item: null, params: {}, path: p };
  }

  // Which response object describes (method, path, status); throws if none.
  // Returns {response, where, op}.
  responseFor(method, reqPath, status) {
    const m = String(method).toLowerCase();
    const route = this.findRoute(reqPath);
    const label = `${method.toUpperCase()} ${route.path} → ${status}`;
    const generic = (allowed, why) => {
      if (!allowed.includes(status)) {
        throw new Error(`openapi: ${label}: ${why}; such a request may only ` +
                        `be answered ${allowed.join(', ')}`);
      }
      const name = GENERIC[status];
      return { response: deref(this.doc, { $ref:
        `#/components/responses/${name}` }), where: `components/responses/${
        name} (${why})`, op: null, route };
    };
    if (!route.template) {
      if (!route.path.startsWith(API_PREFIX)) {
        throw new Error(`openapi: ${label}: no path of the document matches`);
      }
      return generic(UNKNOWN_PATH_STATUSES, 'no documented route');
    }
    let op = route.item[m];
    if (!op && m === 'head') op = route.item.get;
    if (!op) {
      if (!route.template.startsWith(API_PREFIX)) {
        throw new Error(`openapi: ${label}: ${route.template} documents no ` +
                        `${m.toUpperCase()}`);
      }
      return generic(UNKNOWN_METHOD_STATUSES, `${route.template} has no ${
        m.toUpperCase()}`);
    }
    const responses = op.responses ?? {};
    const key = String(status);
    let r = responses[key];
    let where = `${route.template} ${m} ${key}`;
    if (!r) r = responses[`${key[0]}XX`];
    if (!r && responses.default) {
      r = responses.default;
      where = `${route.template} ${m} default`;
    }
    if (!r) {
      throw new Error(`openapi: ${label}: status ${status} is not documented ` +
                      `for ${m.toUpperCase()} ${route.template} (documented: ${
                      Object.keys(responses).join(', ')})`);
    }
    return { response: deref(this.doc, r), where, op, route };
  }

  // Validates res = {status, headers, body|text|json} of (method, path).
  // Returns the parsed JSON body (undefined for other content). Throws an
  // Error naming every mismatch.
  validateResponse(method, reqPath, res) {
    if (!res || typeof res.status !== 'number') {
      throw new Error('openapi: the response has no numeric status');
    }
    const { response, where } = this.responseFor(method, reqPath, res.status);
    const label = `${String(method).toUpperCase()} ${reqPath} → ${
      res.status}`;
    const text = res.text ?? res.body ?? (res.json !== undefined
      ? JSON.stringify(res.json) : '');
    const problems = [];

    for (const [name, h] of Object.entries(response.headers ?? {})) {
      const hdr = deref(this.doc, h);
      const v = headerOf(res.headers, name);
      if (v === undefined) {
        if (hdr.required) problems.push(`header ${name} is missing`);
        continue;
      }
      if (hdr.schema) {
        for (const p of this.check(hdr.schema, headerValue(String(v),
          hdr.schema))) {
          problems.push(`header ${name}: ${p.replace(/^\(root\) /, '')}`);
        }
      }
    }

    let json;
    const head = String(method).toLowerCase() === 'head';
    const content = response.content;
    const ct = headerOf(res.headers, 'content-type');
    if (!content || Object.keys(content).length === 0) {
      if (!head && text !== '' && text !== undefined) {
        problems.push(`a body was sent where none is documented: ${
          show(String(text))}`);
      }
    } else {
      const mt = mediaType(ct);
      const media = Object.keys(content).find((k) => mediaType(k) === mt);
      if (!media) {
        const got = ct === undefined ? '(none)' : show(ct);
        problems.push(`Content-Type ${got} is not one of ${
          Object.keys(content).join(', ')}`);
      } else if (!head && isJsonMedia(mt)) {
        try {
          json = JSON.parse(text);
        } catch (e) {
          problems.push(`body is not JSON (${e.message}): ${show(text)}`);
        }
        const schema = content[media].schema;
        if (json !== undefined && schema) {
          for (const p of this.check(schema, json)) {
            problems.push(`body ${p}`);
          }
        }
      }
    }
    if (problems.length) {
      throw new Error(`openapi: ${label} (per ${where}) does not conform:\n  ${
        problems.join('\n  ')}\n  body: ${show(String(text), 400)}`);
    }
    return json;
  }
}

let cached = null;

// Parses the document (YAML errors throw with line and column).
export function loadSpec(file = SPEC_PATH) {
  const text = readFileSync(file, 'utf8');
  const d = YAML.parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (d.errors.length) {
    throw new Error(`${file}: ${d.errors.map((e) => e.message).join('\n')}`);
  }
  return d.toJS({ maxAliasCount: 100 });
}

// The validator of docs/openapi.yaml, built once per process.
export function openapi() {
  if (!cached) cached = new OpenApiValidator(loadSpec());
  return cached;
}

// Validates res against the document; see OpenApiValidator.
export function validateResponse(method, reqPath, res) {
  return openapi().validateResponse(method, reqPath, res);
}

// Asserts the status (when expectStatus is given; a number or a list) and
// that the response conforms; returns the parsed JSON body. Messages carry
// the body, so a failing test shows what the server said.
export function assertConforms(method, reqPath, res, expectStatus) {
  if (expectStatus !== undefined) {
    const want = [].concat(expectStatus);
    const text = res.text ?? res.body ?? JSON.stringify(res.json);
    assert.ok(want.includes(res.status), `${String(method).toUpperCase()} ${
      reqPath}: expected status ${want.join(' or ')}, got ${res.status}: ${
      show(String(text), 400)}`);
  }
  return validateResponse(method, reqPath, res);
}
