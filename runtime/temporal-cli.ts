// Locates the `temporal` CLI (which embeds the dev server). The search order matches
// scripts/install-temporal.sh, which is what builds the project-local copy; this file never builds.
import { accessSync, constants, statSync } from 'node:fs';
import path from 'node:path';
import { projectRoot } from './processes.js';

function isExecutableFile(file: string): boolean {
  try {
    if (!statSync(file).isFile()) return false;
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * 1. $TEMPORAL_CLI_PATH, if it names an executable file;
 * 2. <root>/.tools/bin/temporal (built by scripts/install-temporal.sh, git-ignored);
 * 3. `temporal` on $PATH.
 * Returns null when none is found (callers then fall back to the SDK's download, which needs internet).
 */
export function findTemporalCli(root: string = projectRoot()): string | null {
  const fromEnv = process.env.TEMPORAL_CLI_PATH;
  if (fromEnv && isExecutableFile(fromEnv)) return path.resolve(fromEnv);
  const local = path.join(root, '.tools', 'bin', 'temporal');
  if (isExecutableFile(local)) return local;
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, 'temporal');
    if (isExecutableFile(candidate)) return candidate;
  }
  return null;
}
