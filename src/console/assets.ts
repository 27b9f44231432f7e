// Static assets of the console, served from the installed packages (issue 16: no CDN, no network
// at run time) and held in memory. Each URL carries the package version (or, for our own script,
// a content hash), so a response never changes under its URL and may be cached as immutable.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { CONSOLE_CSS, CONSOLE_JS } from './client-assets.ts';

export interface Asset { type: string; body: Buffer }

const require = createRequire(import.meta.url);
const versionOf = (pkg: string) => (JSON.parse(readFileSync(require.resolve(`${pkg}/package.json`), 'utf8')) as { version: string }).version;

const JS = 'text/javascript; charset=utf-8';
const CSS = 'text/css; charset=utf-8';
// package, file inside it, the URL name (before the version), content type.
const VENDORED = [
  ['htmx.org', 'dist/htmx.min.js', 'htmx', '.min.js', JS],
  ['htmx-ext-sse', 'dist/sse.min.js', 'htmx-sse', '.min.js', JS],
  ['@picocss/pico', 'css/pico.classless.min.css', 'pico.classless', '.min.css', CSS],
  ['uplot', 'dist/uPlot.iife.min.js', 'uplot', '.min.js', JS],
  ['uplot', 'dist/uPlot.min.css', 'uplot', '.min.css', CSS],
] as const;

export interface AssetTable {
  /** URL name (e.g. htmx-2.0.11.min.js) -> asset. */
  byName: Map<string, Asset>;
  /** Logical name -> URL path. */
  url: Record<'htmx' | 'htmxSse' | 'pico' | 'uplotJs' | 'uplotCss' | 'consoleJs' | 'consoleCss', string>;
}

// A content hash of our own script and stylesheet (code, not an identifier: RULES 28 allow-list).
const fingerprint = (body: Buffer) => createHash('sha256').update(body).digest('hex').slice(0, 16);

export function loadAssets(prefix = '/console/assets/'): AssetTable {
  const byName = new Map<string, Asset>();
  const names: string[] = [];
  for (const [pkg, file, base, ext, type] of VENDORED) {
    const name = `${base}-${versionOf(pkg)}${ext}`;
    byName.set(name, { type, body: readFileSync(require.resolve(`${pkg}/${file}`)) });
    names.push(name);
  }
  for (const [text, ext, type] of [[CONSOLE_JS, '.js', JS], [CONSOLE_CSS, '.css', CSS]] as const) {
    const body = Buffer.from(text, 'utf8');
    const name = `console-${fingerprint(body)}${ext}`;
    byName.set(name, { type, body });
    names.push(name);
  }
  const [htmx, htmxSse, pico, uplotJs, uplotCss, consoleJs, consoleCss] = names.map((n) => prefix + n) as [string, string, string, string, string, string, string];
  return { byName, url: { htmx, htmxSse, pico, uplotJs, uplotCss, consoleJs, consoleCss } };
}
