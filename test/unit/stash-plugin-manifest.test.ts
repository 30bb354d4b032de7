import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const dir = new URL('../../contrib/stash-plugin/', import.meta.url);
const manifest = readFileSync(new URL('stash-mirror.yml', dir), 'utf8');
const script = readFileSync(new URL('stash_mirror_hook.py', dir), 'utf8');

/** The keys Stash's plugin config accepts (pkg/plugin/config.go; it decodes strictly). */
const TOP_LEVEL_KEYS = [
  'name',
  'description',
  'url',
  'version',
  'interface',
  'exec',
  'errLog',
  'tasks',
  'hooks',
  'ui',
  'settings',
];
/** Stash's hook triggers (pkg/plugin/hook/hooks.go). */
const STASH_TRIGGERS = [
  'Scene',
  'SceneMarker',
  'Image',
  'Gallery',
  'GalleryChapter',
  'Movie',
  'Group',
  'Performer',
  'Studio',
  'Tag',
]
  .flatMap((object) => ['Create', 'Update', 'Destroy'].map((operation) => `${object}.${operation}.Post`))
  .concat('Tag.Merge.Post');

describe('the Stash plugin in contrib/stash-plugin', () => {
  const lines = manifest.split('\n').filter((line) => line.trim() && !line.trim().startsWith('#'));

  it('uses only the keys Stash accepts, the raw interface and the script beside it', () => {
    const keys = lines.filter((line) => /^\S/.test(line)).map((line) => line.split(':')[0]);
    expect(keys.filter((key) => !TOP_LEVEL_KEYS.includes(key as string))).toEqual([]);
    expect(manifest).toMatch(/^interface: raw$/m);
    expect(manifest).toContain('"{pluginDir}/stash_mirror_hook.py"');
    const hooks = manifest.slice(manifest.indexOf('\nhooks:'));
    const hookKeys = [...hooks.matchAll(/^(?: {2}- | {4})(\w+):/gm)].map((match) => match[1]);
    expect(hookKeys.length).toBeGreaterThan(0);
    expect(
      hookKeys.filter(
        (key) => !['name', 'description', 'triggeredBy', 'defaultArgs', 'execArgs'].includes(key as string),
      ),
    ).toEqual([]);
  });

  it('subscribes to Stash triggers only: every mirrored type, Group rather than its alias Movie', () => {
    const triggers = lines.filter((line) => /^\s+- \w+\.\w+\.Post$/.test(line)).map((line) => line.trim().slice(2));
    expect(triggers.filter((trigger) => !STASH_TRIGGERS.includes(trigger))).toEqual([]);
    for (const object of ['Scene', 'Image', 'Gallery', 'Group', 'Performer', 'Studio', 'Tag']) {
      for (const operation of ['Create', 'Update', 'Destroy'])
        expect(triggers).toContain(`${object}.${operation}.Post`);
    }
    expect(triggers).toContain('Tag.Merge.Post');
    expect(triggers.some((trigger) => trigger.startsWith('Movie.'))).toBe(false);
  });

  it('declares the settings the script reads, under the plugin id Stash derives from the file name', () => {
    for (const setting of ['mirrorUrl', 'apiToken']) {
      expect(manifest).toMatch(new RegExp(`^ {2}${setting}:$`, 'm'));
      expect(script).toContain(`settings.get("${setting}")`);
    }
    expect(script).toContain('PLUGIN_ID = "stash-mirror"');
  });
});
