/**
 * Builds the publishable packages and packs each with `pnpm pack` (which applies publishConfig and
 * turns `workspace:*` into the version), into the directory given (default: ./dist-packages).
 * Prints one line per tarball: its path and size.
 *
 *   node scripts/pack.ts [DIR]
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, PUBLISHED } from './build.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

/** Packs every publishable package into `dir`; returns the tarballs' paths in build order. */
export function pack(dir: string): string[] {
  build();
  mkdirSync(dir, { recursive: true });
  return PUBLISHED.map((pkg) => {
    const out = execFileSync('pnpm', ['pack', '--json', '--pack-destination', dir], { cwd: join(root, 'packages', pkg), encoding: 'utf8' });
    const { filename } = JSON.parse(out) as { filename: string };
    return resolve(dir, filename);
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  for (const file of pack(resolve(process.argv[2] ?? join(root, 'dist-packages')))) console.log(`${file}\t${statSync(file).size} bytes`);
}
