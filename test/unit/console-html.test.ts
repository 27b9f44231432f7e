// Issue 16: the console's template helper escapes every interpolated value; only html`` output
// passes through as markup.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { escapeHtml, html } from '../../src/console/html.ts';

test('every interpolated string is escaped: text, attributes, arrays', () => {
  const evil = `"><script>alert('x')</script><a href=\`javascript:1\`>&amp;`;
  const out = html`<p title="${evil}">${evil}</p><ul>${[evil, 1].map((v) => html`<li>${v}</li>`)}</ul>`.text;
  assert.equal(out, '<p title="&quot;&gt;&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&lt;a href=&#96;javascript:1&#96;&gt;&amp;amp;">'
    + '&quot;&gt;&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&lt;a href=&#96;javascript:1&#96;&gt;&amp;amp;</p>'
    + '<ul><li>&quot;&gt;&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&lt;a href=&#96;javascript:1&#96;&gt;&amp;amp;</li><li>1</li></ul>');
});

test('null, undefined and false render nothing; numbers and true as text; nested html is kept as markup', () => {
  assert.equal(html`[${null}${undefined}${false}${0}${true}]`.text, '[0true]');
  assert.equal(html`<div>${html`<b>${'<i>'}</b>`}</div>`.text, '<div><b>&lt;i&gt;</b></div>');
});

test('no string, however built, leaves a raw markup character in the output', () => {
  fc.assert(fc.property(fc.string({ unit: 'binary' }), (s) => {
    const out = html`<span data-x="${s}">${s}</span>`.text.slice('<span data-x="'.length, -'</span>'.length);
    assert.doesNotMatch(out.replace('">', ''), /[<>"'`]/);
    assert.equal(out, `${escapeHtml(s)}">${escapeHtml(s)}`);
  }));
});
