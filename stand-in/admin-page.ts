/**
 * The Microsoft 365 admin center's approval page, reduced to what the customer's Global Administrator sees and does.
 * Microsoft's link is `https://admin.microsoft.com/AdminPortal/Home#/partners/invitation/granularAdminRelationships/{id}`
 * (https://learn.microsoft.com/en-us/graph/api/resources/delegatedadminrelationships-api-overview, "build the customer
 * invitation link"); its relationship id sits in the fragment, which never reaches a server, so the stand-in serves
 * the page at `/admin/partners/invitation/granularAdminRelationships/{id}` (`rewriteApprovalLink` maps one to the
 * other), and `/AdminPortal/Home` moves the fragment into the path with one line of script (plus a plain list of
 * links for browsers without script). Plain HTML forms, no script needed to approve or decline.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { DAY_MS, parseIsoDuration } from './clock';
import { escapeHtml, readBody, sendHtml } from './http';
import { APPROVAL_WINDOW_MS, progressAll } from './lifecycle';
import { roleName } from './roles';
import { ControlError, type ControlApi } from './control';
import type { Relationship, World } from './world';
import type { RequestLogEntry } from './types';

export const ADMIN_PAGE_PREFIX = '/admin/partners/invitation/granularAdminRelationships/';
const MICROSOFT_LINK =
  /^https:\/\/admin\.microsoft\.com\/AdminPortal\/Home\/?#\/partners\/invitation\/granularAdminRelationships\/([0-9a-f-]{73})\/?$/i;

/** Microsoft's documented approval link → the stand-in's page for the same relationship; anything else unchanged. */
export function rewriteApprovalLink(link: string, standInUrl: string): string {
  const m = MICROSOFT_LINK.exec(link.trim());
  return m?.[1] ? `${standInUrl}${ADMIN_PAGE_PREFIX}${m[1].toLowerCase()}` : link;
}

export async function handleAdmin(
  world: World,
  control: ControlApi,
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  log: RequestLogEntry,
): Promise<void> {
  progressAll(world);
  const path = decodeURIComponent(url.pathname);
  if (/^\/AdminPortal\/Home\/?$/i.test(path) && req.method === 'GET') return sendHtml(res, 200, home(world));
  if (!path.toLowerCase().startsWith(ADMIN_PAGE_PREFIX.toLowerCase()))
    return sendHtml(res, 404, page('Page not found', '<p>There is no such page in the admin center.</p>'));
  const id = path.slice(ADMIN_PAGE_PREFIX.length).replace(/\/$/, '').toLowerCase();
  const rel = world.relationships.get(id);
  if (!rel)
    return sendHtml(
      res,
      404,
      page('Request not found', '<p>This partner relationship request does not exist. Check the link the partner sent you.</p>'),
    );
  if (req.method === 'GET') return sendHtml(res, 200, invitation(world, rel, url.searchParams.get('result')));
  if (req.method !== 'POST')
    return sendHtml(res, 405, page('Not allowed', '<p>Use the buttons on the request page.</p>'), { Allow: 'GET, POST' });
  const form = new URLSearchParams(await readBody(req));
  const tenantId = form.get('tenantId') ?? undefined;
  if (tenantId) log.tenantId = tenantId;
  const decision = form.get('decision');
  try {
    if (decision === 'approve') control.approve(rel.id, tenantId ? { tenantId } : {});
    else if (decision === 'decline') control.decline(rel.id, tenantId ? { tenantId } : {});
    else throw new ControlError(400, 'Choose Approve or Decline.');
  } catch (e) {
    if (!(e instanceof ControlError)) throw e;
    return sendHtml(res, e.status, invitation(world, rel, null, e.message));
  }
  res.writeHead(303, {
    Location: `${ADMIN_PAGE_PREFIX}${rel.id}?result=${decision === 'approve' ? 'approved' : 'declined'}`,
    'Content-Length': '0',
  });
  res.end();
}

