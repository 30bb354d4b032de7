/** Plain-text output for the terminal: aligned tables, times, durations and counts (pure). */

export interface Column<R> {
  header: string;
  value: (row: R) => string;
  /** Numbers read best right-aligned. */
  align?: 'left' | 'right';
}

/** An aligned table: a header line and one line per row, columns two spaces apart, no trailing blanks. */
export function table<R>(columns: Array<Column<R>>, rows: readonly R[]): string[] {
  const cells = rows.map((row) => columns.map((column) => column.value(row)));
  const widths = columns.map((column, index) =>
    Math.max(column.header.length, ...cells.map((line) => (line[index] ?? '').length)),
  );
  const render = (line: string[]) =>
    line
      .map((cell, index) => {
        const width = widths[index] ?? 0;
        return columns[index]?.align === 'right' ? cell.padStart(width) : cell.padEnd(width);
      })
      .join('  ')
      .trimEnd();
  return [render(columns.map((column) => column.header)), ...cells.map(render)];
}

const pad2 = (value: number) => String(value).padStart(2, '0');

/** A moment in local time, to the second: `2025-06-01 12:00:01` ('-' when unknown). */
export function localTime(value: Date | string | null | undefined): string {
  if (!value) return '-';
  const date = value instanceof Date ? value : new Date(value);
  if (Number.isNaN(date.getTime())) return String(value);
  return (
    `${date.getFullYear()}-${pad2(date.getMonth() + 1)}-${pad2(date.getDate())} ` +
    `${pad2(date.getHours())}:${pad2(date.getMinutes())}:${pad2(date.getSeconds())}`
  );
}

/** A length of time: `45s`, `2m 03s`, `1h 02m` ('-' when unknown). */
export function duration(milliseconds: number | null | undefined): string {
  if (milliseconds == null || !Number.isFinite(milliseconds)) return '-';
  const seconds = Math.max(0, Math.round(milliseconds / 1000));
  if (seconds < 60) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes}m ${pad2(seconds % 60)}s`;
  return `${Math.floor(minutes / 60)}h ${pad2(minutes % 60)}m`;
}

/** Elapsed time as a clock: `0:07`, `12:30`, `1:02:03`. */
export function clock(milliseconds: number): string {
  const seconds = Math.max(0, Math.floor(milliseconds / 1000));
  const hours = Math.floor(seconds / 3600);
  const minutes = Math.floor((seconds % 3600) / 60);
  return hours > 0 ? `${hours}:${pad2(minutes)}:${pad2(seconds % 60)}` : `${minutes}:${pad2(seconds % 60)}`;
}

/** A count with thousands separators: `12,345`. */
export function count(value: number): string {
  return Math.round(value).toLocaleString('en-US');
}
