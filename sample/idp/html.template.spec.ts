import { html } from './html.template.js';

describe('html', () => {
  it('escapes interpolated text, attributes included', () => {
    const name = `"><script>alert('x')</script>&`;
    expect(html`<p title="${name}">${name}</p>`.value).toBe(
      '<p title="&quot;&gt;&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&amp;">' +
        '&quot;&gt;&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&amp;</p>',
    );
  });

  it('keeps nested templates and lists as built, and drops undefined, null and false', () => {
    const items = ['<a>', 'b'].map((item) => html`<li>${item}</li>`);
    expect(html`<ul>${items}</ul>${undefined}${null}${false}${0}`.value).toBe('<ul><li>&lt;a&gt;</li><li>b</li></ul>0');
  });

  it('escapes the plain text items of a list', () => {
    expect(html`<p>${['<b>', html`<i>`, 'a&b']}</p>`.value).toBe('<p>&lt;b&gt;<i>a&amp;b</p>');
  });
});
