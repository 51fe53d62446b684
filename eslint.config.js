// Lint: ESLint's and typescript-eslint's recommended rules (syntax-only, no type information, so
// it runs in seconds). Formatting is prettier's business (.prettierrc.json), not ESLint's.
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['**/node_modules/**', '**/dist/**', '.tools/**', 'bench/results/**', 'coverage/**', '.spendtrace/**', 'dist-packages/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      // The SDK shapes spendtrace patches are duck-typed on purpose; `any` marks those seams.
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      // Wrappers forward `arguments` untouched and keep the instance a closure needs: both on purpose.
      'prefer-rest-params': 'off',
      '@typescript-eslint/no-this-alias': 'off',
    },
  },
  {
    files: ['packages/exporter/src/dashboard/**/*.js'],
    // app.js runs in one inline module after format.js (dashboard.ts), so it uses format.js's helpers as globals.
    languageOptions: {
      globals: {
        ...globals.browser,
        ...Object.fromEntries(
          ['compareTasks', 'costHistogram', 'costText', 'count', 'fraction', 'money', 'moneyPico', 'parsePico', 'percent', 'timeBuckets', 'utc'].map((n) => [
            n,
            'readonly',
          ]),
        ),
      },
    },
  },
  { files: ['**/*.cjs'], languageOptions: { sourceType: 'commonjs' }, rules: { '@typescript-eslint/no-require-imports': 'off' } },
);
