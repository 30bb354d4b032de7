import { describe, expect, it } from 'vitest';
import {
  formatStashTime,
  lexicalLowerBound,
  lexicalMax,
  parseStashTime,
  toStashOffset,
} from '../../stash/timestamps.js';

describe('Stash timestamps', () => {
  it('parses offsets and Z, and rejects impossible times', () => {
    expect(parseStashTime('2025-03-01T10:00:00+11:00')).toEqual({
      instant: Date.parse('2025-02-28T23:00:00Z'),
      offsetMinutes: 660,
    });
    expect(parseStashTime('2025-03-01T10:00:00Z')?.offsetMinutes).toBe(0);
    expect(parseStashTime('2025-02-30T10:00:00+10:00')).toBeNull();
    expect(parseStashTime('2025-03-01 10:00:00+10:00')).toBeNull();
    expect(parseStashTime('garbage')).toBeNull();
  });

  it('formats like Go RFC 3339 in a given offset', () => {
    const instant = Date.parse('2025-01-01T00:00:00Z');
    expect(formatStashTime(instant, 600)).toBe('2025-01-01T10:00:00+10:00');
    expect(formatStashTime(instant, -330)).toBe('2024-12-31T18:30:00-05:30');
    expect(formatStashTime(instant, 0)).toBe('2025-01-01T00:00:00Z');
  });

  it('converts a user value into the server offset so a lexical comparison is right', () => {
    expect(toStashOffset('2025-01-01T00:00:00Z', 600)).toBe('2025-01-01T10:00:00+10:00');
    // The naive Z string sorts BEFORE rows written earlier that day in +10:00: that is the bug.
    expect('2025-01-01T00:00:00Z' < '2025-01-01T05:00:00+10:00').toBe(true);
  });

  it('gives a lower bound that survives a daylight-saving fall-back', () => {
    const mark = '2025-04-06T02:59:59+11:00'; // Sydney, just before clocks go back
    const bound = lexicalLowerBound(mark, 2 * 3600);
    expect(bound).toBe('2025-04-06T00:59:59+11:00');
    // One second later the server writes in +10:00, an hour "earlier" on the wall clock.
    const afterFallBack = formatStashTime(Date.parse('2025-04-05T16:00:00Z'), 600);
    expect(afterFallBack).toBe('2025-04-06T02:00:00+10:00');
    expect(afterFallBack < mark).toBe(true); // a plain "> mark" filter would miss it
    expect(bound !== null && afterFallBack >= bound).toBe(true);
  });

  it('takes the lexical max as Stash orders strings', () => {
    expect(lexicalMax(null, 'a')).toBe('a');
    expect(lexicalMax('2025-01-02T00:00:00+10:00', '2025-01-01T23:00:00+10:00')).toBe('2025-01-02T00:00:00+10:00');
  });
});
