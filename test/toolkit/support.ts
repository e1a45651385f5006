import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import Ajv from 'ajv';
import { load } from 'js-yaml';
import ts from 'typescript';

/**
 * Reading the Agents Toolkit's files the way the Toolkit does, and infra/azure.bicep well enough to check it (no Bicep
 * compiler runs here: it is a .NET program the Toolkit downloads). Everything that cannot be read is an error, so a
 * construct these helpers do not know fails the tests rather than being skipped.
 */

export const REPO_ROOT = resolve(__dirname, '..', '..');
export const read = (file: string) => readFileSync(join(REPO_ROOT, file), 'utf8');

export const YML_FILES = ['m365agents.yml', 'm365agents.local.yml', 'm365agents.playground.yml'] as const;
export const SCHEMA_FILE = 'schemas/m365agents/yaml.schema.v1.13.json';

export interface Action {
  uses: string;
  name?: string;
  with?: Record<string, unknown>;
  env?: Record<string, string>;
  writeToEnvironmentFile?: Record<string, string>;
}
export interface Project {
  version: string;
  projectId?: string;
  environmentFolderPath?: string;
  provision?: Action[];
  deploy?: Action[];
  publish?: Action[];
}

/** A lifecycle file parsed as the Toolkit parses it (js-yaml's `load`, fx-core configManager/parser.js). */
export const readProject = (file: string) => load(read(file)) as Project;

/** The Toolkit's validator (fx-core configManager/validator.js): ajv 8 with union types and its one extra keyword. */
export function schemaValidator() {
  const ajv = new Ajv({ allowUnionTypes: true });
  ajv.addKeyword('deprecationMessage');
  return ajv.compile(JSON.parse(read(SCHEMA_FILE)) as object);
}

/** `${{NAME}}` placeholders, as the Toolkit finds them (fx-core configManager/lifecycle.js). */
export const PLACEHOLDER = /\$\{\{\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*\}\}/g;
export const placeholders = (text: string) => [...new Set([...text.matchAll(PLACEHOLDER)].map((m) => m[1] as string))];
/** Replaces the placeholders that have a non-empty value, as the Toolkit does before an action or an ARM deployment. */
export const expand = (text: string, env: Record<string, string>) =>
  text.replace(PLACEHOLDER, (whole, name: string) => (env[name] ? env[name] : whole));

/** Variables a `script` action outputs with `::set-teamsfx-env NAME=value` (fx-core driver/script/scriptDriver.js). */
export const scriptOutputs = (run: string) => [...run.matchAll(/::(?:set-teamsfx-env|set-output)\s+(\w+)=/g)].map((m) => m[1] as string);

/** VS Code's JSON with comments (launch.json, tasks.json), read with TypeScript's own tolerant parser. */
export function readJsonc<T>(file: string): T {
  const { config, error } = ts.parseConfigFileTextToJson(file, read(file));
  if (error) throw new Error(`${file}: ${ts.flattenDiagnosticMessageText(error.messageText, '\n')}`);
  return config as T;
}

