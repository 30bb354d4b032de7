import { type AnyEntity, type EntityOf, type EntityType, isTitled, parseId } from './entities.js';
import type { SimImage, SimScene } from './model.js';
import { hash32, type Rng } from './rng.js';
import { lowerBound, type Store } from './store.js';

export type Modifier =
  | 'EQUALS'
  | 'NOT_EQUALS'
  | 'GREATER_THAN'
  | 'LESS_THAN'
  | 'IS_NULL'
  | 'NOT_NULL'
  | 'INCLUDES_ALL'
  | 'INCLUDES'
  | 'EXCLUDES'
  | 'MATCHES_REGEX'
  | 'NOT_MATCHES_REGEX'
  | 'BETWEEN'
  | 'NOT_BETWEEN';

export interface FindFilter {
  q?: string | null;
  page?: number | null;
  per_page?: number | null;
  sort?: string | null;
  direction?: 'ASC' | 'DESC' | null;
}

export interface IntCriterion {
  value: number;
  value2?: number | null;
  modifier: Modifier;
}

export interface TimestampCriterion {
  value: string;
  value2?: string | null;
  modifier: Modifier;
}

/** Stash's MultiCriterionInput over an id list (a scene's or image's galleries). */
export interface MultiCriterion {
  value?: readonly string[] | null;
  modifier: Modifier;
  excludes?: readonly string[] | null;
}

export interface EntityFilter {
  id?: IntCriterion | null;
  galleries?: MultiCriterion | null;
  created_at?: TimestampCriterion | null;
  updated_at?: TimestampCriterion | null;
  AND?: EntityFilter | null;
  OR?: EntityFilter | null;
  NOT?: EntityFilter | null;
}

export interface ListArgs {
  filter?: FindFilter | null;
  entityFilter?: EntityFilter | null;
  ids?: readonly (string | number)[] | null;
}

export interface ListResult<T> {
  /** Total that matches the filter (not the page size). */
  count: number;
  rows: T[];
  /** Every matching row, for aggregate fields such as a scene listing's total duration. */
  matched(): Iterable<T>;
}

type Key = number | string | null;
type Row = AnyEntity;

interface SortSpec {
  name: string;
  primary: ((row: Row) => Key) | null;
  random: 'request' | number | null;
}

interface SortedList {
  version: number;
  rows: Row[];
  primary: Key[];
  final: string[];
}

/**
 * Stash's listing semantics: LIMIT/OFFSET paging over ORDER BY <sort>, <title|name> and nothing
 * after that, so rows tying on both keys come back in an order that changes between requests.
 */
export class Lister {
  private readonly cache = new Map<string, SortedList>();

  constructor(private readonly store: Store) {}

  list<T extends EntityType>(type: T, args: ListArgs, rng: Rng): ListResult<EntityOf<T>> {
    const store = this.store;
    if (args.ids && args.ids.length > 0) {
      const rows = args.ids.map((id) => store.require(type, id));
      return { count: rows.length, rows, matched: () => rows };
    }
    const filter = args.filter ?? {};
    const sort = sortSpec(type, filter.sort ?? null, store);
    const descending = filter.direction === 'DESC';
    const page = paging(filter);
    const ids = store.sortedIds(type);
    const { lo, hi, rest } = idRange(ids, args.entityFilter ?? null);
    const predicate = compile(type, rest, filter.q ?? null);
    const table = (id: number): EntityOf<T> => store.get(type, id) as EntityOf<T>;

    if (sort.name === 'id') {
      if (!predicate) {
        const count = hi - lo;
        const [from, to] = window(page, count);
        const rows: EntityOf<T>[] = [];
        for (let i = from; i < to; i++) rows.push(table(ids[descending ? hi - 1 - i : lo + i] as number));
        return { count, rows, matched: () => mapRange(ids, lo, hi, table) };
      }
      const matched: EntityOf<T>[] = [];
      for (let i = lo; i < hi; i++) {
        const row = table(ids[i] as number);
        if (predicate(row)) matched.push(row);
      }
      if (descending) matched.reverse();
      const [from, to] = window(page, matched.length);
      return { count: matched.length, rows: matched.slice(from, to), matched: () => matched };
    }

    if (sort.random !== null) {
      const matched = collect(ids, lo, hi, predicate, table);
      if (sort.random === 'request') rng.shuffleRange(matched);
      else {
        const seed = sort.random;
        matched.sort((a, b) => hash32(a.id, seed) - hash32(b.id, seed) || a.id - b.id);
      }
      if (descending) matched.reverse();
      const [from, to] = window(page, matched.length);
      return { count: matched.length, rows: matched.slice(from, to), matched: () => matched };
    }

    // The whole table is sorted once per data version; a filter then narrows it, by binary search
    // when it is a range on the sort key itself (incremental syncs: updated_at > X sorted by
    // updated_at), else by one linear pass. Either way no request pays for a fresh sort.
    const everything = this.sorted(type, sort, descending, () => collect(ids, 0, ids.length, null, table));
    const filterAll = args.entityFilter ?? null;
    let view: SortedView = { list: everything, start: 0, end: everything.rows.length };
    if (filterAll || (filter.q && filter.q.trim() !== '')) {
      const range = filter.q ? null : sortKeyRange(sort.name, filterAll, descending);
      if (range) view = { list: everything, ...range(everything.primary) };
      else view = narrow(everything, compile(type, filterAll, filter.q ?? null));
    }
    const count = view.end - view.start;
    const [from, to] = window(page, count);
    return {
      count,
      rows: pageWithShuffledTies(view, from, to, rng) as EntityOf<T>[],
      matched: () => view.list.rows.slice(view.start, view.end) as EntityOf<T>[],
    };
  }

