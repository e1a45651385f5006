/** Dates are shown in UTC with the month spelled out, so "03/04" is never ambiguous across locales. */
const dateFormat = new Intl.DateTimeFormat('en-GB', { day: 'numeric', month: 'short', year: 'numeric', timeZone: 'UTC' });

export const formatDate = (iso: string | undefined): string => (iso ? dateFormat.format(new Date(iso)) : '');

export const formatDateTime = (iso: string): string => `${formatDate(iso)}, ${new Date(iso).toISOString().slice(11, 16)} UTC`;

const moneyFormats = new Map<string, Intl.NumberFormat>();
export function formatMoney(cents: number, currency: string): string {
  let f = moneyFormats.get(currency);
  if (!f) {
    f = new Intl.NumberFormat('en-US', { style: 'currency', currency });
    moneyFormats.set(currency, f);
  }
  return f.format(cents / 100);
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