/** KEY=VALUE lines (comments and blank lines skipped); quotes around a value are removed. */
export function parseEnv(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split(/\r?\n/)) {
    const m = /^\s*([\w.-]+)\s*=\s*(.*?)\s*$/.exec(line);
    if (!m || line.trim().startsWith('#')) continue;
    out[m[1] as string] = (m[2] as string).replace(/^(['"])(.*)\1$/, '$2');
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------------------
// Bicep: declarations, blocks and a small expression evaluator.

export interface BicepParam {
  name: string;
  type: string;
  default?: string;
  secure: boolean;
  decorators: string;
}

/** Index just past the Bicep string that starts at text[i] (a quote), through `${...}` interpolations and escapes. */
function skipString(text: string, i: number): number {
  for (let j = i + 1; j < text.length; j++) {
    const c = text[j];
    if (c === '\\') j++;
    else if (c === "'") return j + 1;
    else if (c === '$' && text[j + 1] === '{') j = skipBraces(text, j + 1) - 1;
  }
  throw new Error(`unterminated string at ${i}`);
}

/** Index just past the bracket that closes the one at text[i] (`{`, `[` or `(`), strings and comments skipped. */
function skipBraces(text: string, i: number): number {
  let depth = 0;
  for (let j = i; j < text.length; j++) {
    const c = text[j];
    if (c === "'") j = skipString(text, j) - 1;
    else if (c === '/' && text[j + 1] === '/') j = text.includes('\n', j) ? text.indexOf('\n', j) : text.length;
    else if (c === '{' || c === '[' || c === '(') depth++;
    else if (c === '}' || c === ']' || c === ')') {
      depth--;
      if (depth === 0) return j + 1;
    }
  }
  throw new Error(`unbalanced bracket at ${i}`);
}

/** Where a value that starts at text[start] ends: the end of its line, unless a bracket opened on it closes later. */
function valueEnd(text: string, start: number): number {
  let j = start;
  while (j < text.length && text[j] !== '\n') {
    const c = text[j];
    if (c === "'") j = skipString(text, j);
    else if (c === '{' || c === '[' || c === '(') j = skipBraces(text, j);
    else if (c === '/' && text[j + 1] === '/') break;
    else j++;
  }
  return j;
}

export class Bicep {
  constructor(readonly text: string) {}

  /** `param` declarations with their decorators (which may span lines, like `@allowed([...])`). */
  params(): Map<string, BicepParam> {
    const params = new Map<string, BicepParam>();
    let decorators = '';
    const lines = this.text.split('\n');
    for (let i = 0; i < lines.length; i++) {
      const line = (lines[i] as string).trim();
      if (line.startsWith('@')) {
        let block = line;
        // A decorator whose brackets close on a later line.
        while (block.split(/[[(]/).length !== block.split(/[\])]/).length && i + 1 < lines.length) block += '\n' + lines[++i];
        decorators += block + '\n';
        continue;
      }
      const m = /^param\s+(\w+)\s+(\w+)(?:\s*=\s*(.+))?$/.exec(line);
      if (m) {
        params.set(m[1] as string, {
          name: m[1] as string,
          type: m[2] as string,
          default: m[3],
          secure: /^@secure\(\)/m.test(decorators),
          decorators,
        });
      }
      if (line && !line.startsWith('//')) decorators = '';
    }
    return params;
  }

  /** The text between the braces of `<keyword> <symbol> ... = {` (a resource or an object var). */
  block(keyword: 'resource' | 'var', symbol: string): string {
    const m = new RegExp(`^${keyword}\\s+${symbol}\\b[^\\n]*=\\s*\\{`, 'm').exec(this.text);
    if (!m) throw new Error(`no ${keyword} ${symbol} in the Bicep file`);
    const open = m.index + m[0].length - 1;
    return this.text.slice(open + 1, skipBraces(this.text, open) - 1);
  }

  /** An object's own `key: value` entries (one per line; nested objects kept as text). */
  static entries(block: string): Map<string, string> {
    const out = new Map<string, string>();
    let i = 0;
    while (i < block.length) {
      const rest = block.slice(i);
      const m = /^(?:\s*\/\/[^\n]*\n)*\s*([A-Za-z_][\w]*|'[^']*')\s*:\s*/.exec(rest);
      if (!m) {
        if (rest.trim() === '' || /^\s*(\/\/[^\n]*\s*)*$/.test(rest)) break;
        throw new Error(`cannot read the object entry at: ${rest.slice(0, 60)}`);
      }
      const key = (m[1] as string).replace(/^'|'$/g, '');
      const start = i + m[0].length;
      const j = valueEnd(block, start);
      out.set(key, block.slice(start, j).trim());
      i = j;
    }
    return out;
  }

  /** The entries of an object value (`{ ... }`, as `entries` returns nested objects). */
  static object(value: string | undefined): Map<string, string> {
    if (!value?.startsWith('{') || !value.endsWith('}')) throw new Error(`not an object: ${value}`);
    return Bicep.entries(value.slice(1, -1));
  }

  /** A resource's or object var's entries: `resource('webApp').get('properties')`. */
  resource(symbol: string): Map<string, string> {
    return Bicep.entries(this.block('resource', symbol));
  }
  objectVar(symbol: string): Map<string, string> {
    return Bicep.entries(this.block('var', symbol));
  }

  /** A `var name = expression` (the expression may span lines inside brackets). */
  variable(name: string): string {
    const m = new RegExp(`^var\\s+${name}\\s*=\\s*`, 'm').exec(this.text);
    if (!m) throw new Error(`no var ${name} in the Bicep file`);
    const start = m.index + m[0].length;
    return this.text.slice(start, valueEnd(this.text, start)).trim();
  }

  /** `output NAME type = expression`. */
  outputs(): Map<string, string> {
    return new Map([...this.text.matchAll(/^output\s+(\w+)\s+\w+\s*=\s*(.+)$/gm)].map((m) => [m[1] as string, (m[2] as string).trim()]));
  }

  /** Resource symbols with their type strings: `resource webApp 'Microsoft.Web/sites@2023-12-01'`. */
  resources(): Map<string, string> {
    return new Map([...this.text.matchAll(/^resource\s+(\w+)\s+'([^']+)'/gm)].map((m) => [m[1] as string, m[2] as string]));
  }
}

export type Scope = (path: string) => unknown;

/**
 * Evaluates the Bicep expressions the app settings use: strings with `${...}`, numbers, booleans, arrays, names and dotted
 * names (looked up in `scope`), and the functions string() and replace(). Anything else throws.
 */
export function evaluate(expression: string, scope: Scope): unknown {
  const src = expression.trim();
  let i = 0;
  const ws = () => {
    while (i < src.length && /\s/.test(src[i] as string)) i++;
  };
  const expr = (): unknown => {
    ws();
    const c = src[i];
    if (c === "'") return str();
    if (c === '[') {
      i++;
      const items: unknown[] = [];
      ws();
      while (src[i] !== ']') {
        if (i >= src.length) throw new Error(`unterminated array in ${src}`);
        items.push(expr());
        ws();
        if (src[i] === ',') i++;
        ws();
      }
      i++;
      return items;
    }
    if (/[0-9-]/.test(c as string)) {
      const m = /^-?\d+/.exec(src.slice(i)) as RegExpExecArray;
      i += m[0].length;
      return Number(m[0]);
    }
    const m = /^[A-Za-z_][\w]*(?:\.[A-Za-z_][\w]*)*/.exec(src.slice(i));
    if (!m) throw new Error(`cannot evaluate ${JSON.stringify(src)} at ${i}`);
    i += m[0].length;
    ws();
    if (src[i] === '(') {
      i++;
      const args: unknown[] = [];
      ws();
      while (src[i] !== ')') {
        args.push(expr());
        ws();
        if (src[i] === ',') i++;
      }
      i++;
      return call(m[0], args);
    }
    if (m[0] === 'true' || m[0] === 'false') return m[0] === 'true';
    const value = scope(m[0]);
    if (value === undefined) throw new Error(`${m[0]} has no value in this evaluation (in ${JSON.stringify(src)})`);
    return value;
  };
  const str = (): string => {
    let out = '';
    i++;
    while (src[i] !== "'") {
      if (i >= src.length) throw new Error(`unterminated string in ${src}`);
      if (src[i] === '\\') {
        const e = src[i + 1] as string;
        out += ({ n: '\n', r: '\r', t: '\t' } as Record<string, string>)[e] ?? e;
        i += 2;
      } else if (src[i] === '$' && src[i + 1] === '{') {
        i += 2;
        out += String(expr());
        ws();
        if (src[i] !== '}') throw new Error(`expected } in ${src} at ${i}`);
        i++;
      } else out += src[i++];
    }
    i++;
    return out;
  };
  const call = (name: string, args: unknown[]): unknown => {
    if (name === 'string' && args.length === 1) return String(args[0]);
    if (name === 'replace' && args.length === 3) return String(args[0]).split(String(args[1])).join(String(args[2]));
    throw new Error(`the function ${name}() is not evaluated here (in ${JSON.stringify(src)})`);
  };
  const value = expr();
  ws();
  if (i !== src.length) throw new Error(`unexpected ${JSON.stringify(src.slice(i))} in ${JSON.stringify(src)}`);
  return value;
}