  private sorted(type: EntityType, sort: SortSpec, descending: boolean, rows: () => Row[]): SortedList {
    const key = `${type}|${sort.name}|${descending}`;
    const hit = this.cache.get(key);
    if (hit && hit.version === this.store.version) return hit;
    const list = rows();
    const primaryOf = sort.primary as (row: Row) => Key;
    const finalOf = finalKey(type);
    const n = list.length;
    const primary: Key[] = new Array(n);
    const final: string[] = new Array(n);
    for (let i = 0; i < n; i++) {
      const row = list[i] as Row;
      primary[i] = primaryOf(row);
      final[i] = finalOf(row);
    }
    const order = Array.from({ length: n }, (_, i) => i);
    const dir = descending ? -1 : 1;
    order.sort((a, b) => {
      const c = compareKeys(primary[a] as Key, primary[b] as Key) * dir;
      if (c !== 0) return c;
      const fa = final[a] as string;
      const fb = final[b] as string;
      // The final key is always ascending, whatever the requested direction (as in Stash's SQL).
      return fa < fb ? -1 : fa > fb ? 1 : 0;
    });
    const sorted: SortedList = {
      version: this.store.version,
      rows: order.map((i) => list[i] as Row),
      primary: order.map((i) => primary[i] as Key),
      final: order.map((i) => final[i] as string),
    };
    if (this.cache.size >= 8) this.cache.delete(this.cache.keys().next().value as string);
    this.cache.set(key, sorted);
    return sorted;
  }
}

/** A contiguous part [start, end) of a sorted list, or a filtered copy of one. */
interface SortedView {
  list: SortedList;
  start: number;
  end: number;
}

function narrow(list: SortedList, predicate: ((row: Row) => boolean) | null): SortedView {
  if (!predicate) return { list, start: 0, end: list.rows.length };
  const out: SortedList = { version: list.version, rows: [], primary: [], final: [] };
  for (let i = 0; i < list.rows.length; i++) {
    const row = list.rows[i] as Row;
    if (!predicate(row)) continue;
    out.rows.push(row);
    out.primary.push(list.primary[i] as Key);
    out.final.push(list.final[i] as string);
  }
  return { list: out, start: 0, end: out.rows.length };
}

/**
 * When the filter is exactly one range criterion on the timestamp being sorted by, the matching
 * rows are one contiguous run of the sorted list: returns a binary search for it.
 */
