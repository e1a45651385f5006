import type { Row } from './rows';
import { KIND_LABELS } from './rows';

const COLUMNS: Array<[header: string, value: (r: Row) => string | undefined]> = [
  ['Id', (r) => r.id],
  ['Kind', (r) => KIND_LABELS[r.kind]],
  ['Status', (r) => r.statusLabel],
  ['Customer', (r) => r.customer],
  ['Customer tenant', (r) => r.customerTenantId],
  ['What', (r) => r.what],
  ['Issued by', (r) => r.issuedBy],
  ['Created (UTC)', (r) => r.createdAt],
  ['Decided (UTC)', (r) => r.decidedAt],
  ['Answer by (UTC)', (r) => r.expiresAt],
  ['Ends (UTC)', (r) => r.endsAt],
  ['Order at Microsoft', (r) => r.order],
];

/**
 * One RFC 4180 field. Names and emails come from other organisations, and a cell starting with = + - @ (or a tab or
 * carriage return) is run as a formula by spreadsheet programs, so such a cell gets a leading apostrophe (OWASP's advice).
 */
export function csvField(value: string | undefined): string {
  let v = value ?? '';
  if (/^[=+\-@\t\r]/.test(v)) v = `'${v}`;
  return /[",\r\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
}

export const csvHeader = (): string => `${COLUMNS.map(([h]) => csvField(h)).join(',')}\r\n`;
export const csvLine = (row: Row): string => `${COLUMNS.map(([, value]) => csvField(value(row))).join(',')}\r\n`;
