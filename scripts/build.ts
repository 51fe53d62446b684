/**
 * Builds the publishable packages into their `dist/`: JavaScript, `.d.ts` and source maps by tsc
 * (project references, so the exporter and the instrumentation compile against semconv's
 * declarations), then the files tsc does not emit (schema .sql, dashboard html/css/js,
 * trace.proto, semconv's price data) copied beside the code that reads them through `import.meta.url`.
 *
 * The workspace itself runs from `src/` (Node type stripping); only `pnpm pack` needs `dist/`
 * (publishConfig points the tarball's exports and bin there).
 *
 *   node scripts/build.ts
 */
import { execFileSync } from 'node:child_process';
import { cpSync, readdirSync, rmSync } from 'node:fs';
import { dirname, extname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

/** Built in this order (each one's dependencies first). */
export const PUBLISHED = ['semconv', 'instrumentation', 'exporter'] as const;

const ASSET_EXTENSIONS = new Set(['.sql', '.html', '.css', '.proto', '.js', '.json']);

function* files(dir: string): Generator<string> {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* files(path);
    else yield path;
  }
}

export function build(log: (line: string) => void = () => {}): void {
  for (const pkg of PUBLISHED) rmSync(join(root, 'packages', pkg, 'dist'), { recursive: true, force: true });
  const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
  const projects = PUBLISHED.map((pkg) => join(root, 'packages', pkg, 'tsconfig.build.json'));
  execFileSync(process.execPath, [tsc, '-b', '--force', ...projects], { stdio: 'inherit' });
  for (const pkg of PUBLISHED) {
    const src = join(root, 'packages', pkg, 'src');
    const dist = join(root, 'packages', pkg, 'dist');
    rmSync(join(dist, '.tsbuildinfo'), { force: true });
    for (const file of files(src)) {
      if (!ASSET_EXTENSIONS.has(extname(file))) continue;
      cpSync(file, join(dist, relative(src, file)));
      log(`copied ${relative(root, file)}`);
    }
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) build((line) => console.log(line));
