import { defineSearchAttributeKey, type SearchAttributePair, SearchAttributeType } from '@temporalio/common';
import type { SyncType } from '../db/vocabulary.js';

/**
 * The custom search attributes every sync carries, so the Temporal Web UI can find runs with a
 * filter (README, "Finding runs in the Temporal Web UI"): `SyncType = "full" AND SyncStatus =
 * "failed"` is "the failed full syncs", newest first. Pure: workflow code imports it too.
 */
export const SyncTypeAttribute = defineSearchAttributeKey('SyncType', SearchAttributeType.KEYWORD);
export const SyncTriggerAttribute = defineSearchAttributeKey('SyncTrigger', SearchAttributeType.KEYWORD);
export const SyncStatusAttribute = defineSearchAttributeKey('SyncStatus', SearchAttributeType.KEYWORD);
export const EntityTypesAttribute = defineSearchAttributeKey('EntityTypes', SearchAttributeType.KEYWORD_LIST);

/** Every attribute with its type: what the worker registers in the namespace. */
export const SYNC_SEARCH_ATTRIBUTES = [
  SyncTypeAttribute,
  SyncTriggerAttribute,
  SyncStatusAttribute,
  EntityTypesAttribute,
] as const;

/** The attributes a sync starts with (its status then moves on: upserted by the workflow). */
export function startAttributes(type: SyncType, trigger: string): SearchAttributePair[] {
  return [
    { key: SyncTypeAttribute, value: type },
    { key: SyncTriggerAttribute, value: trigger },
    { key: SyncStatusAttribute, value: 'running' },
  ];
}

const TITLES: Record<SyncType, string> = {
  full: 'Full sync',
  incremental: 'Incremental sync',
  smart: 'Smart sync',
  specific: 'Entity sync',
};

/** A run's one-line summary in the Web UI: "Smart sync · scheduled". */
export function runSummary(type: SyncType, trigger: string, detail?: string): string {
  return [TITLES[type], trigger, detail].filter((part) => part).join(' · ');
}
