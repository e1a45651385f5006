import js from '@eslint/js';
import boundaries from 'eslint-plugin-boundaries';
import prettier from 'eslint-config-prettier/flat';
import tseslint from 'typescript-eslint';

/**
 * The layout rule (src/README.md): each capability declares its store port beside it (`src/<capability>/store.ts`,
 * with the domain types in `types.ts`); `src/store/` composes the ports and holds the adapters. So a capability never
 * reaches into `src/store/`, and an adapter reaches a capability only through its port or types. Elements are folders,
 * matched in order (the first pattern a folder matches gives its type); ports are a category of files.
 */
const layout = {
  files: ['src/**/*.ts'],
  plugins: { boundaries },
  settings: {
    'import/resolver': { node: { extensions: ['.ts', '.js', '.json'] } },
    'boundaries/elements': [
      { type: 'adapter', pattern: 'src/store/{sqlite,mongo}' },
      { type: 'store', pattern: 'src/store' },
      { type: 'capability', pattern: 'src/*' },
    ],
    'boundaries/files': [{ category: 'port', pattern: 'src/*/{store,types}.ts' }],
  },
  rules: {
    'boundaries/dependencies': [
      'error',
      {
        default: 'allow',
        policies: [
          {
            from: { element: { type: 'capability' } },
            disallow: { to: { element: { types: { anyOf: ['store', 'adapter'] } } } },
          },
          {
            from: { element: { types: { anyOf: ['adapter', 'store'] } } },
            disallow: { to: { element: { type: 'capability' } } },
          },
          {
            from: { element: { types: { anyOf: ['adapter', 'store'] } } },
            allow: { to: { element: { type: 'capability' }, file: { categories: 'port' } } },
          },
        ],
      },
    ],
  },
};

export default tseslint.config(
  { ignores: ['dist/', 'build/', 'coverage/', 'node_modules/', 'data/', 'test/e2e/artifacts/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    // TypeScript files get the rules that need type information too (floating promises, unsafe any, ...).
    files: ['**/*.ts'],
    extends: [...tseslint.configs.recommendedTypeCheckedOnly],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      // Store adapters implement async ports with synchronous better-sqlite3 calls, and an async function turns a
      // thrown error into a rejection, which is what callers of a port expect; an `await` there would add nothing.
      '@typescript-eslint/require-await': 'off',
    },
  },
  {
    rules: {
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' },
      ],
      'no-console': ['error', { allow: ['warn', 'error'] }],
    },
  },
  layout,
  {
    files: ['src/index.ts', 'stand-in/cli.ts', 'scripts/**', 'bench/**', 'test/**'],
    rules: { 'no-console': 'off' },
  },
  {
    // Jest's asymmetric matchers (`expect.any(String)`, `expect.objectContaining`) are typed `any` by @types/jest, and
    // tests read JSON bodies they then assert on; the promise, `this` and assertion rules still apply to tests.
    files: ['test/**/*.ts'],
    rules: {
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
    },
  },
  {
    // Node scripts: TypeScript's own checks do not cover them, and Node's globals are many; undefined names still
    // fail at the first run of each script in the tests.
    files: ['**/*.cjs', '**/*.js', '**/*.mjs'],
    rules: { 'no-undef': 'off', '@typescript-eslint/no-require-imports': 'off' },
  },
  // Formatting is Prettier's (`npm run format:check`); this turns off the few lint rules that would disagree with it.
  prettier,
);
