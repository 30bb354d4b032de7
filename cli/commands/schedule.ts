import type { Command } from 'commander';
import { cronProblem } from '../../api/schemas/cron.js';
import { EXIT, fail } from '../shared.js';

interface JsonFlag {
  json?: boolean;
}

const actions = () => import('../actions/schedule.js');
const ACTIONS = ['show', 'pause', 'resume', 'set'];

/** The same bounds as the API's PUT /api/sync/schedule (api/schemas/schedule.ts). */
const MIN_INTERVAL_SECONDS = 10;
const MAX_INTERVAL_SECONDS = 31_536_000;

/**
 * `--json` is an option of `schedule` and of each action: commander hands it to `schedule` when it
 * follows the action too (`schedule show --json`), so an action reads both levels.
 */
const wantsJson = (command: Command) => (command.optsWithGlobals() as JsonFlag).json === true;

function intervalSeconds(text: string): number {
  const value = Number(text);
  if (!/^\d+$/.test(text.trim()) || value < MIN_INTERVAL_SECONDS || value > MAX_INTERVAL_SECONDS) {
    fail(
      `--interval must be a whole number of seconds from ${MIN_INTERVAL_SECONDS} to ${MAX_INTERVAL_SECONDS} (got "${text}")`,
      EXIT.usage,
    );
  }
  return value;
}

function cronExpression(text: string): string {
  const cron = text.trim();
  const problem = cronProblem(cron);
  if (problem) fail(`--cron ${problem}`, EXIT.usage);
  return cron;
}

export function registerSchedule(program: Command): void {
  const schedule = program
    .command('schedule')
    .description('the smart-sync schedule (Temporal Schedule): show (default), pause, resume, set its interval or cron')
    .argument('[action]', 'show | pause | resume | set')
    .option('--json', 'print the schedule as one JSON object')
    // Reached only when [action] names no subcommand.
    .action(async (action: string | undefined, options: JsonFlag) => {
      if (action !== undefined) fail(`schedule: unknown action "${action}" (one of ${ACTIONS.join(', ')})`, EXIT.usage);
      await (await actions()).runSchedule({ action: 'show' }, { json: options.json === true });
    });

  for (const [action, description] of [
    ['show', 'the schedule: interval or cron, paused or not, next and recent runs'],
    ['pause', 'pause the schedule (a running sync goes on)'],
    ['resume', 'resume the schedule'],
  ] as const) {
    schedule
      .command(action)
      .description(description)
      .option('--json', 'print the schedule as one JSON object')
      .action(async (_options: JsonFlag, command: Command) =>
        (await actions()).runSchedule({ action }, { json: wantsJson(command) }),
      );
  }

  schedule
    .command('set')
    .description('create the schedule or change when it runs (keeps paused or not)')
    .option(
      '--interval <seconds>',
      `run a smart sync every this many seconds (${MIN_INTERVAL_SECONDS} to ${MAX_INTERVAL_SECONDS})`,
    )
    .option('--cron <expr>', 'run a smart sync on this cron expression (UTC), e.g. "*/15 * * * *" or @hourly')
    .option('--json', 'print the schedule as one JSON object')
    .action(async (flags: { interval?: string; cron?: string }, command: Command) => {
      if ((flags.interval === undefined) === (flags.cron === undefined)) {
        fail('schedule set: give exactly one of --interval <seconds> or --cron <expr>', EXIT.usage);
      }
      const spec =
        flags.cron !== undefined
          ? { cron: cronExpression(flags.cron) }
          : { intervalSeconds: intervalSeconds(flags.interval as string) };
      await (await actions()).runSchedule({ action: 'set', spec }, { json: wantsJson(command) });
    });
}