function sortKeyRange(
  sortName: string,
  filter: EntityFilter | null,
  descending: boolean,
): ((primary: readonly Key[]) => { start: number; end: number }) | null {
  if (!filter || (sortName !== 'created_at' && sortName !== 'updated_at')) return null;
  const present = Object.entries(filter).filter(([, v]) => v != null);
  if (present.length !== 1 || present[0]?.[0] !== sortName) return null;
  const c = filter[sortName] as TimestampCriterion;
  const v = c.value;
  const v2 = c.value2 ?? '';
  let position: (k: string) => number;
  switch (c.modifier) {
    case 'GREATER_THAN':
      position = (k) => (k <= v ? -1 : 0);
      break;
    case 'LESS_THAN':
      position = (k) => (k < v ? 0 : 1);
      break;
    case 'EQUALS':
      position = (k) => (k < v ? -1 : k === v ? 0 : 1);
      break;
    case 'BETWEEN':
      position = (k) => (k < v ? -1 : k > v2 ? 1 : 0);
      break;
    default:
      return null;
  }
  const dir = descending ? -1 : 1;
  return (primary) => {
    // Along the sorted list dir * position(key) never decreases.
    const first = (atLeast: number): number => {
      let lo = 0;
      let hi = primary.length;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (dir * position(primary[mid] as string) < atLeast) lo = mid + 1;
        else hi = mid;
      }
      return lo;
    };
    return { start: first(0), end: first(1) };
  };
}

/**
 * Only the tie groups overlapping the page are shuffled: the result has the same distribution as
 * shuffling every tie group on every request, at the cost of the page rather than the table.
 */
function pageWithShuffledTies(view: SortedView, from: number, to: number, rng: Rng): Row[] {
  if (from >= to) return [];
  const { list, start, end } = view;
  const ties = (i: number, j: number): boolean =>
    list.primary[i] === list.primary[j] && list.final[i] === list.final[j];
  let a = start + from;
  while (a > start && ties(a - 1, a)) a--;
  let b = start + to;
  while (b < end && ties(b - 1, b)) b++;
  const slice = list.rows.slice(a, b);
  let group = 0;
  for (let i = 1; i <= slice.length; i++) {
    if (i === slice.length || !ties(a + i - 1, a + i)) {
      if (i - group > 1) rng.shuffleRange(slice, group, i);
      group = i;
    }
  }
  return slice.slice(start + from - a, start + to - a);
}

function paging(filter: FindFilter): { offset: number; limit: number | null } {
  const page = filter.page == null || filter.page < 1 ? 1 : filter.page;
  const perPage = filter.per_page ?? 25;
  if (perPage < 0) return { offset: 0, limit: null };
  return { offset: (page - 1) * perPage, limit: perPage };
}

function window(page: { offset: number; limit: number | null }, count: number): [number, number] {
  if (page.limit === null) return [0, count];
  const from = Math.min(page.offset, count);
  return [from, Math.min(count, from + page.limit)];
}

/**
 * Peels a top-level contiguous id criterion off the filter so keyset pages (`id > X`) cost a binary
 * search instead of a scan; whatever remains is evaluated row by row.
 */
function idRange(
  ids: readonly number[],
  filter: EntityFilter | null,
): { lo: number; hi: number; rest: EntityFilter | null } {
  let lo = 0;
  let hi = ids.length;
  const criterion = filter?.id;
  // With an OR alternative the id criterion no longer bounds the result, so it cannot be peeled.
  if (!filter || !criterion || filter.OR) return { lo, hi, rest: filter };
  const { value, modifier } = criterion;
  const value2 = criterion.value2 ?? value;
  switch (modifier) {
    case 'EQUALS':
      lo = lowerBound(ids, value);
      hi = lowerBound(ids, value + 1);
      break;
    case 'GREATER_THAN':
      lo = lowerBound(ids, value + 1);
      break;
    case 'LESS_THAN':
      hi = lowerBound(ids, value);
      break;
    case 'BETWEEN':
      lo = lowerBound(ids, value);
      hi = Math.max(lo, lowerBound(ids, value2 + 1));
      break;
    case 'IS_NULL':
      hi = 0;
      break;
    case 'NOT_NULL':
      break;
    default:
      return { lo, hi, rest: filter };
  }
  const { id: _peeled, ...rest } = filter;
  return { lo, hi, rest: Object.values(rest).some((v) => v != null) ? rest : null };
}

function compile(type: EntityType, filter: EntityFilter | null, q: string | null): ((row: Row) => boolean) | null {
  const parts: ((row: Row) => boolean)[] = [];
  if (filter) parts.push(compileFilter(filter));
  if (q && q.trim() !== '') {
    const words = q.toLowerCase().split(/\s+/).filter(Boolean);
    const text = isTitled(type)
      ? (row: Row) => (row as { title: string | null }).title ?? ''
      : (row: Row) => (row as { name: string }).name;
    parts.push((row) => {
      const value = text(row).toLowerCase();
      return words.some((w) => value.includes(w));
    });
  }
  if (parts.length === 0) return null;
  return (row) => parts.every((p) => p(row));
}

