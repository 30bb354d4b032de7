import type { ColumnSpec, ColumnValue, EntitySpec, LinkRow, MappedEntity } from '../stash/entities/spec.js';
import { STAMP_COLUMNS } from '../stash/entities/spec.js';

/**
 * How an entity in a page compares with what the mirror already has. `touched`: only Stash's
 * stamps moved (an edit that changed nothing still bumps updated_at): the row is written, so the
 * mirror keeps Stash's exact updated_at, but its data did not change.
 */
export type ChangeType = 'created' | 'updated' | 'touched' | 'unchanged' | 'revived';

const STAMP_NAMES: ReadonlySet<string> = new Set(STAMP_COLUMNS.map((column) => column.name));

export interface StoredEntity {
  row: Record<string, unknown>;
  links: Record<string, unknown[]>;
  deleted: boolean;
}

/** Brings a value read from Postgres (or produced by a mapper) to one comparable form. */
function normalize(type: ColumnSpec['type'], value: unknown): string {
  if (value === null || value === undefined) return 'null';
  switch (type) {
    case 'timestamptz':
      return String(new Date(value as string).getTime());
    case 'date':
      return value instanceof Date ? value.toISOString().slice(0, 10) : String(value).slice(0, 10);
    case 'bigint':
    case 'integer':
    case 'double':
      return String(Number(value));
    case 'text[]':
      return JSON.stringify(value);
    default:
      return String(value);
  }
}

function linkKey(link: Record<string, unknown>, extra: ColumnSpec[]): string {
  return [String(Number(link.target)), ...extra.map((column) => normalize(column.type, link[column.name]))].join('|');
}

function sameLinks(spec: EntitySpec, name: string, next: LinkRow[], stored: unknown[]): boolean {
  const extra = spec.links.find((link) => link.name === name)?.extraColumns ?? [];
  const a = next.map((link) => linkKey(link, extra)).sort();
  const b = (stored as Record<string, unknown>[]).map((link) => linkKey(link, extra)).sort();
  return a.length === b.length && a.every((key, index) => key === b[index]);
}

/** Classifies one entity and names the fields (columns and links) that differ. */
export function diffEntity(
  spec: EntitySpec,
  next: MappedEntity,
  stored: StoredEntity | undefined,
): { change: ChangeType; changedFields: string[] } {
  if (!stored) return { change: 'created', changedFields: [] };
  // A copy older than the one stored (read before a concurrent sync of the same entity wrote a
  // newer one) must not overwrite it. Equal instants may differ (merges rewrite links without
  // bumping updated_at), so only strictly older copies are ignored.
  const storedInstant = new Date(stored.row.stash_updated_at as string).getTime();
  const nextInstant = new Date(next.row.stash_updated_at as string).getTime();
  if (!stored.deleted && nextInstant < storedInstant) return { change: 'unchanged', changedFields: [] };
  const changedFields: string[] = [];
  for (const column of [...spec.columns, ...STAMP_COLUMNS]) {
    if (column.name === 'stash_updated_at') continue; // covered by the raw string
    const nextValue: ColumnValue | undefined = next.row[column.name];
    if (normalize(column.type, nextValue) !== normalize(column.type, stored.row[column.name])) {
      changedFields.push(column.name);
    }
  }
  for (const link of spec.links) {
    if (!sameLinks(spec, link.name, next.links[link.name] ?? [], stored.links[link.name] ?? [])) {
      changedFields.push(link.name);
    }
  }
  if (stored.deleted) return { change: 'revived', changedFields };
  if (changedFields.length === 0) return { change: 'unchanged', changedFields };
  if (changedFields.every((field) => STAMP_NAMES.has(field))) return { change: 'touched', changedFields };
  return { change: 'updated', changedFields };
}
