/** The partner dashboard: connects to Teams, then shows the summary and the pipeline table from /api/dashboard. */
import { ApiError, download, getJson, type TokenSource } from './api.js';
import { connectTeams, type Theme } from './teams.js';
import type { History, Overview, Row, RowsPage } from './types.js';
import { byId, createFormat, el, historyElement, renderSummary, rowElement, type Format } from './view.js';

const COLUMNS = 8;
const AUTO_REFRESH_MS = 60_000;
/** The API's page size (src/dashboard/api.ts PAGE_SIZE). */
const PAGE_SIZE = 50;

const ui = {
  banner: byId<HTMLElement>('banner'),
  partner: byId<HTMLElement>('partner'),
  user: byId<HTMLElement>('user'),
  summary: byId<HTMLElement>('summary'),
  filters: byId<HTMLFormElement>('filters'),
  status: byId<HTMLSelectElement>('filter-status'),
  kind: byId<HTMLSelectElement>('filter-kind'),
  customer: byId<HTMLInputElement>('filter-customer'),
  customers: byId<HTMLDataListElement>('customers'),
  search: byId<HTMLInputElement>('filter-search'),
  count: byId<HTMLElement>('count'),
  rows: byId<HTMLTableSectionElement>('rows'),
  more: byId<HTMLButtonElement>('more'),
  refresh: byId<HTMLButtonElement>('refresh'),
  updated: byId<HTMLElement>('updated'),
  exportCsv: byId<HTMLButtonElement>('export'),
  exportStatus: byId<HTMLElement>('export-status'),
  error: byId<HTMLElement>('error'),
};

function applyTheme(theme: Theme): void {
  document.documentElement.dataset.theme = theme;
}

function showError(err: unknown): void {
  const message = err instanceof ApiError ? err.message : 'Something went wrong loading the dashboard. Check your connection and press Refresh.';
  ui.error.textContent = message;
  ui.error.hidden = false;
}

/** The filters as the API's query string (empty values left out). */
function filterQuery(): URLSearchParams {
  const q = new URLSearchParams();
  if (ui.status.value) q.set('status', ui.status.value);
  if (ui.kind.value) q.set('kind', ui.kind.value);
  if (ui.customer.value.trim()) q.set('customer', ui.customer.value.trim());
  if (ui.search.value.trim()) q.set('q', ui.search.value.trim());
  return q;
}

