/**
 * The OData query options the GDAP list endpoints document: "`$select`, `$filter`, `$top`, `$orderby`, `$count`,
 * and `$skipToken`", "`$top` supports up to 300 objects"
 * (https://learn.microsoft.com/en-us/graph/api/tenantrelationship-list-delegatedadminrelationships,
 * https://learn.microsoft.com/en-us/graph/api/delegatedadminrelationship-list-accessassignments).
 *
 * `$filter` here understands `<path> eq|ne <literal>` clauses joined by `and`, where a path is a property or a
 * nested one (`customer/tenantId`, `accessContainer/accessContainerId`) and a literal is a quoted string (`''`
 * escapes a quote), `true`, `false`, `null` or a number. Which properties real Graph lets you filter on is not
 * documented; clients filter on `displayName` and `customer/tenantId`, which both work here.
 */

export const MAX_TOP = 300;

export class ODataError extends Error {}

type Literal = string | number | boolean | null;
interface Clause {
  path: string[];
  op: 'eq' | 'ne';
  value: Literal;
}

const CLAUSE = /^\s*([A-Za-z][A-Za-z0-9]*(?:\/[A-Za-z][A-Za-z0-9]*)*)\s+(eq|ne)\s+('(?:[^']|'')*'|true|false|null|-?\d+(?:\.\d+)?)\s*/i;

export function parseFilter(text: string): Clause[] {
  const clauses: Clause[] = [];
  let rest = text;
  for (;;) {
    const m = CLAUSE.exec(rest);
    if (!m) throw new ODataError(`Invalid filter clause: ${text}`);
    const [whole, path = '', op = '', raw = ''] = m;
    const value: Literal = raw.startsWith("'")
      ? raw.slice(1, -1).replace(/''/g, "'")
      : raw === 'true'
        ? true
        : raw === 'false'
          ? false
          : raw === 'null'
            ? null
            : Number(raw);
    clauses.push({ path: path.split('/'), op: op.toLowerCase() as 'eq' | 'ne', value });
    rest = rest.slice(whole.length);
    if (rest.trim() === '') return clauses;
    const and = /^and\s+/i.exec(rest);
    if (!and) throw new ODataError(`Invalid filter clause: ${text}`);
    rest = rest.slice(and[0].length);
  }
}

function valueAt(item: Record<string, unknown>, path: string[]): unknown {
  let v: unknown = item;
  for (const key of path) {
    if (v === null || typeof v !== 'object') return undefined;
    const obj = v as Record<string, unknown>;
    // OData property names are case-sensitive in Graph, but be lenient on the first letter's case.
    const hit = Object.keys(obj).find((k) => k === key) ?? Object.keys(obj).find((k) => k.toLowerCase() === key.toLowerCase());
    v = hit === undefined ? undefined : obj[hit];
  }
  return v;
}

const sortKey = (v: unknown): string => (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean' ? String(v) : '');

function matches(item: Record<string, unknown>, clauses: Clause[]): boolean {
  return clauses.every((c) => {
    const v = valueAt(item, c.path);
    // Graph compares strings case-insensitively for GUIDs and names in most directory resources.
    const same = typeof v === 'string' && typeof c.value === 'string' ? v.toLowerCase() === c.value.toLowerCase() : (v ?? null) === c.value;
    return c.op === 'eq' ? same : !same;
  });
}

export interface Page {
  value: Record<string, unknown>[];
  nextLink?: string;
  count?: number;
}

/**
 * Filter, order, page and select `items` per the query string of `url`; `@odata.nextLink` is absolute, on
 * the stand-in, and carries every option of the first request plus `$skiptoken`.
 */
export function queryPage(items: Record<string, unknown>[], url: URL, defaultPageSize: number): Page {
  const q = url.searchParams;
  let rows = items;
  const filter = q.get('$filter');
  if (filter !== null) {
    const clauses = parseFilter(filter);
    rows = rows.filter((r) => matches(r, clauses));
  }
  const orderby = q.get('$orderby');
  if (orderby !== null) {
    const keys = orderby.split(',').map((part) => {
      const [path = '', dir = 'asc'] = part.trim().split(/\s+/);
      if (!path || !/^(asc|desc)$/i.test(dir)) throw new ODataError(`Invalid $orderby: ${orderby}`);
      return { path: path.split('/'), desc: dir.toLowerCase() === 'desc' };
    });
    rows = [...rows].sort((a, b) => {
      for (const k of keys) {
        const x = sortKey(valueAt(a, k.path));
        const y = sortKey(valueAt(b, k.path));
        if (x !== y) return (x < y ? -1 : 1) * (k.desc ? -1 : 1);
      }
      return 0;
    });
  }
  const topText = q.get('$top');
  let top = defaultPageSize;
  if (topText !== null) {
    top = Number(topText);
    if (!Number.isInteger(top) || top < 1) throw new ODataError(`Invalid value '${topText}' for $top query option.`);
    if (top > MAX_TOP)
      throw new ODataError(`The limit of '${MAX_TOP}' for Top query has been exceeded. The value from the incoming request is '${top}'.`);
  }
  const skipToken = q.get('$skiptoken') ?? q.get('$skipToken');
  let offset = 0;
  if (skipToken !== null) {
    const decoded = Number(
      Buffer.from(skipToken, 'base64url')
        .toString('utf8')
        .replace(/^offset:/, ''),
    );
    if (!Number.isInteger(decoded) || decoded < 0) throw new ODataError('The $skiptoken is not valid.');
    offset = decoded;
  }
  const slice = rows.slice(offset, offset + top);
  const page: Page = { value: selectProps(slice, q.get('$select')) };
  if (q.get('$count') === 'true') page.count = rows.length;
  if (offset + top < rows.length) {
    const params: string[] = [];
    for (const key of ['$filter', '$orderby', '$select', '$count']) {
      const v = q.get(key);
      if (v !== null) params.push(`${key}=${encodeURIComponent(v)}`);
    }
    params.push(`$top=${top}`, `$skiptoken=${Buffer.from(`offset:${offset + top}`).toString('base64url')}`);
    page.nextLink = `${url.origin}${url.pathname}?${params.join('&')}`;
  }
  return page;
}

/** `$select=a,b`: the listed properties, plus the annotations and `id` Graph always keeps. */
export function selectProps(rows: Record<string, unknown>[], select: string | null): Record<string, unknown>[] {
  if (select === null) return rows;
  const wanted = new Set(select.split(',').map((s) => s.trim().toLowerCase()));
  return rows.map((r) =>
    Object.fromEntries(Object.entries(r).filter(([k]) => k.startsWith('@odata.') || k === 'id' || wanted.has(k.toLowerCase()))),
  );
}
