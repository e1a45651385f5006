import { formatDate, formatDateTime, formatMoney } from '../../src/cards/format';

describe('dates and amounts as cards show them', () => {
  it('shows the UTC day of a stored timestamp, the same every time it is asked', () => {
    for (let i = 0; i < 2; i++) {
      expect(formatDate('2026-11-25T09:00:00.000Z')).toBe('25 Nov 2026');
      expect(formatDate('2026-11-25T23:59:59.999Z')).toBe('25 Nov 2026');
      expect(formatDate('2027-01-04T00:00:00Z')).toBe('4 Jan 2027');
    }
    expect(formatDate(undefined)).toBe('');
    expect(formatDateTime('2026-11-25T09:05:00.000Z')).toBe('25 Nov 2026, 09:05 UTC');
  });

  it('reads a timestamp with an offset as the UTC day it falls on, not the day written in it', () => {
    expect(formatDate('2026-11-26T01:30:00+02:00')).toBe('25 Nov 2026');
    expect(formatDate('2026-11-25T23:30:00-02:00')).toBe('26 Nov 2026');
  });

  it('stays right across more distinct days and amounts than it remembers', () => {
    const start = Date.UTC(2020, 0, 1);
    for (let d = 0; d < 2_500; d++) {
      const iso = new Date(start + d * 86_400_000 + 3_600_000).toISOString();
      const expected = new Intl.DateTimeFormat('en-GB', { day: 'numeric', month: 'short', year: 'numeric', timeZone: 'UTC' }).format(
        new Date(iso),
      );
      expect(formatDate(iso)).toBe(expected);
    }
    for (let cents = 0; cents < 6_000; cents += 7) {
      expect(formatMoney(cents, 'USD')).toBe(new Intl.NumberFormat('en-US', { style: 'currency', currency: 'USD' }).format(cents / 100));
    }
    expect(formatMoney(660_000, 'USD')).toBe('$6,600.00');
    expect(formatMoney(660_000, 'EUR')).toBe('€6,600.00');
  });
});
