import { z } from '@hono/zod-openapi';
import { cronProblem } from './cron.js';

export const ScheduleBody = z
  .strictObject({
    intervalSeconds: z
      .number()
      .int('must be a whole number of seconds')
      .min(10, 'must be at least 10 seconds')
      .max(31_536_000, 'must be at most a year (31536000 seconds)')
      .optional(),
    cron: z
      .string()
      .max(200, 'must be at most 200 characters')
      .superRefine((cron, check) => {
        const problem = cronProblem(cron);
        if (problem) check.addIssue({ code: 'custom', message: problem });
      })
      .optional()
      .openapi({ example: '*/15 * * * *' }),
    paused: z.boolean().optional(),
  })
  .superRefine((body, check) => {
    if (body.intervalSeconds !== undefined && body.cron !== undefined) {
      check.addIssue({ code: 'custom', path: ['cron'], message: 'give intervalSeconds or cron, not both' });
    }
  })
  .openapi('ScheduleUpdate', {
    description:
      'The smart-sync schedule: an interval or a cron expression (leave both out to keep the current spec), and whether it is paused.',
  });

export const TriggeredSchema = z
  .object({ triggered: z.literal(true), scheduleId: z.string(), statusUrl: z.string() })
  .openapi('ScheduleTriggered');
