/**
 * The dashboard at `/`: one self-contained page that reads `/api/report` and draws the same numbers
 * as `spendtrace report`. The sources sit beside this file as plain HTML, CSS and browser
 * JavaScript (index.html, dashboard.css, format.js, app.js: no build step); they are put together
 * once, into a single document, so the page needs no other request, works offline and behind
 * strict proxies. The Content-Security-Policy allows exactly that inline style and script (by
 * hash) and fetches to this origin, nothing else.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';

const source = (name: string): string => readFileSync(new URL(name, import.meta.url), 'utf8');
const sha256 = (text: string): string => `'sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}'`;

export interface DashboardPage {
  html: string;
  contentSecurityPolicy: string;
}

/** Assembles the page from its sources (read now, so an edited file shows after a restart). */
export function buildDashboardPage(): DashboardPage {
  const css = source('./dashboard.css');
  // format.js first: app.js uses its helpers. Both are one inline module; format.js's `export`s are
  // harmless there and let tests import the same file.
  const js = `\n${source('./format.js')}\n${source('./app.js')}\n`;
  const template = source('./index.html');
  if (!template.includes('/*{{CSS}}*/') || !template.includes('/*{{JS}}*/')) throw new Error('dashboard index.html lost its /*{{CSS}}*/ or /*{{JS}}*/ slot');
  // A function replacement, so `$&`-style patterns in the sources are left alone.
  const html = template.replace('/*{{CSS}}*/', () => css).replace('/*{{JS}}*/', () => js);
  const contentSecurityPolicy = [
    "default-src 'none'",
    "connect-src 'self'",
    "img-src 'self' data:",
    `style-src ${sha256(css)}`,
    `script-src ${sha256(js)}`,
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
  return { html, contentSecurityPolicy };
}

/** Serves the page at `/` (and `/dashboard`); everything else is left to the next route. */
export function createDashboardRoute() {
  const page = buildDashboardPage();
  const body = Buffer.from(page.html, 'utf8');
  return (req: IncomingMessage, res: ServerResponse, url: URL): boolean => {
    if (url.pathname !== '/' && url.pathname !== '/dashboard') return false;
    if (req.method !== 'GET' && req.method !== 'HEAD') return false;
    res.writeHead(200, {
      'content-type': 'text/html; charset=utf-8',
      'content-length': body.length,
      'cache-control': 'no-store',
      'content-security-policy': page.contentSecurityPolicy,
      'x-content-type-options': 'nosniff',
      'referrer-policy': 'no-referrer',
    });
    res.end(req.method === 'HEAD' ? undefined : body);
    return true;
  };
}
