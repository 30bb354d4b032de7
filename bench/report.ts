/**
 * The bench's output: a flat list of metrics (stable keys, so runs compare), printed as a table
 * (what | value | unit, and old | new/old with --compare), and the JSON file with the machine,
 * the scale, git HEAD and the raw measurements.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PROJECT_ROOT } from './child.js';

export interface Metric {
  section: string;
  key: string;
  what: string;
  value: number | null;
  unit: string;
}

export interface BenchReport {
  date: string;
  machine: { cores: number; cpu: string; memoryMiB: number; node: string; os: string };
  /** 1-minute load average when the run started and ended: other work on the machine skews timings. */
  load: { start: number; end: number | null };
  scale: string;
  git: { head: string | null; dirtyFiles: number | null };
  options: Record<string, unknown>;
  metrics: Metric[];
  details: Record<string, unknown>;
  errors: Array<{ phase: string; message: string }>;
}

export class Metrics {
  readonly list: Metric[] = [];
  private section = '';

  begin(section: string): void {
    this.section = section;
  }

  add(key: string, what: string, value: number | null | undefined, unit: string): void {
    const finite = value === null || value === undefined || !Number.isFinite(value) ? null : value;
    this.list.push({ section: this.section, key, what, value: finite, unit });
  }
}

function git(args: string[]): string | null {
  try {
    return execFileSync('git', args, { cwd: PROJECT_ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  } catch {
    return null;
  }
}

export function describeRun(): Pick<BenchReport, 'date' | 'machine' | 'git' | 'load'> {
  const status = git(['status', '--porcelain']);
  return {
    date: new Date().toISOString(),
    machine: {
      cores: os.cpus().length,
      cpu: os.cpus()[0]?.model ?? 'unknown',
      memoryMiB: Math.round(os.totalmem() / 2 ** 20),
      node: process.version,
      os: `${os.type()} ${os.release()}`,
    },
    load: { start: os.loadavg()[0] ?? 0, end: null },
    git: {
      head: git(['rev-parse', 'HEAD'])?.trim() ?? null,
      dirtyFiles: status === null ? null : status.split('\n').filter(Boolean).length,
    },
  };
}

export function formatValue(value: number | null): string {
  if (value === null) return '—';
  const abs = Math.abs(value);
  const digits = abs >= 100 ? 0 : abs >= 10 ? 1 : abs >= 1 ? 2 : 3;
  return value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

/** The table, with the old value and new/old per metric when an earlier report is given. */
export function renderTable(metrics: readonly Metric[], old?: BenchReport): string {
  const previous = new Map((old?.metrics ?? []).map((metric) => [metric.key, metric.value]));
  const header = old ? ['what', 'value', 'unit', 'old', 'new/old'] : ['what', 'value', 'unit'];
  const rows: string[][] = [];
  let section = '';
  for (const metric of metrics) {
    if (metric.section !== section) {
      section = metric.section;
      rows.push([`— ${section}`]);
    }
    const row = [`  ${metric.what}`, formatValue(metric.value), metric.unit];
    if (old) {
      const before = previous.get(metric.key) ?? null;
      const ratio = before !== null && before !== 0 && metric.value !== null ? metric.value / before : null;
      row.push(formatValue(before), ratio === null ? '—' : `${ratio.toFixed(2)}×`);
    }
    rows.push(row);
  }
  const widths = header.map((title, column) =>
    Math.max(title.length, ...rows.filter((row) => row.length > 1).map((row) => row[column]?.length ?? 0)),
  );
  const line = (cells: string[]) =>
    cells
      .map((cell, column) =>
        column === 0 || column === 2 ? cell.padEnd(widths[column] ?? 0) : cell.padStart(widths[column] ?? 0),
      )
      .join(' | ');
  return [
    line(header),
    widths.map((width) => '-'.repeat(width)).join('-|-'),
    ...rows.map((row) => (row.length === 1 ? (row[0] ?? '') : line(row))),
  ].join('\n');
}

export function readReport(file: string): BenchReport {
  return JSON.parse(readFileSync(file, 'utf8')) as BenchReport;
}

/** bench/results/<date>-<scale>.json; a second run the same day gets -2, -3, … rather than overwriting. */
export function writeReport(report: BenchReport): string {
  const dir = path.join(PROJECT_ROOT, 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  const stem = `${report.date.slice(0, 10)}-${report.scale}`;
  let file = path.join(dir, `${stem}.json`);
  for (let index = 2; existsSync(file); index += 1) file = path.join(dir, `${stem}-${index}.json`);
  writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
  return file;
}
