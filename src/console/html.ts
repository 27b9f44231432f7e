// The console's one way to build HTML: a tagged template that escapes every interpolated value,
// so a partner name, a reason code or a filter typed into a form can never become markup or
// script (with the CSP's script-src 'self' as the second wall). Only Html values — the output of
// html`` itself — pass through unescaped.
export class Html {
  constructor(readonly text: string) {}
  toString(): string {
    return this.text;
  }
}

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;', '`': '&#96;' };

/** Text made safe for element content and for quoted attribute values. */
export const escapeHtml = (s: string): string => s.replace(/[&<>"'`]/g, (c) => ESCAPES[c]!);

export type Interpolated = Html | string | number | boolean | null | undefined | readonly Interpolated[];

function render(v: Interpolated): string {
  if (v instanceof Html) return v.text;
  if (v === null || v === undefined || v === false) return '';
  if (Array.isArray(v)) return v.map(render).join('');
  return escapeHtml(String(v));
}

/** html`<p>${name}</p>`: every value escaped (arrays rendered item by item; null/undefined/false empty). */
export function html(strings: TemplateStringsArray, ...values: Interpolated[]): Html {
  let out = strings[0]!;
  for (let i = 0; i < values.length; i++) out += render(values[i]!) + strings[i + 1]!;
  return new Html(out);
}

/** JSON for a data-* attribute (escaped like any value by html``), e.g. chart series. */
export const jsonAttr = (v: unknown): string => JSON.stringify(v);
