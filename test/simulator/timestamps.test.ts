import { describe, expect, it } from 'vitest';
import { createSimulator, formatStashTime } from '../../simulator/index.js';
import { list, NOW } from './helpers.js';

describe('timestamps', () => {
  it('are formatted like Go RFC 3339 in the server offset, Z for UTC', () => {
    const instant = new Date('2025-01-01T00:00:00.900Z');
    expect(formatStashTime(instant, 600)).toBe('2025-01-01T10:00:00+10:00');
    expect(formatStashTime(instant, -330)).toBe('2024-12-31T18:30:00-05:30');
    expect(formatStashTime(instant, 0)).toBe('2025-01-01T00:00:00Z');
  });

  it('compare lexically: a Z value and the same instant in the server offset give different answers', async () => {
    const sim = createSimulator({ seed: 2, now: NOW, utcOffsetMinutes: 600 });
    const at = (stamp: string, title: string) =>
      sim.control.create('scene', { title, created_at: stamp, updated_at: stamp });
    // 2024-12-31T23:00:00Z: before the instant 2025-01-01T00:00:00Z, yet "2025-01-01..." as a string.
    const early = at('2025-01-01T09:00:00+10:00', 'early');
    // 2025-01-01T05:00:00Z: after the instant.
    const late = at('2025-01-01T15:00:00+10:00', 'late');
    const ids = async (modifier: string, value: string) =>
      (await list(sim, 'scene', { per_page: -1 }, { updated_at: { value, modifier } })).rows.map((r) => Number(r.id));

    const afterZ = await ids('GREATER_THAN', '2025-01-01T00:00:00Z');
    const afterLocal = await ids('GREATER_THAN', '2025-01-01T10:00:00+10:00');
    expect(afterLocal).toContain(late);
    expect(afterLocal).not.toContain(early);
    // The Z form wrongly lets in a row from before the instant.
    expect(afterZ).toContain(early);
    expect(afterZ).not.toEqual(afterLocal);

    const beforeZ = await ids('LESS_THAN', '2025-01-01T00:00:00Z');
    const beforeLocal = await ids('LESS_THAN', '2025-01-01T10:00:00+10:00');
    // ...and misses a row the server-offset value finds.
    expect(beforeLocal).toContain(early);
    expect(beforeZ).not.toContain(early);

    // "T" sorts after " ", so a space-separated value matches every row of that day, even earlier ones.
    expect(await ids('GREATER_THAN', '2025-01-01 10:00:00')).toContain(early);
  });

  it('new writes carry the offset in force; stored strings never change (setUtcOffset)', () => {
    const sim = createSimulator({ seed: 2, now: new Date('2025-03-01T00:00:00Z'), utcOffsetMinutes: 600 });
    sim.control.freezeClock(true);
    const before = sim.control.create('tag', { name: 'before' });
    expect(sim.library.tags.get(before)?.created_at).toBe('2025-03-01T10:00:00+10:00');
    const snapshot = Array.from(sim.library.scenes.values(), (s) => s.updated_at);
    sim.control.setUtcOffset(660);
    const after = sim.control.create('tag', { name: 'after' });
    expect(sim.library.tags.get(after)?.created_at).toBe('2025-03-01T11:00:00+11:00');
    expect(sim.library.tags.get(before)?.created_at).toBe('2025-03-01T10:00:00+10:00');
    expect(Array.from(sim.library.scenes.values(), (s) => s.updated_at)).toEqual(snapshot);
    sim.control.setUtcOffset(0);
    sim.control.update('tag', after, { description: 'x' });
    expect(sim.library.tags.get(after)?.updated_at).toBe('2025-03-01T00:00:00Z');
  });

  it('follow DST with a time zone: an hour after the change strings sort before older ones', () => {
    // Sydney leaves DST on 2025-04-06 at 03:00 local (+11:00) -> 02:00 (+10:00), i.e. 16:00Z.
    const sim = createSimulator({ seed: 2, now: new Date('2025-04-05T15:30:00Z'), timeZone: 'Australia/Sydney' });
    sim.control.freezeClock(true);
    const a = sim.control.create('scene', { title: 'before' });
    sim.control.advanceClock(45 * 60);
    const b = sim.control.create('scene', { title: 'after' });
    const first = sim.library.scenes.get(a)?.updated_at as string;
    const second = sim.library.scenes.get(b)?.updated_at as string;
    expect(first).toBe('2025-04-06T02:30:00+11:00');
    expect(second).toBe('2025-04-06T02:15:00+10:00');
    expect(second < first).toBe(true);
    sim.control.setTimeZone(null);
    sim.control.setUtcOffset(-300);
    expect(sim.control.stamp()).toBe('2025-04-05T11:15:00-05:00');
    expect(sim.library.scenes.get(a)?.updated_at).toBe(first);
  });

  it("generated history uses each instant's own offset in a DST zone", () => {
    const sim = createSimulator({ seed: 4, scale: 'small', now: NOW, timeZone: 'Australia/Sydney' });
    const offsets = new Set(Array.from(sim.library.scenes.values(), (s) => s.created_at.slice(-6)));
    expect(offsets).toEqual(new Set(['+10:00', '+11:00']));
  });

  it('clock runs in real time unless frozen, and can be set and advanced', async () => {
    const sim = createSimulator({ now: new Date('2030-01-01T00:00:00Z') });
    const t0 = sim.control.now().getTime();
    await new Promise((r) => setTimeout(r, 30));
    expect(sim.control.now().getTime()).toBeGreaterThan(t0);
    sim.control.freezeClock(true);
    const frozen = sim.control.now().getTime();
    await new Promise((r) => setTimeout(r, 20));
    expect(sim.control.now().getTime()).toBe(frozen);
    sim.control.advanceClock(3600);
    expect(sim.control.now().getTime()).toBe(frozen + 3_600_000);
    sim.control.setClock('2031-05-05T00:00:00Z');
    expect(sim.control.stamp()).toBe('2031-05-05T10:00:00+10:00');
  });
});
