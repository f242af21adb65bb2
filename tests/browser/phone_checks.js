// What every page of tests/browser/test_phones.py must pass, measured in the page.
(() => {
  const doc = document.documentElement;
  const visible = (el) => {
    const r = el.getBoundingClientRect();
    const s = getComputedStyle(el);
    return r.width > 0 && r.height > 0 && s.visibility !== 'hidden' && s.display !== 'none';
  };
  const header = document.querySelector('.site-header');
  const main = document.querySelector('main');
  const small = [];
  for (const el of document.querySelectorAll('body *')) {
    if (!visible(el)) continue;
    const own = [...el.childNodes].some(n => n.nodeType === 3 && n.textContent.trim());
    if (own && parseFloat(getComputedStyle(el).fontSize) < 12) {
      small.push(el.tagName + ':' + el.textContent.trim().slice(0, 20));
    }
  }
  const tiny = [];
  const targets = [
    'button', 'select', 'textarea',
    'input:not([type=hidden]):not([type=radio]):not([type=checkbox])',
    '.btn', 'a.button', '.site-header a', '.site-header label', '.console-nav a',
    'label.choice', '.tabs a',
  ].join(', ');
  for (const el of document.querySelectorAll(targets)) {
    if (!visible(el)) continue;
    const r = el.getBoundingClientRect();
    if (r.height < 44 - 0.5) {
      const what = (el.textContent || el.name || '').trim().slice(0, 16);
      tiny.push(el.tagName + '#' + (el.id || el.className) + ' ' + what + ' ' + Math.round(r.height));
    }
  }
  // a short label (查询, 获取验证码) broken over lines: its button squeezed by the field beside it
  const broken = [];
  for (const el of document.querySelectorAll(targets)) {
    if (!visible(el) || el.tagName === 'SELECT' || el.tagName === 'TEXTAREA') continue;
    const label = (el.textContent || '').trim();
    if (!label || label.length > 6) continue;
    const range = document.createRange();
    range.selectNodeContents(el);
    const lines = new Set([...range.getClientRects()].filter(r => r.width > 0).map(r => Math.round(r.top)));
    if (lines.size > 1) broken.push(el.tagName + ' ' + label + ' on ' + lines.size + ' lines');
  }
  // a date broken over lines (2027年1月5 | 日) in a field's value or a table's cell (running
  // text, a notice's say, may break anywhere as Chinese does)
  const dates = [];
  const walker = document.createTreeWalker(document.querySelector('main') || document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const parent = node.parentElement;
    if (!parent || !visible(parent) || !parent.closest('dd, td, th, time')) continue;
    for (const m of node.textContent.matchAll(/\d{4}年\d{1,2}月\d{1,2}日|\d{4}-\d{2}-\d{2}/g)) {
      const range = document.createRange();
      range.setStart(node, m.index);
      range.setEnd(node, m.index + m[0].length);
      const lines = new Set([...range.getClientRects()].filter(r => r.width > 0).map(r => Math.round(r.bottom)));
      if (lines.size > 1) dates.push(m[0]);
    }
  }
  return {
    width: doc.scrollWidth,
    headerBottom: header ? header.getBoundingClientRect().bottom + window.scrollY : 0,
    headerOverflows: header ? header.scrollHeight > header.clientHeight + 1 : false,
    mainTop: main ? main.getBoundingClientRect().top + window.scrollY : 0,
    // the site's name on more lines than one (a word broken at the bar's edge)
    brandLines: (() => {
      const brand = document.querySelector('.site-header .brand');
      if (!brand || !visible(brand)) return 0;
      const range = document.createRange();
      range.selectNodeContents(brand);
      return new Set([...range.getClientRects()].map(r => Math.round(r.top))).size;
    })(),
    small: small.slice(0, 10),
    tiny: tiny.slice(0, 10),
    broken: broken.slice(0, 10),
    dates: dates.slice(0, 10),
  };
})
