// Proves the dashboard's browser formatter (src/dashboard/format.js) prints money exactly as the CLI does, never shows an unpriced cost as $0, and buckets the time chart without losing a pico.
import { describe, expect, it } from 'vitest';
import { money as cliMoney } from '../src/cli/format.ts';
import { compareTasks, costHistogram, costText, money, parsePico, percent, timeBuckets, windowSeconds } from '../src/dashboard/format.js';

describe('dashboard format.js', () => {
  it.each([
    '0.000000000000',
    '0.179384700000',
    '0.009441350000',
    '0.000000500000',
    '0.000000000001',
    '0.000000499999',
    '1234567.891234500000',
    '-0.004350000000',
    '12.5',
    '7',
    '0.0000005',
  ])('money(%s) matches the CLI', (usd) => {
    expect(money(usd)).toBe(cliMoney(usd));
    expect(money(usd, 2)).toBe(cliMoney(usd, 2));
  });

  it('null is a dash; percentages and parsing are exact', () => {
    expect(money(null)).toBe('—');
    expect(percent(0.8636363)).toBe('86.4%');
    expect(percent(null)).toBe('—');
    expect(parsePico('0.179384700000')).toBe(179_384_700_000n);
    expect(parsePico('-1.5')).toBe(-1_500_000_000_000n);
  });

  it('an unpriced cost reads "unpriced", never $0', () => {
    expect(costText('0.000000000000', 1)).toBe('unpriced');
    expect(costText('0.000665850000', 2)).toBe('$0.000666 + unpriced');
    expect(costText('0.000000000000', 0)).toBe('$0.000000');
  });

  it('time buckets: hourly up to two days, daily beyond, gaps filled, sums exact', () => {
    const now = Date.parse('2026-11-22T08:30:00Z');
    const rows = [
      { hour: '2026-11-22T07:00:00.000Z', cost: '0.100000000001', llmCalls: 2, toolCalls: 1, errors: 0, unpricedCalls: 1 },
      { hour: '2026-11-22T08:00:00.000Z', cost: '0.200000000002', llmCalls: 3, toolCalls: 0, errors: 1, unpricedCalls: 0 },
      { hour: '2026-11-19T10:00:00.000Z', cost: '1.000000000000', llmCalls: 1, toolCalls: 0, errors: 0, unpricedCalls: 0 },
    ];
    const hourly = timeBuckets(rows.slice(0, 2), '24h', now);
    expect(hourly).toHaveLength(25);
    expect(hourly.every((b) => b.step === 3_600_000)).toBe(true);
    expect(hourly.at(-1)).toMatchObject({ start: Date.parse('2026-11-22T08:00:00Z'), pico: 200_000_000_002n, errors: 1 });
    expect(hourly.at(-2)).toMatchObject({ pico: 100_000_000_001n, unpricedCalls: 1 });

    const daily = timeBuckets(rows, '7d', now);
    expect(daily.every((b) => b.step === 86_400_000)).toBe(true);
    expect(daily.reduce((a, b) => a + b.pico, 0n)).toBe(1_300_000_000_003n);
    expect(daily.find((b) => b.start === Date.parse('2026-11-19T00:00:00Z'))?.pico).toBe(1_000_000_000_000n);

    expect(timeBuckets(rows, 'all', now)[0]!.start).toBe(Date.parse('2026-11-19T00:00:00Z'));
    expect(windowSeconds('30d')).toBe(2_592_000);
    expect(windowSeconds('all')).toBeNull();
  });

  it('costHistogram: equal bins from $0 to the dearest task; edges fall in the lower bin; nothing lost', () => {
    const { max, bins } = costHistogram([0n, 10n, 50n, 51n, 100n], 4);
    expect(max).toBe(100n);
    expect(bins.map((b) => [b.lo, b.hi, b.count])).toEqual([
      [0n, 25n, 2],
      [25n, 50n, 1],
      [50n, 75n, 1],
      [75n, 100n, 1],
    ]);
    expect(costHistogram([], 4).bins).toEqual([]);
    expect(costHistogram([0n, 0n], 4).bins).toEqual([{ lo: 0n, hi: 0n, count: 2 }]);
  });

  it('compareTasks: by the column asked, ties keeping the order given', () => {
    const t = (taskId: string, cost: string, calls: number, vsMedian: number | null) => ({
      taskId,
      taskName: taskId,
      agent: '',
      outcome: '',
      firstSeen: '',
      llmCalls: calls,
      toolCalls: 0,
      cost,
      vsMedian,
    });
    const rows = [t('a', '0.1', 3, 1), t('b', '0.3', 1, null), t('c', '0.2', 3, 2.5)];
    expect([...rows].sort((x, y) => compareTasks(x, y, 'cost', -1)).map((r) => r.taskId)).toEqual(['b', 'c', 'a']);
    expect([...rows].sort((x, y) => compareTasks(x, y, 'calls', -1)).map((r) => r.taskId)).toEqual(['a', 'c', 'b']);
    expect([...rows].sort((x, y) => compareTasks(x, y, 'median', -1)).map((r) => r.taskId)).toEqual(['c', 'a', 'b']);
    expect([...rows].sort((x, y) => compareTasks(x, y, 'task', 1)).map((r) => r.taskId)).toEqual(['a', 'b', 'c']);
  });
});
