import {
  type DocumentNode,
  type FieldNode,
  type GraphQLSchema,
  getNamedType,
  Kind,
  type SelectionSetNode,
  TypeInfo,
  visit,
  visitWithTypeInfo,
} from 'graphql';
import { type EntityType, TYPE_BY_GRAPHQL } from './entities.js';

const PROBE_ID = '_simProbeId';
const PROBE_TYPE = '_simProbeType';

/**
 * Raw JSON patched into an entity's object in every response after GraphQL execution, to imitate
 * a Stash row the schema cannot vouch for (unknown enum, null in a non-null field, bad date).
 */
export class Corruptions {
  private readonly patches = new Map<string, Record<string, unknown>>();

  set(type: EntityType, id: number, patch: Record<string, unknown>): void {
    const key = `${type}:${id}`;
    this.patches.set(key, { ...(this.patches.get(key) ?? {}), ...patch });
  }

  clear(): void {
    this.patches.clear();
  }

  active(): boolean {
    return this.patches.size > 0;
  }

  /**
   * Adds hidden id/__typename probes to every selection on an entity type, so objects can be
   * recognised in the result even when the client did not select their id.
   */
  instrument(schema: GraphQLSchema, document: DocumentNode): DocumentNode {
    const typeInfo = new TypeInfo(schema);
    return visit(
      document,
      visitWithTypeInfo(typeInfo, {
        SelectionSet: {
          leave(node: SelectionSetNode): SelectionSetNode | undefined {
            const parent = typeInfo.getParentType();
            const named = parent ? getNamedType(parent) : null;
            if (!named || !(named.name in TYPE_BY_GRAPHQL)) return undefined;
            return {
              ...node,
              selections: [...node.selections, probe(PROBE_ID, 'id'), probe(PROBE_TYPE, '__typename')],
            };
          },
        },
      }),
    );
  }

  /** Applies patches to the matching objects and strips the probes. Mutates `data`. */
  apply(data: unknown): void {
    const walk = (value: unknown): void => {
      if (Array.isArray(value)) {
        for (const item of value) walk(item);
        return;
      }
      if (value === null || typeof value !== 'object') return;
      const obj = value as Record<string, unknown>;
      for (const child of Object.values(obj)) walk(child);
      if (PROBE_TYPE in obj) {
        const type = TYPE_BY_GRAPHQL[String(obj[PROBE_TYPE])];
        const patch = type ? this.patches.get(`${type}:${String(obj[PROBE_ID])}`) : undefined;
        delete obj[PROBE_ID];
        delete obj[PROBE_TYPE];
        if (patch) {
          // Only keys the client selected are replaced: Stash never sends unrequested fields.
          for (const [key, raw] of Object.entries(patch)) if (key in obj) obj[key] = raw;
        }
      }
    };
    walk(data);
  }
}

function probe(alias: string, name: string): FieldNode {
  return { kind: Kind.FIELD, alias: { kind: Kind.NAME, value: alias }, name: { kind: Kind.NAME, value: name } };
}
