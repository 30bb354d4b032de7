import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeSmartSyncSchedule, scheduleIdFor } from '../../temporal/schedule.js';
import { createTestStack, type TestStack } from '../support/stack.js';
import { type CliResult, cliEnv, describeRun, lastJson, runCli } from './support.js';

interface Schedule {
  scheduleId: string;
  intervalSeconds: number | null;
  cron: string | null;
  paused: boolean;
  nextRuns: string[];
}

/** `stash-mirror schedule …` against the test stack's Temporal (no worker needed: nothing here runs a sync). */
describe('`stash-mirror schedule`', () => {
  let stack: TestStack;
  let env: NodeJS.ProcessEnv;
  let scheduleId: string;
  const cli = (...args: string[]) => runCli(args, env);
  const expectExit = (result: CliResult, code: number) => expect(result.code, describeRun(result)).toBe(code);
  /** What Temporal itself says, beside what the command printed. */
  const temporal = () => describeSmartSyncSchedule(stack.client, stack.workflowId);
  async function json(...args: string[]): Promise<Schedule> {
    const result = await cli(...args);
    expectExit(result, 0);
    expect(result.lines, result.stdout).toHaveLength(1);
    return lastJson<Schedule>(result);
  }

  beforeAll(async () => {
    stack = await createTestStack({ seed: 4, scale: 'tiny' });
    env = cliEnv(stack);
    scheduleId = scheduleIdFor(stack.workflowId);
  });
  afterAll(async () => {
    await stack?.client.schedule
      .getHandle(scheduleIdFor(stack.workflowId))
      .delete()
      .catch(() => {});
    await stack?.close();
  });

  it('says there is none yet, and refuses bad arguments with exit 64 without creating one', async () => {
    const missing = await Promise.all([cli('schedule'), cli('schedule', 'show', '--json'), cli('schedule', 'pause')]);
    for (const result of missing) {
      expectExit(result, 1);
      expect(result.stderr).toBe(
        'stash-mirror: no smart-sync schedule yet: `stash-mirror schedule set --interval <seconds>` creates it (so does starting the worker)\n',
      );
    }

    const bad: Array<[string[], RegExp]> = [
      [['set'], /give exactly one of --interval <seconds> or --cron <expr>/],
      [['set', '--interval', '600', '--cron', '@hourly'], /give exactly one of/],
      [['set', '--interval', '5'], /--interval must be a whole number of seconds from 10 to 31536000 \(got "5"\)/],
      [['set', '--interval', '1.5'], /--interval must be a whole number/],
      [['set', '--interval', '31536001'], /--interval must be a whole number/],
      [['set', '--cron', '61 * * * *'], /--cron minute must be within 0-59 \(got "61"\)/],
      [['set', '--cron', '* * *'], /--cron must have 5 fields/],
      [['bogus'], /schedule: unknown action "bogus" \(one of show, pause, resume, set\)/],
    ];
    const results = await Promise.all(bad.map(([args]) => cli('schedule', ...args)));
    for (const [index, result] of results.entries()) {
      expectExit(result, 64);
      expect(result.stderr).toMatch(new RegExp(`^stash-mirror: .*${bad[index]?.[1].source}`));
      expect(result.stdout).toBe('');
    }
    expect(await temporal()).toBeNull();
  });

  it('set, pause, show, resume round-trip, with --json before or after the action', async () => {
    const created = await json('schedule', 'set', '--interval', '3600', '--json');
    expect(created).toMatchObject({ scheduleId, intervalSeconds: 3600, cron: null, paused: false });
    expect(created.nextRuns.length).toBeGreaterThan(0);
    expect(await temporal()).toMatchObject({ intervalSeconds: 3600, cron: null, paused: false });

    expect(await json('schedule', 'pause', '--json')).toMatchObject({ intervalSeconds: 3600, paused: true });
    expect((await temporal())?.paused).toBe(true);
    // Pausing a paused schedule is no error.
    expect(await json('schedule', '--json', 'pause')).toMatchObject({ paused: true });
    expect(await json('schedule', 'show', '--json')).toMatchObject({ scheduleId, intervalSeconds: 3600, paused: true });
    expect(await json('schedule', '--json')).toMatchObject({ scheduleId, paused: true });

    const shown = await cli('schedule');
    expectExit(shown, 0);
    expect(shown.lines).toEqual([`Schedule: smart sync every 3600s · PAUSED · ${scheduleId}`, '  next: - (paused)']);

    // A new spec keeps the pause.
    const cron = await json('schedule', 'set', '--cron', '30 2 1 1 *', '--json');
    expect(cron).toMatchObject({ cron: '30 2 1 1 *', intervalSeconds: null, paused: true });
    expect(await temporal()).toMatchObject({ cron: '30 2 1 1 *', paused: true });

    const resumed = await cli('schedule', 'resume');
    expectExit(resumed, 0);
    expect(resumed.lines[0]).toBe(`Schedule: smart sync cron "30 2 1 1 *" · active · ${scheduleId}`);
    // Next 1 January, 02:30 (UTC: Temporal's cron and the command's TZ here).
    expect(resumed.lines[1]).toMatch(/^ {2}next: \d{4}-01-01 02:30:00, \d{4}-01-01 02:30:00, \d{4}-01-01 02:30:00$/);
    expect((await temporal())?.paused).toBe(false);

    const back = await json('schedule', 'set', '--interval', '7200', '--json');
    expect(back).toMatchObject({ intervalSeconds: 7200, cron: null, paused: false });
    expect(await temporal()).toMatchObject({ intervalSeconds: 7200, cron: null, paused: false });

    // `status` shows the same schedule.
    const status = await cli('status');
    expectExit(status, 0);
    expect(status.lines).toContain(`Schedule: smart sync every 7200s · active · ${scheduleId}`);
  });
});
