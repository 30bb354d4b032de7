/**
 * A strict check of 5-field cron expressions (minute hour day-of-month month day-of-week) and the
 * usual @-macros, so a bad expression is a 400 naming `cron` instead of a Temporal error.
 */
interface CronField {
  name: string;
  min: number;
  max: number;
  names?: readonly string[];
  question?: boolean;
}

const MONTHS = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'] as const;
const DAYS = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'] as const;

const FIELDS: readonly CronField[] = [
  { name: 'minute', min: 0, max: 59 },
  { name: 'hour', min: 0, max: 23 },
  { name: 'day of month', min: 1, max: 31, question: true },
  { name: 'month', min: 1, max: 12, names: MONTHS },
  { name: 'day of week', min: 0, max: 6, names: DAYS, question: true },
];

const MACROS = new Set(['@yearly', '@annually', '@monthly', '@weekly', '@daily', '@midnight', '@hourly']);

function value(text: string, field: CronField): number | null {
  if (/^\d{1,2}$/.test(text)) {
    const number = Number(text);
    return number >= field.min && number <= field.max ? number : null;
  }
  const index = field.names?.indexOf(text.toUpperCase() as never) ?? -1;
  if (index < 0) return null;
  return field.names === MONTHS ? index + 1 : index;
}

function partProblem(part: string, field: CronField): string | null {
  const [range, step, extra] = part.split('/');
  if (extra !== undefined || range === undefined || range === '') return `bad ${field.name} "${part}"`;
  if (step !== undefined && !(/^\d{1,2}$/.test(step) && Number(step) >= 1 && Number(step) <= field.max)) {
    return `bad step in ${field.name} "${part}"`;
  }
  if (range === '*' || (range === '?' && field.question)) return null;
  const bounds = range.split('-');
  if (bounds.length > 2) return `bad range in ${field.name} "${part}"`;
  const numbers = bounds.map((bound) => value(bound, field));
  if (numbers.some((number) => number === null)) {
    return `${field.name} must be within ${field.min}-${field.max}${field.names ? ` or a name` : ''} (got "${part}")`;
  }
  const [start, end] = numbers as number[];
  if (end !== undefined && start !== undefined && start > end) return `bad range in ${field.name} "${part}"`;
  return null;
}

/** Null when `expression` is a valid cron expression or macro; otherwise what is wrong with it. */
export function cronProblem(expression: string): string | null {
  const trimmed = expression.trim();
  if (MACROS.has(trimmed.toLowerCase())) return null;
  const fields = trimmed.split(/\s+/);
  if (fields.length !== FIELDS.length) {
    return 'must have 5 fields (minute hour day-of-month month day-of-week), e.g. "*/15 * * * *", or be a macro such as @hourly';
  }
  for (const [index, text] of fields.entries()) {
    const field = FIELDS[index] as CronField;
    for (const part of text.split(',')) {
      const problem = partProblem(part, field);
      if (problem) return problem;
    }
  }
  return null;
}