function compileFilter(filter: EntityFilter): (row: Row) => boolean {
  const parts: ((row: Row) => boolean)[] = [];
  if (filter.id) parts.push(intPredicate(filter.id));
  if (filter.created_at) parts.push(timestampPredicate('created_at', filter.created_at));
  if (filter.updated_at) parts.push(timestampPredicate('updated_at', filter.updated_at));
  if (filter.galleries)
    parts.push(multiPredicate('galleries', (row) => (row as { gallery_ids: number[] }).gallery_ids, filter.galleries));
  if (filter.AND) parts.push(compileFilter(filter.AND));
  if (filter.NOT) {
    const inner = compileFilter(filter.NOT);
    parts.push((row) => !inner(row));
  }
  const own = (row: Row): boolean => parts.every((p) => p(row));
  if (filter.OR) {
    const alt = compileFilter(filter.OR);
    return (row) => own(row) || alt(row);
  }
  return own;
}

function intPredicate(c: IntCriterion): (row: Row) => boolean {
  const v = c.value;
  const v2 = c.value2 ?? v;
  switch (c.modifier) {
    case 'EQUALS':
      return (row) => row.id === v;
    case 'NOT_EQUALS':
      return (row) => row.id !== v;
    case 'GREATER_THAN':
      return (row) => row.id > v;
    case 'LESS_THAN':
      return (row) => row.id < v;
    case 'BETWEEN':
      return (row) => row.id >= v && row.id <= v2;
    case 'NOT_BETWEEN':
      return (row) => row.id < v || row.id > v2;
    case 'IS_NULL':
      return () => false;
    case 'NOT_NULL':
      return () => true;
    default:
      throw new Error(`modifier ${c.modifier} is not supported for id`);
  }
}

/** Stash's multi criterion on an id list: INCLUDES any, INCLUDES_ALL, EXCLUDES, IS_NULL (none), NOT_NULL. */
function multiPredicate(
  field: string,
  list: (row: Row) => readonly number[],
  c: MultiCriterion,
): (row: Row) => boolean {
  const values = (c.value ?? []).map((v) => parseId(v));
  const excludes = (c.excludes ?? []).map((v) => parseId(v));
  const without = (row: Row) => !excludes.some((x) => list(row).includes(x));
  switch (c.modifier) {
    case 'INCLUDES':
      return (row) => values.some((x) => list(row).includes(x)) && without(row);
    case 'INCLUDES_ALL':
      return (row) => values.every((x) => list(row).includes(x)) && without(row);
    case 'EXCLUDES':
      return (row) => !values.some((x) => list(row).includes(x));
    case 'IS_NULL':
      return (row) => list(row).length === 0;
    case 'NOT_NULL':
      return (row) => list(row).length > 0 && without(row);
    default:
      throw new Error(`modifier ${c.modifier} is not supported for ${field}`);
  }
}

/** Plain string comparison against the stored text, exactly the trap real Stash sets. */
function timestampPredicate(field: 'created_at' | 'updated_at', c: TimestampCriterion): (row: Row) => boolean {
  const v = c.value;
  const v2 = c.value2 ?? '';
  switch (c.modifier) {
    case 'EQUALS':
      return (row) => row[field] === v;
    case 'NOT_EQUALS':
      return (row) => row[field] !== v;
    case 'GREATER_THAN':
      return (row) => row[field] > v;
    case 'LESS_THAN':
      return (row) => row[field] < v;
    case 'BETWEEN':
      return (row) => row[field] >= v && row[field] <= v2;
    case 'NOT_BETWEEN':
      return (row) => row[field] < v || row[field] > v2;
    case 'IS_NULL':
      return () => false;
    case 'NOT_NULL':
      return () => true;
    default:
      throw new Error(`modifier ${c.modifier} is not supported for ${field}`);
  }
}

const COMMON_SORTS = ['id', 'created_at', 'updated_at', 'random'];
const EXTRA_SORTS: Record<EntityType, string[]> = {
  scene: ['title', 'date', 'rating', 'rating100', 'o_counter', 'play_count', 'last_played_at', 'organized'],
  image: ['title', 'date', 'rating', 'rating100', 'o_counter', 'organized'],
  gallery: ['title', 'date', 'rating', 'rating100', 'image_count', 'organized'],
  performer: ['name', 'rating', 'rating100', 'birthdate', 'height_cm', 'favorite'],
  studio: ['name', 'rating', 'rating100', 'favorite'],
  tag: ['name', 'favorite'],
  group: ['name', 'rating', 'rating100', 'date', 'duration'],
};

