/** Dates are shown in UTC with the month spelled out, so "03/04" is never ambiguous across locales. */
const dateFormat = new Intl.DateTimeFormat('en-GB', { day: 'numeric', month: 'short', year: 'numeric', timeZone: 'UTC' });

/**
 * Intl's format costs several microseconds a call and a card shows several dates and amounts, while the same few days
 * and prices come back all the time: each formatter remembers what it wrote, forgetting everything now and then so
 * the memory stays bounded.
 */
function remembered<K>(max: number, format: (key: K) => string): (key: K) => string {
  const seen = new Map<K, string>();
  return (key) => {
    let text = seen.get(key);
    if (text === undefined) {
      text = format(key);
      if (seen.size >= max) seen.clear();
      seen.set(key, text);
    }
    return text;
  };
}

/** A UTC timestamp as stored (toISOString): its day alone decides what is shown. */
const UTC_ISO = /^\d{4}-\d{2}-\d{2}T[\d:.]+Z$/;
const formatDay = remembered(2_000, (day: string) => dateFormat.format(new Date(`${day}T00:00:00.000Z`)));

export const formatDate = (iso: string | undefined): string => {
  if (!iso) return '';
  return UTC_ISO.test(iso) ? formatDay(iso.slice(0, 10)) : dateFormat.format(new Date(iso));
};

export const formatDateTime = (iso: string): string => `${formatDate(iso)}, ${new Date(iso).toISOString().slice(11, 16)} UTC`;

const moneyFormats = new Map<string, (cents: number) => string>();
export function formatMoney(cents: number, currency: string): string {
  let f = moneyFormats.get(currency);
  if (!f) {
    const format = new Intl.NumberFormat('en-US', { style: 'currency', currency });
    f = remembered(5_000, (c: number) => format.format(c / 100));
    moneyFormats.set(currency, f);
  }
  return f(cents);
}

/**
 * Text one party wrote, shown to another (a decline reason, a lead's note, a listing, a display name), as it was
 * typed: TextBlocks and facts render markdown, so `[Microsoft sign-in](https://...)` in a decline reason would become a
 * live link in the partner's card. Backslash escapes (CommonMark, honoured by Teams' card renderers) keep every
 * character visible and make none of them markup: links, emphasis, code, headings, quotes and list markers.
 */
export function literal(text: string): string {
  return text
    .replace(/[\\`*_[\]~]/g, '\\$&')
    .replace(/^(\s*)([#>+-])/gm, '$1\\$2')
    .replace(/^(\s*\d+)([.)])/gm, '$1\\$2');
}

/** "Fabrikam's", but "Fabrikam Cloud Partners'": a name ending in s takes the apostrophe alone. */
export const possessive = (name: string): string => (/s$/i.test(name.trim()) ? `${name}'` : `${name}'s`);