function page(title: string, main: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)} - Microsoft 365 admin center (local stand-in)</title>
<style>
body{font-family:"Segoe UI",system-ui,sans-serif;margin:0;color:#242424;background:#faf9f8}
header{background:#0f6cbd;color:#fff;padding:.75rem 1.5rem;font-weight:600}
main{max-width:44rem;margin:1.5rem auto;padding:1.5rem;background:#fff;border:1px solid #e1dfdd;border-radius:4px}
dl{display:grid;grid-template-columns:max-content 1fr;gap:.4rem 1.25rem}dt{font-weight:600}dd{margin:0}
.actions{display:flex;gap:.75rem;margin-top:1.25rem}
button{font:inherit;padding:.5rem 1.25rem;border-radius:4px;border:1px solid #8a8886;background:#fff;cursor:pointer}
button.primary{background:#0f6cbd;border-color:#0f6cbd;color:#fff}
button:focus-visible{outline:3px solid #000;outline-offset:2px}
.notice{padding:.75rem 1rem;border-radius:4px;background:#f3f2f1;border-left:4px solid #0f6cbd}
.error{border-left-color:#c50f1f;background:#fde7e9}
label{display:block;font-weight:600;margin:.75rem 0 .25rem}select{font:inherit;padding:.3rem}
</style>
</head>
<body>
<header>Microsoft 365 admin center <span>(local stand-in)</span></header>
<main>
<h1>${escapeHtml(title)}</h1>
${main}
</main>
</body>
</html>
`;
}

function home(world: World): string {
  const pending = [...world.relationships.values()].filter((r) => r.status === 'approvalPending');
  const items = pending
    .map((r) => `<li><a href="${ADMIN_PAGE_PREFIX}${r.id}">${escapeHtml(partnerName(world, r))}: ${escapeHtml(r.displayName)}</a></li>`)
    .join('\n');
  return page(
    'Partner relationships',
    `<script>(function(){var m=/^#\\/partners\\/invitation\\/granularAdminRelationships\\/([0-9a-fA-F-]+)/.exec(location.hash);if(m)location.replace(${JSON.stringify(ADMIN_PAGE_PREFIX)}+m[1]);})();</script>
<h2>Requests waiting for approval</h2>
${pending.length ? `<ul>\n${items}\n</ul>` : '<p>No partner relationship request is waiting for approval.</p>'}`,
  );
}

const partnerName = (world: World, rel: Relationship) => world.tenant(rel.partnerTenantId)?.displayName ?? rel.partnerTenantId;

function durationText(duration: string): string {
  const ms = parseIsoDuration(duration);
  if (ms === undefined) return duration;
  const days = Math.round(ms / DAY_MS);
  return `${days} day${days === 1 ? '' : 's'} (${duration})`;
}

const dateText = (ms: number) => new Date(ms).toISOString().slice(0, 10);

function invitation(world: World, rel: Relationship, result: string | null, error?: string): string {
  const partner = partnerName(world, rel);
  const autoExtend = rel.autoExtendDuration === 'P180D' ? 'Yes, by 180 days at each end date' : 'No';
  const customers = [...world.tenants.values()].filter((t) => t.kind === 'customer');
  const pinned = rel.customer ? world.tenant(rel.customer.tenantId) : undefined;
  const roles = rel.roles.map((r) => `<li>${escapeHtml(roleName(r))}</li>`).join('\n');
  const details = `<dl>
<dt>Partner</dt><dd>${escapeHtml(partner)}</dd>
<dt>Request name</dt><dd>${escapeHtml(rel.displayName)}</dd>
${rel.customer ? `<dt>For the organisation</dt><dd>${escapeHtml(pinned?.displayName ?? rel.customer.displayName ?? rel.customer.tenantId)}</dd>\n` : ''}<dt>Duration</dt><dd>${escapeHtml(durationText(rel.duration))}</dd>
<dt>Auto-extend</dt><dd>${autoExtend}</dd>
<dt>Status</dt><dd>${escapeHtml(rel.status)}</dd>
${rel.endMs !== null ? `<dt>Ends</dt><dd>${dateText(rel.endMs)}</dd>\n` : ''}</dl>
<h2>Microsoft Entra roles requested</h2>
<ul>
${roles}
</ul>`;
  const notices: string[] = [];
  if (error) notices.push(`<p class="notice error" role="alert">${escapeHtml(error)}</p>`);
  if (result === 'approved')
    notices.push(
      `<p class="notice" role="status">You approved this request. ${escapeHtml(partner)} gets these roles once Microsoft finishes setting up the relationship.</p>`,
    );
  if (result === 'declined')
    notices.push(
      `<p class="notice" role="status">You declined. Microsoft does not tell the partner; the request stays unapproved until it expires${rel.approvalPendingSinceMs !== null ? ` on ${dateText(rel.approvalPendingSinceMs + APPROVAL_WINDOW_MS)}` : ''}.</p>`,
    );
  let form = '';
  if (rel.status === 'approvalPending') {
    const approver = pinned
      ? `<p>Only a Global Administrator of ${escapeHtml(pinned.displayName)} can approve this request.</p>\n<input type="hidden" name="tenantId" value="${escapeHtml(pinned.tenantId)}">`
      : rel.customer
        ? `<input type="hidden" name="tenantId" value="${escapeHtml(rel.customer.tenantId)}">`
        : `<label for="tenantId">Signed in as a Global Administrator of</label>
<select id="tenantId" name="tenantId" required>
${customers.map((t) => `<option value="${escapeHtml(t.tenantId)}">${escapeHtml(t.displayName)} (${escapeHtml(t.defaultDomainName)})</option>`).join('\n')}
</select>`;
    form = `<form method="post" action="${ADMIN_PAGE_PREFIX}${rel.id}">
${approver}
<div class="actions">
<button class="primary" type="submit" name="decision" value="approve">Approve</button>
<button type="submit" name="decision" value="decline">Decline</button>
</div>
</form>`;
  } else if (!result) {
    notices.push(`<p class="notice" role="status">This request is ${escapeHtml(rel.status)}; there is nothing to approve.</p>`);
  }
  return page(
    'Partner relationship request',
    `${notices.join('\n')}
<p>${escapeHtml(partner)} asks for granular delegated admin privileges (GDAP) in your organisation: the roles below, for the time shown.</p>
${details}
${form}`,
  );
}
