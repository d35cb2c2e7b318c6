/*
 * query_help.js - the keyword query's help under the form field, and the
 * query shown with the spot the API complained about marked.
 *
 * The help restates docs/queries.md (the parser in lib/es_query.c is the
 * authority): keep the two in step. The error mark is text, a line of the
 * query and a caret line under it, so it reads the same in any font size
 * and to a screen reader, plus a <mark> on the character for the eye.
 */

import { h } from '../dom.js';

const SYNTAX = [
  ['rust async', 'both words (AND is implicit; rust AND async is the same)'],
  ['"borrow checker"', 'the words in a row, in that order'],
  ['tokio OR actix', 'either word'],
  [['rust -java', 'rust NOT java'], 'rust, but not java'],
  ['(tokio OR actix) -unsafe', 'parentheses group terms'],
  ['optim*', 'a word starting with optim (at least 2 characters before *)'],
  ['author:spez', 'written by that user'],
];

/* The one-line help the field's aria-describedby points at. */
export function queryHelpLine() {
  return 'Empty: every comment of the subreddits. Words match whole words, ignoring case and accents.';
}

/* The syntax table, open under the field. */
export function querySyntax() {
  return h('details', { class: 'query-syntax', open: true },
    h('summary', null, 'Query syntax'),
    h('div', { class: 'table-wrap' }, h('table', null,
      h('thead', null, h('tr', null,
        h('th', { scope: 'col' }, 'Query'),
        h('th', { scope: 'col' }, 'Matches comments with'))),
      h('tbody', null, SYNTAX.map(([q, what]) => h('tr', null,
        h('td', null, [].concat(q).map((alt, i) => [i ? ' or ' : null, h('code', null, alt)])),
        h('td', null, what)))))),
    h('p', { class: 'help' },
      'OR, AND and NOT count only in capitals. NOT and - bind tightest, then AND, then OR. '
      + 'A query needs at least one term that is not negated. '
      + 'At most 1,024 bytes, 64 terms and 8 levels of parentheses.'));
}

/* Character index (in code points) of a byte offset into text's UTF-8. */
function charIndexOfByte(text, byte) {
  let bytes = 0;
  let i = 0;
  for (const ch of text) {
    if (bytes >= byte) return i;
    bytes += new TextEncoder().encode(ch).length;
    i += 1;
  }
  return i;
}

/*
 * The 1-based character column of a query error (an ApiError of field
 * "query"): its column, else worked out from its byte position; null when
 * it has neither.
 */
export function errorColumn(query, err) {
  if (Number.isInteger(err.column) && err.column >= 1) return err.column;
  if (Number.isInteger(err.position)) return charIndexOfByte(query, err.position) + 1;
  return null;
}

/* The query with the character at column (1-based) marked. */
export function queryWhere(query, column) {
  /* the line holding the spot, and the spot's place in it */
  const chars = Array.from(query);
  let idx = Math.min(column - 1, chars.length);
  let start = idx;
  while (start > 0 && chars[start - 1] !== '\n') start -= 1;
  let end = idx;
  while (end < chars.length && chars[end] !== '\n') end += 1;
  const lineNo = chars.slice(0, start).filter((c) => c === '\n').length + 1;
  const col = idx - start;
  const line = chars.slice(start, end).map((c) => (c === '\t' ? ' ' : c));
  const at = line[col] || ' ';

  return h('div', { class: 'query-where' },
    h('p', { class: 'query-where-label' },
      lineNo > 1
        ? `At character ${idx + 1} (line ${lineNo}, character ${col + 1}):`
        : `At character ${col + 1}:`),
    h('pre', null,
      h('code', null, line.slice(0, col).join(''), h('mark', null, at), line.slice(col + 1).join('')),
      '\n',
      h('code', { class: 'query-caret' }, `${' '.repeat(col)}^`)));
}
