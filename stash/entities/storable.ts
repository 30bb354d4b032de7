import { type ColumnSpec, type ColumnValue, EntityMappingError, type EntitySpec, type MappedEntity } from './spec.js';

/**
 * The second half of an entity's validation: its zod schema says the JSON has the right shape;
 * this says PostgreSQL can hold every value exactly as served. Values that pass the schema yet
 * cannot be stored faithfully used to fail the whole page's upsert (one statement per page), so
 * the page was retried until the run failed; checked here, per entity, such an entity is one
 * `failed` sync_log row naming the column, and the rest of its page is stored.
 *
 * - text (and each element of a text[]): no NUL character (PostgreSQL text cannot hold U+0000),
 *   and no lone UTF-16 surrogate (JSON can carry `\ud800`, but it is not a Unicode character
 *   and has no UTF-8 form). Anything else is stored byte for byte: every plane, 1 MB strings.
 * - integer: a whole number within PostgreSQL's int4; bigint: a whole number a JS number holds
 *   exactly (±2^53, well within int8); double: finite. Link targets are ids, so safe integers.
 *
 * docs/sync-design.md ("Hostile values") says why a NUL fails its entity rather than being
 * stored altered.
 */
export function storableProblem(spec: EntitySpec, entity: MappedEntity): string | null {
  if (!Number.isSafeInteger(entity.id) || entity.id < 0) return `id: ${entity.id} is not an id`;
  for (const column of spec.columns) {
    const problem = valueProblem(column, entity.row[column.name] ?? null);
    if (problem) return `${column.name}${problem}`;
  }
  for (const link of spec.links) {
    for (const [index, row] of (entity.links[link.name] ?? []).entries()) {
      if (!Number.isSafeInteger(row.target) || row.target < 0)
        return `${link.name}[${index}]: ${row.target} is not an id`;
      for (const column of link.extraColumns ?? []) {
        const problem = valueProblem(column, row[column.name] ?? null);
        if (problem) return `${link.name}[${index}].${column.name}${problem}`;
      }
    }
  }
  return null;
}

/** Maps one raw object and checks it can be stored as served; throws EntityMappingError otherwise. */
export function mapForStorage(spec: EntitySpec, raw: unknown): MappedEntity {
  const entity = spec.map(raw);
  const problem = storableProblem(spec, entity);
  if (problem) throw new EntityMappingError(problem);
  return entity;
}

const INT4_MIN = -(2 ** 31);
const INT4_MAX = 2 ** 31 - 1;

/** A problem with one column's value, worded to follow the column's name (": …" or "[2]: …"). */
function valueProblem(column: ColumnSpec, value: ColumnValue): string | null {
  if (value === null) return null;
  switch (column.type) {
    case 'text':
      return typeof value === 'string' ? textProblem(value) : null;
    case 'text[]':
      if (!Array.isArray(value)) return null;
      for (const [index, item] of value.entries()) {
        const problem = textProblem(item);
        if (problem) return `[${index}]${problem}`;
      }
      return null;
    case 'integer':
      return typeof value === 'number' && !(Number.isInteger(value) && value >= INT4_MIN && value <= INT4_MAX)
        ? `: ${value} is not a whole number within ${INT4_MIN}..${INT4_MAX}`
        : null;
    case 'bigint':
      return typeof value === 'number' && !Number.isSafeInteger(value)
        ? `: ${value} is not a whole number a 64-bit column can hold exactly`
        : null;
    case 'double':
      return typeof value === 'number' && !Number.isFinite(value) ? `: ${value} is not a finite number` : null;
    default:
      return null;
  }
}

// A high surrogate not followed by a low one, or a low one not preceded by a high one.
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

function textProblem(value: string): string | null {
  const nul = value.indexOf('\u0000');
  if (nul >= 0) {
    return `: contains a NUL character (U+0000) at position ${nul}, which PostgreSQL text cannot store`;
  }
  const lone = LONE_SURROGATE.exec(value);
  if (lone) {
    const code = lone[0].charCodeAt(0).toString(16).toUpperCase();
    return `: contains a lone surrogate (U+${code}) at position ${lone.index}, which is not Unicode text`;
  }
  return null;
}
