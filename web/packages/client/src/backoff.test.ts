import { describe, expect, it } from 'vitest';
import { backoffDelay, parseRetryAfter } from './backoff.js';

describe('backoffDelay', () => {
  it('is min(1000·2^attempt, 30000) without jitter', () => {
    const mid = () => 0.5;
    expect([0, 1, 2, 3, 4, 5, 6, 20].map((a) => backoffDelay(a, {}, mid))).toEqual([
      1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000,
    ]);
  });

  it('stays within ±10 %', () => {
    for (let a = 0; a < 8; a++) {
      const base = Math.min(1000 * 2 ** a, 30000);
      expect(backoffDelay(a, {}, () => 0)).toBe(Math.round(base * 0.9));
      expect(backoffDelay(a, {}, () => 0.9999999)).toBe(Math.round(base * 1.1));
      for (let i = 0; i < 50; i++) {
        const d = backoffDelay(a);
        expect(d).toBeGreaterThanOrEqual(base * 0.9 - 1);
        expect(d).toBeLessThanOrEqual(base * 1.1 + 1);
      }
    }
  });

  it('takes other bases, caps and jitter', () => {
    expect(backoffDelay(3, { baseMs: 100, maxMs: 500, jitter: 0 })).toBe(500);
    expect(backoffDelay(1, { baseMs: 100, jitter: 0 })).toBe(200);
  });
});

describe('parseRetryAfter', () => {
  it('reads seconds and HTTP dates', () => {
    const now = Date.parse('Sun, 29 Nov 2026 12:00:00 GMT');
    expect(parseRetryAfter('7', now)).toBe(7000);
    expect(parseRetryAfter('Sun, 29 Nov 2026 12:00:05 GMT', now)).toBe(5000);
    expect(parseRetryAfter('Sun, 29 Nov 2026 11:00:00 GMT', now)).toBe(0);
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter(null, now)).toBeUndefined();
  });
});
