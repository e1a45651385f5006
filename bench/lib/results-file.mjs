// One benchmark's part of bench/RESULTS.md, shared by every bench that keeps a history of its runs there.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';

const between = (key) => new RegExp(`<!-- ${key}:begin[\\s\\S]*?<!-- ${key}:end -->`);

/**
 * Replaces the generated block (from `<!-- key:begin` to `<!-- key:end -->`) and gives its history table (between
 * `<!-- history.key:begin -->` and `<!-- history.key:end -->`) one more row, after the rows already there; everything
 * outside the markers stays as written by hand. Replacements are functions, so a `$` in a figure is never a pattern.
 *
 * - `history.header`: the table's header and separator lines; `history.row`: this run's row; `history.upgrade`: maps
 *   a row kept from earlier runs (a column added since, say).
 * - `historyHeading`: the heading put before the table when the block is there but its history is not yet.
 * - `placeNew(old, generated, historyTable)`: the whole file when the block is not in it yet.
 */
export function updateResultsFile(file, { key, generated, history, historyHeading = '#### History', placeNew }) {
  const old = existsSync(file) ? readFileSync(file, 'utf8') : '';
  const upgrade = history.upgrade ?? ((row) => row);
  const table = (rows) =>
    [`<!-- ${history.key}:begin -->`, ...history.header, ...rows.map(upgrade), `<!-- ${history.key}:end -->`].join('\n');
  const kept =
    new RegExp(`<!-- ${history.key}:begin -->\\n(?:.*\\n){2}([\\s\\S]*?)<!-- ${history.key}:end -->`)
      .exec(old)?.[1]
      ?.trim()
      .split('\n')
      .filter(Boolean) ?? [];
  const end = `<!-- ${key}:end -->`;
  let text;
  if (old.includes(`<!-- ${key}:begin`) && old.includes(end)) {
    text = old.replace(between(key), () => generated);
    text = text.includes(`<!-- ${history.key}:begin -->`)
      ? text.replace(between(history.key), () => table([...kept, history.row]))
      : text.replace(end, () => `${end}\n\n${historyHeading}\n\n${table([history.row])}`);
  } else {
    text = placeNew(old, generated, table([history.row]));
  }
  writeFileSync(file, text);
}

/**
 * The usual first time: a new section at the end of the file, its heading, `intro` and `after` as lines (blank lines
 * included), the block between them with its history.
 */
export const appendSection =
  (heading, intro = [], after = []) =>
  (old, generated, historyTable) =>
    [old.trimEnd(), '', heading, '', ...intro, generated, '', '#### History', '', historyTable, '', ...after].join('\n');
