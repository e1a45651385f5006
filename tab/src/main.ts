/** The partner dashboard: connects to Teams, then shows the summary and the pipeline table from /api/dashboard. */
import { ApiError, download, getJson, type TokenSource } from './api.js';
import { connectTeams, type TeamsConnection, type Theme } from './teams.js';
import type { History, LeadsPage, Me, Overview, Row, RowsPage } from './types.js';
import { byId, createFormat, el, historyElement, leadElement, renderSummary, rowElement, type Format } from './view.js';

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
  viewPipeline: byId<HTMLButtonElement>('view-pipeline'),
  viewLeads: byId<HTMLButtonElement>('view-leads'),
  pipelineView: byId<HTMLElement>('pipeline-view'),
  leadsView: byId<HTMLElement>('leads-view'),
  leads: byId<HTMLTableSectionElement>('leads'),
  leadsCount: byId<HTMLElement>('leads-count'),
};

const LEAD_COLUMNS = 5;

function applyTheme(theme: Theme): void {
  document.documentElement.dataset.theme = theme;
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
  const teams: TeamsConnection = await connectTeams();
  applyTheme(teams.theme);
  teams.onThemeChange(applyTheme);
  const tokens: TokenSource = teams.tokens;
  const f: Format = createFormat(teams.locale ?? navigator.language);

  const showError = (err: unknown) => {
    let message =
      err instanceof ApiError ? err.message : 'Something went wrong loading the dashboard. Check your connection and press Refresh.';
    const sso = teams.ssoProblem();
    if (err instanceof ApiError && err.code === 'noToken' && sso) {
      message = `Teams could not sign you in to this app (${sso}). Close the tab and open it again; if it keeps happening, ask your administrator to grant consent to the app.`;
    }
    ui.error.textContent = message;
    ui.error.hidden = false;
    return message;
  };

  /** Answers to an older filter setting must not overwrite a newer one. */
  let generation = 0;
  /** The counts' own: a table-only load (a filter change) does not make a Refresh's newer counts stale. */
  let summaryGeneration = 0;
  /** Where "Load more" goes on from: the position, for the filters and generation it belongs to. */
  let more: { next: string; query: string; generation: number } | undefined;
  let me: Me | undefined;

  const showRows = (page: RowsPage, append: boolean, query: string) => {
    const items = page.rows.map((r) => rowElement(r, f, (row, tr) => void toggleHistory(row, tr)));
    if (append) ui.rows.append(...items);
    else ui.rows.replaceChildren(...items);
    if (!ui.rows.children.length) {
      ui.rows.append(
        el(
          'tr',
          {},
          el(
            'td',
            { colSpan: COLUMNS, className: 'muted' },
            query ? 'Nothing matches these filters.' : 'No offers or requests yet. Send one from the bot: type help in a chat with it.',
          ),
        ),
      );
    }
    more = page.next ? { next: page.next, query, generation } : undefined;
    ui.more.hidden = !more;
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
    if (button) button.disabled = true;
    try {
      const history = await getJson<History>(`/api/dashboard/rows/${encodeURIComponent(row.id)}/history`, tokens);
      tr.after(historyElement(history, f, COLUMNS));
      button?.setAttribute('aria-expanded', 'true');
    } catch (err) {
      showError(err);
    } finally {
      if (button) button.disabled = false;
    }
  }

  /** Who is signed in: shown once, from the first answer. */
  const showMe = (m: Me) => {
    if (me) return;
    me = m;
    ui.partner.textContent = m.partner.name;
    ui.user.textContent = m.mode === 'development' ? 'Development identity' : `Signed in as ${m.user.upn ?? m.user.name}`;
    if (m.mode === 'development') {
      ui.banner.textContent = `Local mode: this page runs with a development identity for ${m.partner.name}, not your Teams sign-in. Set AAD_APP_CLIENT_ID to use Teams single sign-on.`;
      ui.banner.hidden = false;
    } else if (!teams.inTeams) {
      ui.banner.textContent = 'This page is meant to be opened as the Offers tab in Microsoft Teams.';
      ui.banner.hidden = false;
    }
    ui.status.append(...m.statuses.map((s) => el('option', { value: s.value }, s.label)));
  };

  /** The summary and the first page of rows for the current filters, in one request. */
  const loadOverview = async (): Promise<void> => {
    const mine = ++generation;
    const mySummary = ++summaryGeneration;
    const query = filterQuery().toString();
    const overview = await getJson<Overview>(`/api/dashboard/overview?${query}`, tokens);
    showMe(overview.me);
    // A filter change answered meanwhile owns the table, but not the counts: they come from this newer answer.
    if (mySummary === summaryGeneration) renderSummary(ui.summary, overview.summary, f);
    if (mine !== generation) return;
    showRows(overview.page, false, query);
    ui.updated.textContent = `Updated ${f.dateTime(new Date().toISOString())}`;
  };

  const loadRows = async () => {
    const mine = ++generation;
    more = undefined;
    ui.more.hidden = true;
    const query = filterQuery().toString();
    const page = await getJson<RowsPage>(`/api/dashboard/rows?${query}`, tokens);
    if (mine === generation) showRows(page, false, query);
  };

  const refresh = async () => {
    ui.error.hidden = true;
    ui.refresh.disabled = true;
    try {
      await Promise.all([loadOverview(), ...(leadsOpen() ? [loadLeads()] : [])]);
      return true;
    } catch (err) {
      showError(err);
      return false;
    } finally {
      ui.refresh.disabled = false;
    }
  };

  ui.filters.addEventListener('submit', (e) => e.preventDefault());
  const filtersChanged = () => void loadRows().catch(showError);
  for (const input of [ui.status, ui.kind, ui.customer]) input.addEventListener('change', filtersChanged);
  let typing: ReturnType<typeof setTimeout> | undefined;
  ui.search.addEventListener('input', () => {
    // The table no longer matches what is typed: no "Load more" from the old filters meanwhile.
    more = undefined;
    ui.more.hidden = true;
    clearTimeout(typing);
    typing = setTimeout(filtersChanged, 250);
  });
  ui.more.addEventListener('click', () => void loadMore());
  async function loadMore(): Promise<void> {
    const from = more;
    if (!from || from.generation !== generation) return;
    ui.more.disabled = true;
    try {
      const query = new URLSearchParams(from.query);
      query.set('after', from.next);
      const page = await getJson<RowsPage>(`/api/dashboard/rows?${query}`, tokens);
      if (from.generation === generation) showRows(page, true, from.query);
    } catch (err) {
      showError(err);
    } finally {
      ui.more.disabled = false;
    }
  }
  // The Leads view: loaded when it is first opened, and again by Refresh (and the minute's refresh) while it is open.
  let leadsGeneration = 0;
  const leadsOpen = () => !ui.leadsView.hidden;
  const loadLeads = async (): Promise<void> => {
    const mine = ++leadsGeneration;
    const page = await getJson<LeadsPage>('/api/dashboard/leads', tokens);
    if (mine !== leadsGeneration) return;
    const openChat = (url: string, event: MouseEvent) => {
      if (teams.openLink(url)) event.preventDefault();
    };
    ui.leads.replaceChildren(...page.leads.map((l) => leadElement(l, f, openChat)));
    if (!page.leads.length) {
      ui.leads.append(
        el(
          'tr',
          {},
          el(
            'td',
            { colSpan: LEAD_COLUMNS, className: 'muted' },
            'No leads yet. Publish your listing (type listing in a chat with the bot) so customers can find you with find.',
          ),
        ),
      );
    }
    ui.leadsCount.textContent = page.more
      ? `Showing the newest ${f.number(page.leads.length)} leads`
      : `${f.number(page.leads.length)} lead${page.leads.length === 1 ? '' : 's'}`;
    document.body.dataset.leads = 'ready';
  };
  const showView = (leads: boolean) => {
    ui.leadsView.hidden = !leads;
    ui.pipelineView.hidden = leads;
    ui.viewLeads.setAttribute('aria-pressed', String(leads));
    ui.viewPipeline.setAttribute('aria-pressed', String(!leads));
    if (leads) {
      delete document.body.dataset.leads;
      void loadLeads().catch(showError);
    }
  };
  ui.viewPipeline.addEventListener('click', () => showView(false));
  ui.viewLeads.addEventListener('click', () => showView(true));

  ui.refresh.addEventListener('click', () => void refresh());
  ui.exportCsv.addEventListener('click', () => void exportCsv());
  async function exportCsv(): Promise<void> {
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
  }

  // First paint: who, the summary and the first page, in one answer.
  const ok = await refresh();
  teams.loaded(ok ? undefined : (ui.error.textContent ?? 'The dashboard could not load.'));
  document.body.dataset.ready = ok ? 'true' : 'error';
  if (ok) {
    performance.mark('dashboard-ready');
    // The frame with the data is painted right after this animation frame: the first-paint figure the bench reads.
    requestAnimationFrame(() => setTimeout(() => performance.mark('dashboard-painted')));
    // After the first paint: the customer list for the filter's suggestions.
    getJson<{ customers: string[] }>('/api/dashboard/customers', tokens).then(
      ({ customers }) => ui.customers.replaceChildren(...customers.map((c) => el('option', { value: c }))),
      () => undefined,
    );
  } else if (!teams.inTeams && !ui.banner.textContent) {
    ui.banner.textContent = 'This page is meant to be opened as the Offers tab in Microsoft Teams.';
    ui.banner.hidden = false;
  }

  // While someone is reading further pages or a row's history, only the summary refreshes by itself: replacing the
  // table would take their place away. Refresh always replaces both.
  setInterval(() => {
    if (document.visibilityState !== 'visible' || !me) return;
    const reading = ui.rows.querySelector('.history-row') || ui.rows.querySelectorAll('tr[data-id]').length > PAGE_SIZE;
    if (!reading) void refresh();
    else {
      // A Refresh started after this request answers with newer counts: then this one is stale.
      const asked = ++summaryGeneration;
      getJson<Overview>(`/api/dashboard/overview?${filterQuery()}&limit=1`, tokens).then(
        (o) => {
          if (asked === summaryGeneration) renderSummary(ui.summary, o.summary, f);
        },
        () => undefined,
      );
    }
  }, AUTO_REFRESH_MS);
}

void main();