async function main(): Promise<void> {
  performance.mark('dashboard-start');
  const teams = await connectTeams();
  applyTheme(teams.theme);
  teams.onThemeChange(applyTheme);
  const tokens: TokenSource = teams.tokens;
  const f: Format = createFormat(teams.locale ?? navigator.language);

  let next: string | undefined;
  /** Answers to an older filter setting must not overwrite a newer one. */
  let generation = 0;

  const showRows = (page: RowsPage, append: boolean) => {
    const items = page.rows.map((r) => rowElement(r, f, toggleHistory));
    if (append) ui.rows.append(...items);
    else ui.rows.replaceChildren(...items);
    if (!ui.rows.children.length) {
      ui.rows.append(el('tr', {}, el('td', { colSpan: COLUMNS, className: 'muted' }, filterQuery().size ? 'Nothing matches these filters.' : 'No offers or requests yet. Send one from the bot: type help in a chat with it.')));
    }
    next = page.next;
    ui.more.hidden = !next;
    const shown = ui.rows.querySelectorAll('tr[data-id]').length;
    ui.count.textContent = `Showing ${f.number(shown)} of ${f.number(page.total)}`;
  };

  async function toggleHistory(row: Row, tr: HTMLTableRowElement): Promise<void> {
    const button = tr.querySelector('button');
    const open = tr.nextElementSibling as HTMLElement | null;
    if (open?.dataset.historyOf === row.id) {
      open.remove();
      button?.setAttribute('aria-expanded', 'false');
      return;
    }
    try {
      const history = await getJson<History>(`/api/dashboard/rows/${encodeURIComponent(row.id)}/history`, tokens);
      tr.after(historyElement(history, f, COLUMNS));
      button?.setAttribute('aria-expanded', 'true');
    } catch (err) {
      showError(err);
    }
  }

  const loadRows = async () => {
    const mine = ++generation;
    const page = await getJson<RowsPage>(`/api/dashboard/rows?${filterQuery()}`, tokens);
    if (mine === generation) showRows(page, false);
  };
  /** The summary and the first page of rows for the current filters, in one request. */
  const loadOverview = async (): Promise<Overview> => {
    const mine = ++generation;
    const overview = await getJson<Overview>(`/api/dashboard/overview?${filterQuery()}`, tokens);
    renderSummary(ui.summary, overview.summary, f);
    if (mine === generation) showRows(overview.page, false);
    return overview;
  };

  const refresh = async () => {
    ui.error.hidden = true;
    ui.refresh.disabled = true;
    try {
      await loadOverview();
      ui.updated.textContent = `Updated ${f.dateTime(new Date().toISOString())}`;
    } catch (err) {
      showError(err);
    } finally {
      ui.refresh.disabled = false;
    }
  };

  // First paint: who, the summary and the first page, in one answer.
  try {
    const { me } = await loadOverview();
    ui.partner.textContent = me.partner.name;
    ui.user.textContent = me.mode === 'development' ? 'Development identity' : `Signed in as ${me.user.upn ?? me.user.name}`;
    if (me.mode === 'development') {
      ui.banner.textContent = `Local mode: this page runs with a development identity for ${me.partner.name}, not your Teams sign-in. Set AAD_APP_CLIENT_ID to use Teams single sign-on.`;
      ui.banner.hidden = false;
    } else if (!teams.inTeams) {
      ui.banner.textContent = 'This page is meant to be opened as the Offers tab in Microsoft Teams.';
      ui.banner.hidden = false;
    }
    ui.status.append(...me.statuses.map((s) => el('option', { value: s.value }, s.label)));
    ui.updated.textContent = `Updated ${f.dateTime(new Date().toISOString())}`;
    document.body.dataset.ready = 'true';
    performance.mark('dashboard-ready');
    // The frame with the data is painted right after this animation frame: the first-paint figure the bench reads.
    requestAnimationFrame(() => setTimeout(() => performance.mark('dashboard-painted')));
  } catch (err) {
    showError(err);
    if (err instanceof ApiError && err.status === 401 && !teams.inTeams) ui.banner.hidden = false;
    document.body.dataset.ready = 'error';
    return;
  } finally {
    teams.loaded();
  }

  // After the first paint: the customer list for the filter's suggestions.
  getJson<{ customers: string[] }>('/api/dashboard/customers', tokens).then(
    ({ customers }) => ui.customers.replaceChildren(...customers.map((c) => el('option', { value: c }))),
    () => undefined,
  );

  ui.filters.addEventListener('submit', (e) => e.preventDefault());
  for (const input of [ui.status, ui.kind, ui.customer]) input.addEventListener('change', () => void loadRows().catch(showError));
  let typing: ReturnType<typeof setTimeout> | undefined;
  ui.search.addEventListener('input', () => {
    clearTimeout(typing);
    typing = setTimeout(() => void loadRows().catch(showError), 250);
  });
  ui.more.addEventListener('click', async () => {
    if (!next) return;
    const query = filterQuery();
    query.set('after', next);
    const mine = generation;
    try {
      const page = await getJson<RowsPage>(`/api/dashboard/rows?${query}`, tokens);
      if (mine === generation) showRows(page, true);
    } catch (err) {
      showError(err);
    }
  });
  ui.refresh.addEventListener('click', () => void refresh());
  ui.exportCsv.addEventListener('click', async () => {
    ui.exportCsv.disabled = true;
    ui.exportStatus.textContent = 'Preparing the file…';
    try {
      const file = await download(`/api/dashboard/export.csv?${filterQuery()}`, tokens);
      ui.exportStatus.textContent = `Downloaded ${file.name}`;
    } catch (err) {
      ui.exportStatus.textContent = '';
      showError(err);
    } finally {
      ui.exportCsv.disabled = false;
    }
  });
  // While someone is reading further pages or a row's history, only the summary refreshes by itself: replacing the
  // table would take their place away. Refresh always replaces both.
  setInterval(() => {
    if (document.visibilityState !== 'visible') return;
    const reading = ui.rows.querySelector('.history-row') || ui.rows.querySelectorAll('tr[data-id]').length > PAGE_SIZE;
    if (!reading) void refresh();
    else getJson<Overview>(`/api/dashboard/overview?${filterQuery()}&limit=1`, tokens).then((o) => renderSummary(ui.summary, o.summary, f), () => undefined);
  }, AUTO_REFRESH_MS);
}

void main();
