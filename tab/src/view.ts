/** DOM rendering. Data only ever goes into textContent, never into HTML: names and comments come from other organisations. */
import type { History, Lead, Row, Summary } from './types.js';

export const KIND_LABELS: Record<Row['kind'], string> = {
  trial: 'Trial',
  purchase: 'Purchase',
  delegation: 'Delegated admin',
  por: 'Partner of record',
};

export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  props: Partial<HTMLElementTagNameMap[K]> = {},
  ...children: Array<Node | string>
): HTMLElementTagNameMap[K] {
  const node = Object.assign(document.createElement(tag), props);
  node.append(...children);
  return node;
}

export const byId = <T extends HTMLElement>(id: string): T => {
  const node = document.getElementById(id);
  if (!node) throw new Error(`#${id} is missing from the page`);
  return node as T;
};

export function createFormat(locale: string | undefined) {
  const safe = (l: string | undefined) => {
    try {
      return l ? Intl.getCanonicalLocales(l)[0] : undefined;
    } catch {
      return undefined;
    }
  };
  const loc = safe(locale);
  const number = new Intl.NumberFormat(loc);
  // Dates read as they do on the cards (4 Dec 2026, 09:15 UTC), whatever the locale: partner and customer compare them.
  const date = new Intl.DateTimeFormat('en-GB', { day: 'numeric', month: 'short', year: 'numeric', timeZone: 'UTC' });
  const time = new Intl.DateTimeFormat('en-GB', { hour: '2-digit', minute: '2-digit', hourCycle: 'h23', timeZone: 'UTC' });
  // Money reads as it does on the offer cards ($7,440.00): the partner compares the two.
  const money = new Map<string, Intl.NumberFormat>();
  const month = new Intl.DateTimeFormat('en-GB', { month: 'short', year: 'numeric', timeZone: 'UTC' });
  return {
    money: (cents: number, currency: string) => {
      let m = money.get(currency);
      if (!m) money.set(currency, (m = new Intl.NumberFormat('en-US', { style: 'currency', currency })));
      return m.format(cents / 100);
    },
    /** `2026-11` as "Nov 2026". */
    month: (yyyyMm: string) => month.format(new Date(`${yyyyMm}-01T00:00:00Z`)),
    number: (n: number) => number.format(n),
    percent: (r: number | null) => (r === null ? '–' : `${Math.round(r * 100)}%`),
    date: (iso?: string) => (iso ? date.format(new Date(iso)) : ''),
    dateTime: (iso?: string) => (iso ? `${date.format(new Date(iso))}, ${time.format(new Date(iso))} UTC` : ''),
  };
}
export type Format = ReturnType<typeof createFormat>;

function tile(label: string, value: string, hint?: string, tone?: string): HTMLElement {
  return el(
    'div',
    { className: `tile${tone ? ` tile-${tone}` : ''}` },
    el('span', { className: 'tile-value' }, value),
    el('span', { className: 'tile-label' }, label),
    ...(hint ? [el('span', { className: 'tile-hint' }, hint)] : []),
  );
}

export function renderSummary(target: HTMLElement, s: Summary, f: Format): void {
  const o = s.offers;
  const e = s.relationships.expiring;
  target.replaceChildren(
    el(
      'div',
      { className: 'tiles', ariaLabel: 'Offers' },
      tile('Offers sent', f.number(o.total), 'all, withdrawn included'),
      tile('Awaiting delivery', f.number(o.awaitingDelivery), 'customer has not installed the app yet'),
      tile('Waiting for answer', f.number(o.waiting)),
      tile('Accepted', f.number(o.accepted), undefined, 'good'),
      tile('Declined', f.number(o.declined)),
      tile('Expired', f.number(o.expired)),
      tile('Offer acceptance rate', f.percent(s.acceptanceRate), 'accepted of accepted, declined and expired'),
    ),
    el(
      'div',
      { className: 'tiles', ariaLabel: 'Delegated administration' },
      // Mixed: connected partners' delegations count once Microsoft reports them active, others are recorded answers.
      tile(
        'Approved',
        f.number(s.relationships.active),
        'delegated admin and partner of record: active at Microsoft where you connected your Entra app, otherwise recorded answers',
      ),
      tile('Requests waiting', f.number(s.relationships.waiting)),
      tile('Consents ending in 30 days', f.number(e.within30), 'auto-extending ones renew then', e.within30 ? 'warn' : undefined),
      tile('in 7 days', f.number(e.within7), undefined, e.within7 ? 'warn' : undefined),
      tile('in 1 day', f.number(e.within1), undefined, e.within1 ? 'alert' : undefined),
    ),
    valueTable(s.value, f),
  );
}

