/**
 * PostgreSQL COPY text format (tab-separated, `\N` for NULL, backslash escapes) for the values
 * an entity spec maps to: text, numbers, booleans, ISO dates and timestamps, and text arrays.
 */
import type { ColumnValue } from '../stash/entities/spec.js';

const escapeText = (text: string): string =>
  text.replace(/[\\\t\n\r]/g, (char) => {
    if (char === '\\') return '\\\\';
    if (char === '\t') return '\\t';
    return char === '\n' ? '\\n' : '\\r';
  });

/** An array literal: every element double-quoted, with `\` and `"` escaped inside the quotes. */
const arrayLiteral = (items: readonly string[]): string =>
  `{${items.map((item) => `"${item.replace(/[\\"]/g, (char) => `\\${char}`)}"`).join(',')}}`;

export function copyField(value: ColumnValue | undefined): string {
  if (value === null || value === undefined) return '\\N';
  if (typeof value === 'boolean') return value ? 't' : 'f';
  if (typeof value === 'number') return String(value);
  return escapeText(Array.isArray(value) ? arrayLiteral(value) : value);
}

export function copyLine(values: readonly (ColumnValue | undefined)[]): string {
  return `${values.map(copyField).join('\t')}\n`;
}
