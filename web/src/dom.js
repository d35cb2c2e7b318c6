/*
 * dom.js - the only way the dashboard builds DOM.
 *
 * Everything the API returns (comment bodies, author names, topic names,
 * summaries) is data written by strangers, so it reaches the page only as
 * text nodes: h() turns strings into Text nodes and has no way to parse
 * markup. Links made from data go through safeHref(), which lets through
 * only http(s) URLs and same-site paths, so a `javascript:` URL can never
 * become a live link. Forms get one shape (field()) so every control has a
 * visible label, a help line and an error slot the API's validation errors
 * can be shown in (showFieldErrors()).
 */

let nextId = 0;

/* A fresh element id for label/aria wiring. */
export function uid(prefix = 'es') {
  nextId += 1;
  return `${prefix}-${nextId}`;
}

/* url when it is http(s) or a same-site path/fragment; else null. */
export function safeHref(url) {
  if (typeof url !== 'string' || url.length === 0 || url.length > 4096) {
    return null;
  }
  if (url.startsWith('#') || (url.startsWith('/') && !url.startsWith('//'))) {
    return url;
  }
  let parsed;
  try {
    parsed = new URL(url);
  } catch {
    return null;
  }
  return parsed.protocol === 'https:' || parsed.protocol === 'http:'
    ? parsed.href
    : null;
}

function append(el, child) {
  if (child === null || child === undefined || child === false) return;
  if (Array.isArray(child)) {
    for (const c of child) append(el, c);
  } else if (child instanceof Node) {
    el.appendChild(child);
  } else {
    el.appendChild(document.createTextNode(String(child)));
  }
}

/* Creates <tag> with props (see the file header) and children as text. */
export function h(tag, props, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(props || {})) {
    if (value === undefined) continue;
    switch (key) {
      case 'class':
        if (value) el.className = value;
        break;
      case 'text':
        el.textContent = value === null ? '' : String(value);
        break;
      case 'for':
        el.htmlFor = value;
        break;
      case 'on':
        for (const [ev, fn] of Object.entries(value)) el.addEventListener(ev, fn);
        break;
      case 'attrs':
        for (const [name, v] of Object.entries(value)) {
          if (v === null || v === false || v === undefined) continue;
          el.setAttribute(name, v === true ? '' : String(v));
        }
        break;
      case 'dataset':
        for (const [k, v] of Object.entries(value)) {
          if (v !== null && v !== undefined) el.dataset[k] = String(v);
        }
        break;
      case 'href': {
        const safe = safeHref(value);
        if (safe !== null) el.setAttribute('href', safe);
        break;
      }
      default:
        el[key] = value;
    }
  }
  append(el, children);
  return el;
}

/* Removes every child of el. */
export function clear(el) {
  while (el.firstChild) el.removeChild(el.firstChild);
}

/* Replaces el's children. */
export function mount(el, ...children) {
  clear(el);
  append(el, children);
  return el;
}

/*
 * A labelled form control: label, control, optional help, error slot. The
 * control's name is what showFieldErrors() matches the API's error.field
 * against.
 */
export function field({ label, input, help, name }) {
  if (!input.id) input.id = uid('f');
  if (name) input.name = name;
  const errId = `${input.id}-err`;
  const describedBy = [errId];
  let helpEl = null;
  if (help) {
    helpEl = h('div', { class: 'help', id: `${input.id}-help` }, help);
    describedBy.unshift(helpEl.id);
  }
  input.setAttribute('aria-describedby', describedBy.join(' '));
  const check = input.type === 'checkbox' || input.type === 'radio';
  const labelEl = h('label', { for: input.id }, label);
  return h('div', { class: check ? 'field field-check' : 'field' },
    check ? [input, labelEl] : [labelEl, input],
    helpEl,
    h('p', { class: 'field-error', id: errId, role: 'alert', hidden: true }));
}

/* The form-level error line, made on first use before the submit row. */
export function formError(form) {
  let el = form.querySelector(':scope > .form-error');
  if (!el) {
    el = h('p', { class: 'form-error', role: 'alert', hidden: true });
    const actions = form.querySelector(':scope > .actions');
    form.insertBefore(el, actions);
  }
  return el;
}

/* Hides every error the form shows. */
export function clearFieldErrors(form) {
  for (const el of form.querySelectorAll('.field-error, .form-error')) {
    el.hidden = true;
    el.textContent = '';
  }
  for (const el of form.querySelectorAll('[aria-invalid]')) {
    el.removeAttribute('aria-invalid');
  }
}

/* "subreddits[2]" and "subreddits.2" name the control "subreddits". */
function fieldRoot(name) {
  return String(name || '').split(/[[.]/)[0];
}

/*
 * Shows an API error at the control it concerns (by error.field), with
 * the character offset of a query error, else at the form's error line.
 */
export function showFieldErrors(form, err) {
  clearFieldErrors(form);
  let msg = err && err.message ? err.message : String(err);
  /* column counts characters from 1, as a person does; position is a
     byte offset from 0, kept for programs */
  const at = err && err.column;
  if (Number.isInteger(at) && !/\bcharacter\b/.test(msg)) msg += ` (at character ${at})`;
  const name = fieldRoot(err && err.field);
  const control = name ? form.elements.namedItem(name) : null;
  if (control && control.id) {
    const slot = form.querySelector(`#${CSS.escape(control.id)}-err`);
    if (slot) {
      slot.textContent = msg;
      slot.hidden = false;
      control.setAttribute('aria-invalid', 'true');
      control.focus();
      return true;
    }
  }
  const line = formError(form);
  line.textContent = msg;
  line.hidden = false;
  return true;
}
