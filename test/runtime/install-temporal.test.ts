import { spawn, spawnSync } from 'node:child_process';
import { accessSync, constants, copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { findTemporalCli } from '../../runtime/temporal-cli.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const script = path.join(root, 'scripts', 'install-temporal.sh');
const scratch = mkdtempSync(path.join(os.tmpdir(), 'stash-mirror-install-test-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** PATH without any directory that holds a `temporal`, so discovery falls through to .tools/bin. */
function pathWithoutTemporal(): string {
  return (process.env.PATH ?? '')
    .split(path.delimiter)
    .filter((dir) => dir && !isExecutable(path.join(dir, 'temporal')))
    .join(path.delimiter);
}

function cleanEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, PATH: pathWithoutTemporal() };
  delete env.TEMPORAL_CLI_PATH;
  return env;
}

function run(scriptPath: string, cwd: string): { lastLine: string; ms: number; stderr: string } {
  const started = Date.now();
  const result = spawnSync('bash', [scriptPath], { cwd, env: cleanEnv(), encoding: 'utf8', timeout: 900_000 });
  expect(result.status, result.stderr).toBe(0);
  const lines = result.stdout.trim().split('\n');
  return { lastLine: lines[lines.length - 1] ?? '', ms: Date.now() - started, stderr: result.stderr };
}

const goAvailable = spawnSync('bash', ['-c', 'command -v go || test -x /usr/local/go/bin/go']).status === 0;

describe('scripts/install-temporal.sh', () => {
  it('is idempotent: a second run from another cwd prints the same path without rebuilding', {
    timeout: 900_000,
  }, () => {
    const first = run(script, root);
    const second = run(script, os.tmpdir());
    expect(second.lastLine).toBe(first.lastLine);
    expect(second.stderr).not.toMatch(/building/);
    expect(second.ms).toBeLessThan(2000);
    if (goAvailable) {
      expect(first.lastLine).toBe(path.join(root, '.tools', 'bin', 'temporal'));
      expect(isExecutable(first.lastLine)).toBe(true);
    }
  });

  it('honours TEMPORAL_CLI_PATH first', () => {
    const fake = path.join(scratch, 'my-temporal');
    writeFileSync(fake, '#!/bin/sh\nexit 0\n', { mode: 0o755 });
    const result = spawnSync('bash', [script], { env: { ...cleanEnv(), TEMPORAL_CLI_PATH: fake }, encoding: 'utf8' });
    expect(result.stdout.trim()).toBe(fake);
  });

  // Two concurrent installs into a fresh project copy: one builds (fast with a warm Go cache), the
  // other waits on the lock and reuses the result.
  it.skipIf(!goAvailable)('serialises concurrent builds', { timeout: 900_000 }, async () => {
    const copy = path.join(scratch, 'project');
    mkdirSync(path.join(copy, 'scripts'), { recursive: true });
    copyFileSync(script, path.join(copy, 'scripts', 'install-temporal.sh'));
    const runAsync = (): Promise<{ code: number | null; stdout: string; stderr: string }> =>
      new Promise((resolve) => {
        const child = spawn('bash', [path.join(copy, 'scripts', 'install-temporal.sh')], { env: cleanEnv() });
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (chunk) => {
          stdout += chunk;
        });
        child.stderr.on('data', (chunk) => {
          stderr += chunk;
        });
        child.on('close', (code) => resolve({ code, stdout, stderr }));
      });
    const results = await Promise.all([runAsync(), runAsync()]);
    const expected = path.join(copy, '.tools', 'bin', 'temporal');
    for (const result of results) {
      expect(result.code, result.stderr).toBe(0);
      expect(result.stdout.trim().split('\n').pop()).toBe(expected);
    }
    expect(results.filter((result) => /built /.test(result.stderr))).toHaveLength(1);
    // CI exports TEMPORAL_CLI_PATH, which findTemporalCli rightly prefers: look without it.
    const saved = process.env.TEMPORAL_CLI_PATH;
    delete process.env.TEMPORAL_CLI_PATH;
    try {
      expect(findTemporalCli(copy)).toBe(expected);
    } finally {
      if (saved !== undefined) process.env.TEMPORAL_CLI_PATH = saved;
    }
  });
});

describe('findTemporalCli', () => {
  it('searches TEMPORAL_CLI_PATH, then <root>/.tools/bin, then PATH', () => {
    const saved = { path: process.env.PATH, cli: process.env.TEMPORAL_CLI_PATH };
    try {
      const project = path.join(scratch, 'find');
      const local = path.join(project, '.tools', 'bin', 'temporal');
      const onPath = path.join(scratch, 'pathbin', 'temporal');
      const explicit = path.join(scratch, 'explicit-temporal');
      for (const file of [local, onPath, explicit]) {
        mkdirSync(path.dirname(file), { recursive: true });
        writeFileSync(file, '#!/bin/sh\n', { mode: 0o755 });
      }
      process.env.PATH = path.dirname(onPath);
      delete process.env.TEMPORAL_CLI_PATH;
      expect(findTemporalCli(project)).toBe(local);
      expect(findTemporalCli(path.join(scratch, 'elsewhere'))).toBe(onPath);
      process.env.TEMPORAL_CLI_PATH = explicit;
      expect(findTemporalCli(project)).toBe(explicit);
      process.env.TEMPORAL_CLI_PATH = path.join(scratch, 'missing');
      process.env.PATH = '';
      expect(findTemporalCli(path.join(scratch, 'elsewhere'))).toBeNull();
    } finally {
      process.env.PATH = saved.path;
      if (saved.cli === undefined) delete process.env.TEMPORAL_CLI_PATH;
      else process.env.TEMPORAL_CLI_PATH = saved.cli;
    }
  });
});
