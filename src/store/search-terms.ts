/**
 * At most this many distinct search terms reach a full-text query: a `find` is a few words, and a pasted paragraph
 * must not become a query with hundreds of OR-ed prefix terms.
 */
export const MAX_SEARCH_TERMS = 16;

const TERM = /[\p{L}\p{N}]+/gu;

/**
 * The terms a full-text query is built from: runs of letters and digits, lower-cased, each once, in the order given.
 * Nothing else of the user's input reaches the query, so quotes, `*`, `-`, `:`, parentheses, `^` or `{...}` are never
 * FTS5 (or `$text`) syntax: they only separate terms. `NEAR`, `AND`, `OR`, `NOT` become ordinary (quoted) terms.
 */
export function searchTerms(words: readonly string[]): string[] {
  const terms = new Set<string>();
  for (const word of words) {
    for (const [term] of word.toLowerCase().matchAll(TERM)) {
      terms.add(term);
      if (terms.size === MAX_SEARCH_TERMS) return [...terms];
    }
  }
  return [...terms];
}

/** An FTS5 MATCH expression: every term quoted and prefix-matched (`"secur"*`), OR-ed, so more matches rank higher. */
export function fts5Match(terms: readonly string[]): string {
  return terms.map((t) => `"${t}"*`).join(' OR ');
}