function sortSpec(type: EntityType, requested: string | null, store: Store): SortSpec {
  const name = requested || (isTitled(type) ? 'id' : 'name');
  if (name.startsWith('random_')) {
    const seed = name.slice('random_'.length);
    if (!/^\d+$/.test(seed)) throw new Error(`invalid random seed: ${seed}`);
    return { name, primary: null, random: Number(BigInt(seed) % 4294967296n) };
  }
  if (!COMMON_SORTS.includes(name) && !EXTRA_SORTS[type].includes(name)) throw new Error(`invalid sort: ${name}`);
  if (name === 'random') return { name, primary: null, random: 'request' };
  return { name, primary: primaryKey(type, name, store), random: null };
}

function primaryKey(type: EntityType, name: string, store: Store): ((row: Row) => Key) | null {
  const field = (key: string) => (row: Row) => ((row as unknown as Record<string, Key>)[key] ?? null) as Key;
  switch (name) {
    case 'id':
      return null;
    case 'rating':
      return field('rating100');
    case 'image_count':
      return (row) => store.imageCount(row.id);
    case 'favorite':
    case 'organized':
      return (row) => ((row as unknown as Record<string, boolean>)[name] ? 1 : 0);
    case 'title':
      // Stash sorts untitled scenes and images by their file's basename.
      return (row) => {
        const title = (row as { title: string | null }).title;
        if (title !== null) return naturalKey(title);
        const file =
          type === 'scene'
            ? (row as SimScene).files[0]
            : type === 'image'
              ? (row as SimImage).visual_files[0]
              : undefined;
        return file ? naturalKey(basename(file.path)) : null;
      };
    case 'name':
      return type === 'tag'
        ? (row) =>
            naturalKey((row as { sort_name: string | null; name: string }).sort_name ?? (row as { name: string }).name)
        : (row) => naturalKey((row as { name: string }).name);
    default:
      return field(name);
  }
}

/**
 * Stash's last ORDER BY term: COALESCE(title, id) for scenes/images/galleries, sort_name or name for
 * tags, name otherwise. SQLite orders an integer (a NULL title's id) before any text.
 */
function finalKey(type: EntityType): (row: Row) => string {
  if (isTitled(type)) {
    return (row) => {
      const title = (row as { title: string | null }).title;
      return title === null ? `\u0000${String(row.id).padStart(20, '0')}` : `\u0001${naturalKey(title)}`;
    };
  }
  if (type === 'tag')
    return (row) =>
      naturalKey((row as { sort_name: string | null; name: string }).sort_name ?? (row as { name: string }).name);
  return (row) => naturalKey((row as { name: string }).name);
}

const naturalKeys = new Map<string, string>();

/** A string whose plain ordering is a case-insensitive natural ordering of the input. */
export function naturalKey(value: string): string {
  let key = naturalKeys.get(value);
  if (key === undefined) {
    key = value.toLowerCase().replace(/\d+/g, (digits) => digits.replace(/^0+(?=\d)/, '').padStart(20, '0'));
    if (naturalKeys.size > 100_000) naturalKeys.clear();
    naturalKeys.set(value, key);
  }
  return key;
}

export function compareKeys(a: Key, b: Key): number {
  if (a === b) return 0;
  // NULL sorts first ascending, last descending: SQLite's rule.
  if (a === null) return -1;
  if (b === null) return 1;
  return a < b ? -1 : 1;
}

export function basename(path: string): string {
  const at = path.lastIndexOf('/');
  return at < 0 ? path : path.slice(at + 1);
}

function collect<T extends Row>(
  ids: readonly number[],
  lo: number,
  hi: number,
  predicate: ((row: Row) => boolean) | null,
  table: (id: number) => T,
): T[] {
  const out: T[] = [];
  for (let i = lo; i < hi; i++) {
    const row = table(ids[i] as number);
    if (!predicate || predicate(row)) out.push(row);
  }
  return out;
}

function* mapRange<T>(ids: readonly number[], lo: number, hi: number, table: (id: number) => T): Iterable<T> {
  for (let i = lo; i < hi; i++) yield table(ids[i] as number);
}
