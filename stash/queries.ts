import { ENTITY_SPECS, type EntitySpec } from './entities/index.js';
import { ENTITY_TYPES } from './entity-types.js';

/**
 * Every GraphQL operation the mirror sends, built from the entity specs. All are read-only
 * queries; test/unit/stash-queries.test.ts validates each against Stash's real schema.
 */
const capitalized = (spec: EntitySpec) => spec.listField[0]?.toUpperCase() + spec.listField.slice(1);

/** A page of full entities under a filter (keyset paging: always page 1 of a narrowing filter). */
export function pageQuery(spec: EntitySpec): string {
  return `query Mirror${capitalized(spec)}Page($filter: FindFilterType, $entity_filter: ${spec.filterInputType}) {
  ${spec.queryField}(filter: $filter, ${spec.filterArgument}: $entity_filter) { count ${spec.listField} { ${spec.selection} } }
}`;
}

/** Full entities by id (Stash fails the whole query if one id is missing). */
export function byIdsQuery(spec: EntitySpec): string {
  return `query Mirror${capitalized(spec)}ByIds($ids: [ID!]) {
  ${spec.queryField}(ids: $ids) { ${spec.listField} { ${spec.selection} } }
}`;
}

/** Only how many match: per_page 0 returns no rows, just the count. */
export function countQuery(spec: EntitySpec): string {
  return `query Mirror${capitalized(spec)}Count($entity_filter: ${spec.filterInputType}) {
  ${spec.queryField}(filter: { per_page: 0 }, ${spec.filterArgument}: $entity_filter) { count }
}`;
}

/** Ids and raw updated_at only: id scans for deletions, and the newest-row probe. */
export function idsQuery(spec: EntitySpec): string {
  return `query Mirror${capitalized(spec)}Ids($filter: FindFilterType, $entity_filter: ${spec.filterInputType}) {
  ${spec.queryField}(filter: $filter, ${spec.filterArgument}: $entity_filter) { count ${spec.listField} { id updated_at } }
}`;
}

/** Stash's version: the start-up probe that STASH_URL leads to a Stash GraphQL endpoint (not a sync query). */
export function versionQuery(): string {
  return 'query MirrorVersion { version { version } }';
}

/**
 * The owners of a link (images or scenes in some galleries), with that link's targets: Stash
 * changes gallery membership from the gallery's side without bumping the images or scenes.
 */
export function membersQuery(spec: EntitySpec, linkName: string): string {
  return `query Mirror${capitalized(spec)}Members($filter: FindFilterType, $entity_filter: ${spec.filterInputType}) {
  ${spec.queryField}(filter: $filter, ${spec.filterArgument}: $entity_filter) { count ${spec.listField} { id ${linkName} { id } } }
}`;
}

/** Every tag's aliases and parents: what a tag merge changes without bumping anyone. */
export function tagHierarchyQuery(): string {
  return `query MirrorTagHierarchy($filter: FindFilterType) {
  findTags(filter: $filter) { count tags { id aliases parents { id } } }
}`;
}

export function allOperations(): Array<{ name: string; query: string }> {
  return [
    ...ENTITY_TYPES.flatMap((type) => {
      const spec = ENTITY_SPECS[type];
      return [
        { name: `${type} page`, query: pageQuery(spec) },
        { name: `${type} by ids`, query: byIdsQuery(spec) },
        { name: `${type} count`, query: countQuery(spec) },
        { name: `${type} ids`, query: idsQuery(spec) },
        ...(spec.links.some((link) => link.name === 'galleries')
          ? [{ name: `${type} gallery members`, query: membersQuery(spec, 'galleries') }]
          : []),
      ];
    }),
    { name: 'tag hierarchy', query: tagHierarchyQuery() },
  ];
}
