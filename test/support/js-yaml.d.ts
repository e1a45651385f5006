// js-yaml 4 ships no types; the tests only parse (the Agents Toolkit parses m365agents*.yml with js-yaml's load).
declare module 'js-yaml' {
  export function load(text: string, options?: { filename?: string }): unknown;
}
