export interface FieldStats {
  requests: number;
  /** Requests with `filter.per_page: 0` (count probes). */
  countOnly: number;
  /** Requests that passed `ids` (or a deprecated `*_ids` list). */
  byIds: number;
  rowsReturned: number;
}

export interface RecentRequest {
  field: string;
  variables: Record<string, unknown>;
  /** The field's coerced arguments, so inline literals are visible too. */
  args: Record<string, unknown>;
}

export interface RequestStats {
  /** Every POST /graphql that passed authentication, including ones a fault then broke. */
  total: number;
  unauthorized: number;
  faults: { errors: number; drops: number; truncations: number };
  byField: Record<string, FieldStats>;
  /** The last ~1000 root fields requested, oldest first. */
  recent: RecentRequest[];
}

const RECENT_LIMIT = 1000;

export class StatsRecorder {
  private stats: RequestStats = emptyStats();

  request(): void {
    this.stats.total++;
  }

  unauthorized(): void {
    this.stats.unauthorized++;
  }

  fault(kind: keyof RequestStats['faults']): void {
    this.stats.faults[kind]++;
  }

  field(field: string, args: Record<string, unknown>, variables: Record<string, unknown>): void {
    const entry = this.entry(field);
    entry.requests++;
    const filter = args.filter as { per_page?: unknown } | null | undefined;
    if (filter?.per_page === 0) entry.countOnly++;
    const idLists = Object.entries(args).filter(
      ([name, value]) => (name === 'ids' || name.endsWith('_ids')) && Array.isArray(value),
    );
    if (idLists.some(([, value]) => (value as unknown[]).length > 0)) entry.byIds++;
    this.stats.recent.push({ field, variables, args });
    if (this.stats.recent.length > RECENT_LIMIT) this.stats.recent.splice(0, this.stats.recent.length - RECENT_LIMIT);
  }

  rows(field: string, count: number): void {
    this.entry(field).rowsReturned += count;
  }

  snapshot(): RequestStats {
    return structuredClone(this.stats);
  }

  reset(): void {
    this.stats = emptyStats();
  }

  private entry(field: string): FieldStats {
    let entry = this.stats.byField[field];
    if (!entry) {
      entry = { requests: 0, countOnly: 0, byIds: 0, rowsReturned: 0 };
      this.stats.byField[field] = entry;
    }
    return entry;
  }
}

function emptyStats(): RequestStats {
  return { total: 0, unauthorized: 0, faults: { errors: 0, drops: 0, truncations: 0 }, byField: {}, recent: [] };
}
