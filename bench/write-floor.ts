/**
 * The write floor: the rows and own links of the whole library, mapped with the product's specs
 * (ENTITY_SPECS[type].map) during an untimed fetch pass and written to COPY files, then bulk-loaded
 * with COPY into a fresh database migrated like the mirror's (same tables, keys and indexes).
 * Only the COPY is timed.
 */
import { once } from 'node:events';
import { createReadStream, createWriteStream, mkdtempSync, rmSync, type WriteStream } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { pipeline } from 'node:stream/promises';
import postgres from 'postgres';
import { EntityMappingError, type EntitySpec, STAMP_COLUMNS } from '../stash/entities/spec.js';
import { copyLine } from './copy-text.js';
import { databaseMiB } from './measure-full.js';
import type { BenchStack } from './stack.js';
import { walkAll } from './walker.js';

interface CopyFile {
  table: string;
  kind: 'entity' | 'link';
  columns: string[];
  file: string;
  rows: number;
  stream: WriteStream;
  /** Lines of the current page, written in one chunk. */
  pending: string[];
}

export interface WriteFloor {
  seconds: number;
  entities: number;
  linkRows: number;
  /** Entities the specs refused (the sync would log them `failed`). */
  failed: number;
  databaseMiB: number;
}

/**
 * A TCP socket without Nagle's algorithm. postgres.js writes a COPY's last data and its CopyDone
 * as separate small packets; with Nagle the second waits for the server's delayed ACK (~40 ms per
 * COPY, whatever its size), a client artefact that is no part of the floor.
 */
function noDelaySocket(options: { host: string[]; port: number[] }): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: options.host[0], port: options.port[0] ?? 5432, noDelay: true });
    socket.once('connect', () => resolve(socket));
    socket.once('error', reject);
  });
}

const ident = (name: string) => `"${name.replace(/"/g, '""')}"`;

class CopyFiles {
  readonly files = new Map<string, CopyFile>();
  private readonly seen = new Map<string, Set<number>>();
  entities = 0;
  failed = 0;

  constructor(private readonly dir: string) {}

  private file(kind: CopyFile['kind'], table: string, columns: string[]): CopyFile {
    let file = this.files.get(table);
    if (!file) {
      const name = path.join(this.dir, `${table}.copy`);
      file = { table, kind, columns, file: name, rows: 0, stream: createWriteStream(name), pending: [] };
      this.files.set(table, file);
    }
    return file;
  }

  /** Maps one page of raw entities into COPY lines (an entity read twice is kept once). */
  async add(spec: EntitySpec, rows: unknown[]): Promise<void> {
    const seen = this.seen.get(spec.type) ?? new Set<number>();
    this.seen.set(spec.type, seen);
    const columns = ['id', ...spec.columns.map((column) => column.name), ...STAMP_COLUMNS.map((column) => column.name)];
    const entityFile = this.file('entity', spec.table, columns);
    for (const raw of rows) {
      let entity: ReturnType<EntitySpec['map']>;
      try {
        entity = spec.map(raw);
      } catch (error) {
        if (!(error instanceof EntityMappingError)) throw error;
        this.failed += 1;
        continue;
      }
      if (seen.has(entity.id)) continue;
      seen.add(entity.id);
      this.entities += 1;
      entityFile.pending.push(copyLine(columns.map((name) => (name === 'id' ? entity.id : entity.row[name]))));
      for (const link of spec.links) {
        const extra = (link.extraColumns ?? []).map((column) => column.name);
        const linkFile = this.file('link', link.table, [link.ownerColumn, link.targetColumn, ...extra]);
        const targets = new Set<number>();
        for (const row of entity.links[link.name] ?? []) {
          if (targets.has(row.target)) continue;
          targets.add(row.target);
          linkFile.pending.push(copyLine([entity.id, row.target, ...extra.map((name) => row[name] ?? null)]));
        }
      }
    }
    for (const file of this.files.values()) await this.flush(file);
  }

  private async flush(file: CopyFile): Promise<void> {
    if (file.pending.length === 0) return;
    file.rows += file.pending.length;
    const chunk = file.pending.join('');
    file.pending = [];
    if (!file.stream.write(chunk)) await once(file.stream, 'drain');
  }

  async close(): Promise<CopyFile[]> {
    const files = [...this.files.values()];
    await Promise.all(
      files.map(
        (file) =>
          new Promise<void>((resolve, reject) =>
            file.stream.end((error?: Error | null) => (error ? reject(error) : resolve())),
          ),
      ),
    );
    return files;
  }
}

export async function measureWriteFloor(stack: BenchStack): Promise<WriteFloor> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'stash-mirror-bench-copy-'));
  const database = await stack.createDatabase('bench_write_floor');
  try {
    const copies = new CopyFiles(dir);
    await walkAll(stack.stash, {
      pageSize: stack.pageSize,
      concurrency: 1,
      onRows: (spec, rows) => copies.add(spec, rows),
    });
    const files = await copies.close();
    // `socket` is a documented postgres.js option its types do not list.
    const copyOptions = { max: 1, onnotice: () => {}, socket: noDelaySocket };
    const copySql = postgres(database.url, copyOptions);
    await copySql`select 1`; // connected before the clock starts
    const started = performance.now();
    await copySql.begin(async (tx) => {
      // COPY fires the mirror tables' read-only statement trigger: write as the sync does.
      await tx`select set_config('stash_mirror.writer', 'sync', true)`;
      for (const file of files) {
        const target = await tx
          .unsafe(`copy ${ident(file.table)} (${file.columns.map(ident).join(', ')}) from stdin`)
          .writable();
        await pipeline(createReadStream(file.file), target);
      }
    });
    const seconds = (performance.now() - started) / 1000;
    await copySql.end();
    return {
      seconds,
      entities: copies.entities,
      linkRows: files.filter((file) => file.kind === 'link').reduce((sum, file) => sum + file.rows, 0),
      failed: copies.failed,
      databaseMiB: await databaseMiB(database.sql),
    };
  } finally {
    await database.drop();
    rmSync(dir, { recursive: true, force: true });
  }
}
