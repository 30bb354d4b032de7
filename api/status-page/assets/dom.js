// DOM and formatting helpers. Text goes in through textContent only, never innerHTML, so nothing
// an answer carries (an error message, a field name) can become markup.

/**
 * A new element: `el('td', { className: 'num' }, '12')`. Attributes are set as properties, except
 * `data-*` and `aria-*`; children are nodes or text (null and undefined are left out).
 * @param {string} tag
 * @param {Record<string, unknown>} [attributes]
 * @param {...(Node | string | number | null | undefined)} children
 */
export function el(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === null) continue;
    if (name.startsWith('data-') || name.startsWith('aria-')) element.setAttribute(name, String(value));
    else element[name] = value;
  }
  for (const child of children) {
    if (child === null || child === undefined) continue;
    element.append(typeof child === 'string' || typeof child === 'number' ? String(child) : child);
  }
  return element;
}

/** A link that opens elsewhere; only http(s) URLs become links, anything else stays text. */
export function externalLink(url, text) {
  if (typeof url !== 'string' || !/^https?:\/\//i.test(url)) return document.createTextNode('—');
  return el('a', { href: url, target: '_blank', rel: 'noopener noreferrer' }, text);
}

/** Replaces a table body's rows. */
export function fillRows(tbody, rows) {
  tbody.replaceChildren(...rows);
}

const numberFormat = new Intl.NumberFormat();

export function formatNumber(value) {
  return typeof value === 'number' && Number.isFinite(value) ? numberFormat.format(value) : '—';
}

export function formatTime(iso) {
  if (!iso) return '—';
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? String(iso) : date.toLocaleString();
}

/** 41.2 → "41.2 s", 125 → "2 min 5 s", 7260 → "2 h 1 min". */
export function formatDuration(seconds) {
  if (typeof seconds !== 'number' || !Number.isFinite(seconds)) return '—';
  if (seconds < 60) return `${Math.round(seconds * 10) / 10} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min ${Math.round(seconds % 60)} s`;
  return `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}

/** Seconds since an instant (for a run still running). */
export function secondsSince(iso) {
  return (Date.now() - new Date(iso).getTime()) / 1000;
}