/** Pipeline value: one column per recent month, the accepted and the pending purchase offers' monthly list value. */
function valueTable(v: Summary['value'], f: Format): HTMLElement {
  const months = v.months;
  const row = (label: string, hint: string, cents: (m: Summary['value']['months'][number]) => number) =>
    el(
      'tr',
      {},
      el('th', { scope: 'row' }, label, el('span', { className: 'tile-hint' }, ` ${hint}`)),
      ...months.map((m) => el('td', { className: 'money' }, f.money(cents(m), v.currency))),
    );
  const table = el(
    'table',
    { className: 'value-table' },
    el(
      'caption',
      {},
      el('strong', {}, 'Pipeline value'),
      ` · purchase offers at list price per month (quantity × price per licence per month), ${v.currency}`,
    ),
    el(
      'thead',
      {},
      el('tr', {}, el('th', {}, 'Month'), ...months.map((m) => el('th', { scope: 'col', className: 'money' }, f.month(m.month)))),
    ),
    el(
      'tbody',
      {},
      row('Accepted', 'in the month the customer accepted', (m) => m.accepted),
      row('Pending', 'sent that month, not answered yet', (m) => m.pending),
      row('Placed at Microsoft', 'orders Partner Center placed that month', (m) => m.placed),
    ),
  );
  const wrap = el('div', { className: 'table-wrap value' }, table);
  wrap.setAttribute('aria-label', 'Pipeline value');
  return wrap;
}

/**
 * One lead: who, what about, when, where it stands, and the chat action. `onChat` opens the Teams deep link (inside
 * Teams through teams-js, so the Teams client opens the chat instead of a browser tab).
 */
export function leadElement(l: Lead, f: Format, onChat: (url: string, event: MouseEvent) => void): HTMLTableRowElement {
  const chat = el('a', { href: l.chatLink, target: '_blank', rel: 'noopener noreferrer', className: 'action' }, `Chat with ${l.name}`);
  chat.addEventListener('click', (event) => onChat(l.chatLink, event));
  const about = [
    ...(l.note ? [el('q', {}, l.note)] : []),
    ...(l.found ? [el('div', { className: 'muted' }, `Found: ${l.found}`)] : []),
    ...(l.trialOfferId ? [el('div', {}, `Trial sent: ${l.trialOfferId}`)] : []),
  ];
  const tr = el(
    'tr',
    { className: `stage-${l.stage.value}` },
    el(
      'td',
      {},
      el('strong', {}, l.name),
      el('div', {}, l.email),
      el('div', { className: 'muted' }, l.organisation),
      el('div', { className: 'muted' }, l.id),
    ),
    el('td', {}, ...(about.length ? about : [el('span', { className: 'muted' }, 'No note')])),
    el('td', {}, f.dateTime(l.createdAt)),
    el(
      'td',
      {},
      el('span', { className: `badge badge-lead-${l.stage.value}` }, l.stage.label),
      ...(l.stage.by && l.stage.at ? [el('div', { className: 'muted' }, `by ${l.stage.by}, ${f.date(l.stage.at)}`)] : []),
    ),
    el('td', {}, chat),
  );
  tr.dataset.lead = l.id;
  return tr;
}

/** One table row; `onOpen` shows its history beneath it. */
export function rowElement(r: Row, f: Format, onOpen: (row: Row, tr: HTMLTableRowElement) => void): HTMLTableRowElement {
  const due = r.endsAt ? `ends ${f.date(r.endsAt)}` : r.expiresAt ? `answer by ${f.date(r.expiresAt)}` : '';
  const button = el('button', { type: 'button', className: 'link', title: 'Show the recorded answers' }, r.id);
  button.setAttribute('aria-expanded', 'false');
  const tr = el(
    'tr',
    { className: `status-${r.status}` },
    el('td', {}, button),
    el('td', {}, KIND_LABELS[r.kind]),
    el(
      'td',
      {},
      el('span', { className: `badge badge-${r.status}` }, r.statusLabel),
      ...(r.order
        ? [
            el(
              'div',
              { className: 'order' },
              r.order,
              r.orderValueCents && r.currency ? ` · ${f.money(r.orderValueCents, r.currency)} a month` : '',
            ),
          ]
        : []),
    ),
    el('td', {}, r.customer),
    el('td', {}, r.what),
    el('td', {}, r.issuedBy),
    el('td', {}, f.date(r.createdAt)),
    el('td', {}, r.endsAt || !r.decidedAt ? due : f.date(r.decidedAt)),
  );
  tr.dataset.id = r.id;
  button.addEventListener('click', () => onOpen(r, tr));
  return tr;
}

export function historyElement(h: History, f: Format, columns: number): HTMLTableRowElement {
  const body = h.records.length
    ? el(
        'ol',
        { className: 'history' },
        ...h.records.map((r) =>
          el('li', {}, el('strong', {}, r.decision), ` by ${r.by}, ${f.dateTime(r.at)}`, ...(r.comment ? [el('q', {}, r.comment)] : [])),
        ),
      )
    : el('p', { className: 'muted' }, 'No answer recorded yet.');
  const cell = el('td', { colSpan: columns }, body);
  const tr = el('tr', { className: 'history-row' }, cell);
  tr.dataset.historyOf = h.id;
  return tr;
}
