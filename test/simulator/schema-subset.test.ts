import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { buildSchema, parse, validate } from 'graphql';
import { describe, expect, it } from 'vitest';
import { loadRealStashSchema, schemaSubsetProblems, simulatorSchema } from '../../simulator/index.js';

const realDir = fileURLToPath(new URL('../../../shared/stash-schema/', import.meta.url));
const present = existsSync(realDir);
if (!present) console.warn(`Stash's schema is not at ${realDir}: skipping the subset check`);

describe('simulator schema', () => {
  (present ? it : it.skip)("is a faithful subset of Stash v0.30.1's real schema", () => {
    const real = loadRealStashSchema();
    expect(real).not.toBeNull();
    if (!real) return;
    expect(real.getQueryType()?.getFields().findScenes).toBeDefined();
    expect(schemaSubsetProblems(simulatorSchema(), real)).toEqual([]);
  });

  (present ? it : it.skip)(
    'the checker itself catches a wrong type, a missing field and an invented enum value',
    async () => {
      const real = loadRealStashSchema();
      if (!real) return;
      const broken = buildSchema(`
      type Query { findScenes(ids: [Int!]): Scene }
      type Scene { id: ID! title: String! invented: Int }
      enum GenderEnum { MALE ROBOT }
    `);
      const problems = schemaSubsetProblems(broken, real).join('\n');
      expect(problems).toMatch(/Query\.findScenes is Scene here but FindScenesResultType!/);
      expect(problems).toMatch(/findScenes\(ids\) is \[Int!\] here but \[ID!\]/);
      expect(problems).toMatch(/Scene\.title is String! here but String/);
      expect(problems).toMatch(/Scene\.invented does not exist/);
      expect(problems).toMatch(/GenderEnum\.ROBOT/);
    },
  );

  (present ? it : it.skip)('a query the mirror would send validates against both schemas', () => {
    const real = loadRealStashSchema();
    if (!real) return;
    const document = parse(`
      query Scenes($filter: FindFilterType, $scene_filter: SceneFilterType) {
        findScenes(filter: $filter, scene_filter: $scene_filter) {
          count duration filesize
          scenes {
            id title code details director urls date rating100 organized o_counter play_count play_duration
            resume_time last_played_at interactive created_at updated_at
            studio { id name parent_studio { id } }
            performers { id } tags { id } galleries { id } groups { group { id } scene_index }
            files { id path basename size duration width height video_codec audio_codec format frame_rate bit_rate created_at updated_at mod_time }
          }
        }
        findImages(filter: { per_page: 1 }) { images { visual_files { __typename ... on ImageFile { id width } ... on VideoFile { id duration } } } }
        findTags(tag_filter: { updated_at: { value: "2025-01-01", modifier: GREATER_THAN } }) { tags { id parents { id } children { id } } }
        findGroups { groups { containing_groups { group { id } description } sub_groups { group { id } description } } }
      }`);
    expect(validate(simulatorSchema(), document)).toEqual([]);
    expect(validate(real, document)).toEqual([]);
  });
});
