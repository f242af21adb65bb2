// What every page of tests/browser/test_phones.py must pass, measured in the page. Each list
// names what it found (empty when the page passes); test_phones.py's phone_problems says which a
// phone must pass (customer pages at 390 and 360 px, the staff pages at 390 px add `words`):
//   small      visible text under 12 px
//   tiny       a button, field or bar's link (the header's, the portal's menu, the home page's links) under 44 px tall
//   broken     a button's short label (up to 6 characters) on two lines
//   dates      a date in a dd, td, th or <time> on two lines
//   units      a short bracket (（含首尾两|日）, a CA's （网|证通）) in any text of the page (a
//              field's value, a cell, a heading, a paragraph, a link; since 12-07 late, not
//              only a dd/td) or a short part (up to 6 characters) of a · line (费用 · 网上营业|厅,
//              0.00 | 元) on two lines, measured on the text itself (not the boxes of an
//              inline-block beside it)
//              and a number split from its unit (至多40|位, 5|分钟); main's text and the
//              footer's (深圳市…有限公司（演示） on every page)
//   brackets   the brackets of `units` alone
//   refs       a reference number (.ref: 申请 SQ20261120-|000016) or a short code (<code> of up
//              to 19 characters; a serial of 20 or more may wrap) on two lines
//   ranges     a range of numbers (可办理1-5年期, 9:00-12:00; not a month-day's 12-07) or of days
//              (周一至周五: 周一至周|五 in a service point's hours at 360 px) not kept on
//              one line (outside a nowrap: web/templatetags/wrapping.py's |ranges_whole), where
//              it may break at its hyphen (1-|5 at 390 px), whether it happens to at this width
//              or not
//   words      (wide screens) a table cell's code or short label on two lines
//   choices    a checkbox or radio button not beside its words
//   fields     a form's text fields and selects of unlike heights
//   narrow     a text field beside a button on its row, narrower than it or than 10em (the
//              phone, 148 px beside 获取验证码's countdown at 360 px)
//   spill      a field, button, link, code or cell past its .card's right edge (unless a
//              scrolling box holds it)
//   outOfSight a row's button or field past the right edge of the box its table scrolls in,
//              and a card's value past its card's right edge (table.cards on a phone, where the
//              table's box scrolls and `spill` does not look)
//   numHeads   a numeric column's heading on two lines
//   path       a step of the progress path on two lines
//   scrolled   a field's value wider than the field
//   overlaps   the way back above a heading (.crumbs) under what follows it (a message's box
//              drawn over 网上营业厅 › 申请进度 on the hall's pages)
(() => {
  const doc = document.documentElement;
  const visible = (el) => {
    const r = el.getBoundingClientRect();
    const s = getComputedStyle(el);
    return r.width > 0 && r.height > 0 && s.visibility !== 'hidden' && s.display !== 'none';
  };
  // text for screen readers only, not drawn where a customer reads: a list of cards' headings
  // (1 px, clipped), the bots' trap (aria-hidden, moved off the page)
  const unseen = (el) => {
    if (el.closest('[aria-hidden=true]')) return true;
    for (let up = el; up; up = up.parentElement) {
      if (getComputedStyle(up).position === 'absolute' && up.getBoundingClientRect().width <= 1) return true;
    }
    return false;
  };
  // lines of a text's boxes: a box starting below the bottom of the line so far opens a new
  // line (a chip's padded box beside the text is on the same line)
  const lines = (rects) => {
    let count = 0, bottom = -Infinity;
    for (const r of [...rects].filter(r => r.width > 0).sort((a, b) => a.top - b.top)) {
      if (r.top >= bottom - 1) { count += 1; bottom = r.bottom; } else bottom = Math.max(bottom, r.bottom);
    }
    return count;
  };
  // the boxes of a text node's characters start to end
  const textRects = (node, start, end) => {
    const range = document.createRange();
    range.setStart(node, start);
    range.setEnd(node, end);
    return [...range.getClientRects()];
  };
  // a number and the unit after it (40位, 5分钟, 1-5年, 650.00元), not part of a longer code
  const NUMBER_UNIT = /(?<![A-Za-z0-9_.\-])\d+(?:\.\d+)?(?:-\d+)?(?:小时|分钟|字节|个月|位|个|次|年|天|秒|元|字|张|页|项|条|份|行|人|家|周)/g;
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
    '.btn', '.site-header a', '.site-header label', '.console-nav a',
    'label.choice', '.tabs a', '.crumbs a',
    // a link beside a form's button (上一步, 返回 beside 下一步: a 20 px line of text)
    '.actions > a',
    // a console's filter bar (Ukey库存's 全部 · 库存 · 已发放) and a fold of a form (退回补正…)
    '.console .filters a', '.console summary',
    // the footer's 联系我们, where every 联系客服 leads
    '.site-footer a',
    // the portal's menu (办事指南 · 公告 · 常见问题 …, on every portal page: 33 px until 12-07)
    '.portal-nav a',
    // the home page's links to the guides and the portal's sections (26 px lines until 12-07)
    '.home-links a',
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
    // by lines, not tops: a checkbox's box beside 置顶 starts a few px off its words' top
    const count = lines(range.getClientRects());
    if (count > 1) broken.push(el.tagName + ' ' + label + ' on ' + count + ' lines');
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
  // a short bracket after a value broken over lines (2020年12月31日（含首尾两 | 日）, a record's
  // 发证机构 …有限公司（网 | 证通） in a table's cell, the offline card's heading, a sentence
  // naming the CA) and a short part of a · line broken (发布时间 · 深圳市 · 费用 | 返还): a line
  // breaks between such units. Brackets anywhere a customer reads (until 12-07, late, in a
  // dd or td only: the offline card's （网证|通） was found by a test of its own)
  // A number and its unit (至多40|位 in the status page's hint at 360 px, 5|分钟) the same way
  // (since 12-07, late); and the footer's line too (the operator's name and its （演示）), which
  // every page shows below main
  const units = [];
  const brackets = [];  // the brackets alone (a name's （第一分公司） in a card on a customer page)
  const footer = main ? document.querySelector('.site-footer') : null;
  const unitNodes = [];
  for (const root of [main || document.body, footer].filter(Boolean)) {
    const unitWalker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
    for (let node = unitWalker.nextNode(); node; node = unitWalker.nextNode()) unitNodes.push(node);
  }
  // the footer's · line keeps each of its parts whole at any length (数字证书服务|平台 at 360 px,
  // 12-07), main's only its short ones
  const partLimit = (node) => (footer && footer.contains(node) ? Infinity : 6);
  for (const node of unitNodes) {
    const parent = node.parentElement;
    if (!parent || !visible(parent)) continue;
    const spans = [];
    if (!parent.closest('option, script, style, textarea') && !unseen(parent)) {
      for (const m of node.textContent.matchAll(/（[^（）]{1,6}）/g)) spans.push([m.index, m[0], true]);
      for (const m of node.textContent.matchAll(NUMBER_UNIT)) spans.push([m.index, m[0]]);
    }
    // the · line is the text's element, or the line an inline element of it is in (not a
    // table's row: 操作's 修改 · 复制为新项目 made the name's cell beside it a · line)
    const isInline = getComputedStyle(parent).display === 'inline';
    const list = parent.textContent.includes('·') ? parent : (isInline ? parent.parentElement : null);
    if (list && list.textContent.includes(' · ')) {
      let at = 0;
      for (const part of node.textContent.split('·')) {
        const word = part.trim();
        if (word && word.length <= partLimit(node)) spans.push([at + part.indexOf(word), word]);
        at += part.length + 1;
      }
    }
    for (const [at, word, bracket] of spans) {
      const range = document.createRange();
      range.setStart(node, at);
      range.setEnd(node, at + word.length);
      const tops = new Set([...range.getClientRects()].filter(r => r.width > 0).map(r => Math.round(r.bottom)));
      if (tops.size > 1) units.push(word);
      if (tops.size > 1 && bracket) brackets.push(word);
    }
  }
  // a reference number a customer reads out on the phone (申请 SQ20261120-000016 in an order's
  // 说明: |refs_whole makes it a .ref) or a short code (an order's ZF…, a fee's code) broken
  // over lines (SQ20261120-|000016 at its hyphen); a serial of 20 characters or more may wrap
  const refs = [];
  for (const el of (main || document.body).querySelectorAll('code, .ref')) {
    if (!visible(el)) continue;
    const word = el.textContent.trim();
    if (!word || (!el.matches('.ref') && (word.length >= 20 || /\s/.test(word)))) continue;
    const range = document.createRange();
    range.selectNodeContents(el);
    if (lines(range.getClientRects()) > 1) refs.push(word);
  }
  // and such a number in any text, not yet marked (the orders' 说明 before |refs_whole)
  const refWalker = document.createTreeWalker(main || document.body, NodeFilter.SHOW_TEXT);
  for (let node = refWalker.nextNode(); node; node = refWalker.nextNode()) {
    if (!node.parentElement || !visible(node.parentElement) || node.parentElement.closest('code, .ref')) continue;
    for (const m of node.textContent.matchAll(/(?<![A-Za-z0-9])[A-Z]{2}\d{8}-\d{6}(?!\d)/g)) {
      if (lines(textRects(node, m.index, m.index + m[0].length)) > 1) refs.push(m[0]);
    }
  }
  // a range of numbers a line may break at its hyphen (可办理1-|5年期 in 证书新办's choice at
  // 390 px) or of days between its characters (周一至周|五): every one outside a nowrap,
  // broken at this width or not
  const ranges = [];
  const rangeWalker = document.createTreeWalker(main || document.body, NodeFilter.SHOW_TEXT);
  for (let node = rangeWalker.nextNode(); node; node = rangeWalker.nextNode()) {
    const parent = node.parentElement;
    if (!parent || !visible(parent) || parent.closest('option, script, style, textarea')) continue;
    if (['nowrap', 'pre'].includes(getComputedStyle(parent).whiteSpace)) continue;
    for (const m of node.textContent.matchAll(/(?<![A-Za-z0-9_.\-])(?:\d{1,2}:\d{2}|[1-9]\d?|0)-(?:\d{1,2}:\d{2}|[1-9]\d?|0)(?![A-Za-z0-9_:\-]| \d{1,2}:\d{2})|周[一二三四五六日]至周[一二三四五六日]/g)) {
      ranges.push(m[0] + ' in ' + node.textContent.trim().slice(0, 24));
    }
  }
  // a table cell's word broken over lines on a wide screen: a code, a number, a login name
  // (SQ20261206-/000006, demo-/applicant, e5fb6b1056/67c78e) or a short label of a cell
  // (网上营业/厅, 待审/核, 发票类/型); a long name or an address may wrap
  const words = [];
  for (const cell of (main || document.body).querySelectorAll('td, th')) {
    if (!visible(cell)) continue;
    const texts = [];
    const walker = document.createTreeWalker(cell, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      if (node.textContent.trim() && visible(node.parentElement)) texts.push(node);
    }
    const label = cell.textContent.trim();
    if (label && label.length <= 6 && !/\s/.test(label)) {
      // broken inside the label; before a bracket (金额 | （元）) a unit may go to the next line
      let top = null;
      for (const node of texts) {
        for (let i = 0; i < node.textContent.length; i += 1) {
          const box = textRects(node, i, i + 1).find(r => r.width > 0);
          if (!box) continue;
          if (top !== null && box.top >= top + box.height / 2 && !/[（(]/.test(node.textContent[i])) {
            words.push(label);
          }
          top = box.top;
        }
      }
      continue;
    }
    // a code standing alone (a cell's value, a link, a <code>); inside running text it may
    // break as the text does
    for (const node of texts) {
      const word = node.textContent.trim();
      if (!/^[A-Za-z0-9][A-Za-z0-9@._:\-]{3,}$/.test(word)) continue;
      if (lines(textRects(node, 0, node.textContent.length)) > 1) words.push(word);
    }
  }
  // a checkbox or radio button on a line of its own above or below its words (置顶 under a
  // box as wide as a text field)
  const choices = [];
  for (const box of document.querySelectorAll('label input[type=checkbox], label input[type=radio]')) {
    const label = box.closest('label');
    if (!visible(box) || !visible(label)) continue;
    const b = box.getBoundingClientRect();
    const texts = [];
    const walker = document.createTreeWalker(label, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      if (node.textContent.trim()) texts.push(...textRects(node, 0, node.textContent.length));
    }
    const first = texts.filter(r => r.width > 0).sort((x, y) => x.top - y.top)[0];
    if (first && (b.bottom <= first.top || b.top >= first.bottom)) {
      choices.push(label.textContent.trim().slice(0, 16));
    }
  }
  // a form whose fields do not share one height (a native 19 px date field among 36 px text
  // fields: the refund programme's form)
  const fields = [];
  for (const form of document.querySelectorAll('form')) {
    const heights = [...form.querySelectorAll(
      'input[type=text], input[type=tel], input[type=email], input[type=number], ' +
      'input[type=date], input[type=password], input[type=search], input:not([type]), select'
    )].filter(el => visible(el) && !el.closest('[aria-hidden=true]'))  // not the bots' trap
      .map(el => Math.round(el.getBoundingClientRect().height));
    if (heights.length > 1 && Math.max(...heights) - Math.min(...heights) > 6) {
      fields.push((form.id || form.getAttribute('action') || 'form') + ': ' + [...new Set(heights)].join('/'));
    }
  }
  // what sticks out of its card (finance's 发票号码 field and 未选择文件 past the card's edge
  // at 1024 px), unless a table scrolls it inside itself
  const spill = [];
  for (const card of document.querySelectorAll('.card')) {
    if (!visible(card)) continue;
    const edge = card.getBoundingClientRect().right + 1;
    for (const el of card.querySelectorAll('input, select, textarea, button, a, code, img, td, th, span')) {
      if (!visible(el) || el.getBoundingClientRect().right <= edge) continue;
      let scrolled = false;
      for (let up = el.parentElement; up && up !== card; up = up.parentElement) {
        if (['auto', 'scroll', 'hidden'].includes(getComputedStyle(up).overflowX)) { scrolled = true; break; }
      }
      if (!scrolled) spill.push(el.tagName + ' ' + (el.textContent || el.name || el.placeholder || '').trim().slice(0, 16));
    }
  }
  // a row's button or field past the right edge of the box its table scrolls in, reached only
  // by scrolling (finance's 登记已开具 at 768 px, before its queues were cards on a tablet)
  const outOfSight = [];
  for (const el of (main || document.body).querySelectorAll('button, select, textarea, input:not([type=hidden])')) {
    if (!visible(el) || el.closest('[aria-hidden=true]')) continue;
    for (let up = el.parentElement; up && up !== main; up = up.parentElement) {
      if (!['auto', 'scroll'].includes(getComputedStyle(up).overflowX) || up.scrollWidth <= up.clientWidth + 1) continue;
      const box = up.getBoundingClientRect();
      if (el.getBoundingClientRect().right > box.left + up.clientLeft + up.clientWidth + 1) {
        outOfSight.push(el.tagName + ' ' + (el.textContent || el.name || el.placeholder || '').trim().slice(0, 16));
      }
      break;
    }
  }
  // a card's value past its card's right edge: a list's row shown as a card on a phone
  // (table.cards), a value kept whole (a .ref, a <code>, a .nowrap unit) wider than the card is
  // cut at the card's edge or scrolled with the table's box, out of the customer's sight
  for (const cell of (main || document.body).querySelectorAll('table.cards td')) {
    // the card is the row, or its tbody where a tbody's rows draw no box (display: contents: a
    // certificate's two rows of 我的证书, one card on a phone)
    const row = cell.closest('tr');
    const card = getComputedStyle(row).display === 'contents' ? row.parentElement : row;
    if (!visible(cell) || getComputedStyle(cell).display !== 'block') continue;
    const edge = card.getBoundingClientRect().right + 1;
    const range = document.createRange();
    range.selectNodeContents(cell);
    const right = Math.max(...[...range.getClientRects()].filter(r => r.width > 0).map(r => r.right));
    if (right > edge) {
      outOfSight.push('TD ' + (cell.dataset.label || '') + ' ' + cell.textContent.trim().slice(0, 20));
    }
  }
  // a numeric column's heading on more lines than one (金额|（元） at 1366 px)
  const numHeads = [];
  for (const th of document.querySelectorAll('th.num')) {
    // a list of cards keeps its headings for screen readers only (site.css's table.cards)
    if (!visible(th) || getComputedStyle(th.closest('thead') || th).position === 'absolute') continue;
    const range = document.createRange();
    range.selectNodeContents(th);
    if (lines(range.getClientRects()) > 1) numHeads.push(th.textContent.trim());
  }
  // a field beside a button on one row of a form, of another height (the consoles' 34 px fields
  // beside 40 px buttons; the officers' 21 px 返还项目 beside 切换); and one narrower than the
  // button beside it (the phone at 360 px beside 获取验证码's countdown, 60秒后重新获取, 12-07)
  const inline = [];
  const narrow = [];
  for (const form of (main || document.body).querySelectorAll('form')) {
    const name = form.id || form.className || form.getAttribute('action') || 'form';
    const buttons = [...form.querySelectorAll('.btn, button:not(.link)')].filter(visible).map(el => el.getBoundingClientRect());
    const fields = [...form.querySelectorAll('input[type=text], input[type=tel], input[type=search], input[type=date], input[type=number], input:not([type]), select')].filter(visible);
    for (const el of fields) {
      const f = el.getBoundingClientRect();
      const typed = el.tagName === 'INPUT' && ['text', 'tel', 'search'].includes(el.type);
      const least = 10 * parseFloat(getComputedStyle(el).fontSize);  // 10em: 11 digits and room
      for (const b of buttons) {
        if (!(f.top < b.bottom && b.top < f.bottom)) continue;
        // (a tel field's height is not compared: it never was)
        if (el.type !== 'tel' && Math.abs(f.height - b.height) > 2) inline.push(name + ': ' + Math.round(f.height) + '/' + Math.round(b.height));
        if (typed && (f.width < b.width || f.width < least)) narrow.push(name + ': ' + Math.round(f.width) + '<' + Math.round(Math.max(b.width, least)));
      }
    }
  }
  // a step of an application's progress path broken over lines (填写申/请, 已付/款，待/审核 in
  // six columns at 360 px)
  const path = [];
  for (const step of document.querySelectorAll('ol.path li')) {
    if (!visible(step)) continue;
    const range = document.createRange();
    range.selectNodeContents(step);
    if (lines(range.getClientRects()) > 1) path.push(step.textContent.trim());
  }
  // a value wider than its field, scrolled inside it (a 40-character serial on the renewal
  // page at 360 px, a 47-character one typed into 证书查询): the customer cannot read what
  // the page filled in or what was typed
  const scrolled = [];
  for (const el of document.querySelectorAll('input:not([type=hidden]):not([type=file]), textarea')) {
    // a one-row textarea standing for a field of one line (证书查询's serial) wraps its
    // value: lines hidden below its bottom are scrolled as well (a message's box may scroll)
    const hidden = el.scrollWidth > el.clientWidth + 1 ||
      (el.tagName === 'TEXTAREA' && el.rows === 1 && el.scrollHeight > el.clientHeight + 1);
    if (visible(el) && el.value && hidden) {
      scrolled.push((el.id || el.name) + ' ' + el.value.slice(0, 16));
    }
  }
  // a table's column squeezed to a character or two a line (finance's alerts at 1100-1366 px:
  // 30-character references kept whole left 单位 and 差异 two characters wide, 支/付/平/台…):
  // a cell's Chinese text of 4 characters or more on lines of fewer than 3 characters each
  const squeezed = [];
  for (const cell of (main || document.body).querySelectorAll('td, th')) {
    // a list of cards keeps its headings for screen readers only (1 px, clipped)
    if (!visible(cell) || getComputedStyle(cell.closest('thead') || cell).position === 'absolute') continue;
    const walker = document.createTreeWalker(cell, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      const text = node.textContent.replace(/\s+/g, '');
      if (text.length < 4 || !/[\u4e00-\u9fff]/.test(text) || !visible(node.parentElement)) continue;
      const count = lines(textRects(node, 0, node.textContent.length));
      if (count > 1 && text.length / count < 3) squeezed.push(text.slice(0, 16) + ' on ' + count + ' lines');
    }
  }
  // an item of a bar alone on a line of its own below the others: the consoles' bar (退出 under
  // the counter clerk's links at 768 px: who is logged in, its links and 退出) and the site's
  // header (我的账户 under the CA admin's ten other links at 768 px: the brand and its links)
  const barAlone = [];
  const bars = [
    [document.querySelector('main nav.console-nav'), '.console-who, a, form'],
    [document.querySelector('.site-header'), '.brand, .site-nav a'],
  ];
  for (const [bar, parts] of bars) {
    if (!bar || !visible(bar)) continue;
    const items = [...bar.querySelectorAll(parts)].filter(visible)
      .map(el => [el, el.getBoundingClientRect()]);
    const rows = [];
    for (const [el, r] of items.sort((x, y) => x[1].top - y[1].top)) {
      const row = rows.find(row => r.top < row.bottom - 1 && row.top < r.bottom - 1);
      if (row) { row.items.push(el); row.bottom = Math.max(row.bottom, r.bottom); } else rows.push({ top: r.top, bottom: r.bottom, items: [el] });
    }
    for (const row of rows.slice(1)) {
      if (row.items.length === 1) barAlone.push(row.items[0].textContent.trim().slice(0, 16));
    }
  }
  // a link's short label broken over lines (收据 | （PDF） at the end of a line in the staff
  // application's 办理 card at 1100 px): a label of 8 characters or fewer, without spaces
  const linkWords = [];
  for (const a of (main || document.body).querySelectorAll('a')) {
    const label = (a.textContent || '').trim();
    if (!visible(a) || !label || label.length > 8 || /\s/.test(label)) continue;
    const range = document.createRange();
    range.selectNodeContents(a);
    if (lines(range.getClientRects()) > 1) linkWords.push(label);
  }
  // the way back's line under the box that follows it: .crumbs pulls the hero's padding up
  // (margin-bottom -16 px), and a message's box there was drawn 4 px over the crumbs' line
  const overlaps = [];
  for (const crumbs of document.querySelectorAll('.crumbs')) {
    const next = crumbs.nextElementSibling;
    if (!visible(crumbs) || !next || !visible(next)) continue;
    // what is drawn: its text, and every box with a border or a background (the hero's
    // padding is not drawn; a message's box is)
    const range = document.createRange();
    range.selectNodeContents(next);
    const tops = [...range.getClientRects()].filter(r => r.width > 0 && r.height > 0).map(r => r.top);
    for (const el of [next, ...next.querySelectorAll('*')]) {
      const s = getComputedStyle(el);
      const drawn = parseFloat(s.borderTopWidth) > 0 || s.backgroundColor !== 'rgba(0, 0, 0, 0)';
      if (drawn && visible(el)) tops.push(el.getBoundingClientRect().top);
    }
    const bottom = crumbs.getBoundingClientRect().bottom;
    if (tops.length && Math.min(...tops) < bottom - 0.5) {
      overlaps.push(crumbs.textContent.trim().slice(0, 16) + ' under ' + next.className + ' by ' + Math.round(bottom - Math.min(...tops)));
    }
  }
  const staffNavs = document.querySelectorAll('main nav.console-nav');
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
    units: units.slice(0, 10),
    brackets: brackets.slice(0, 10),
    refs: refs.slice(0, 10),
    ranges: ranges.slice(0, 10),
    words: words.slice(0, 10),
    choices: choices.slice(0, 10),
    fields: fields.slice(0, 10),
    spill: spill.slice(0, 10),
    outOfSight: outOfSight.slice(0, 10),
    numHeads: numHeads.slice(0, 10),
    path: path.slice(0, 10),
    scrolled: scrolled.slice(0, 10),
    squeezed: squeezed.slice(0, 10),
    barAlone: barAlone.slice(0, 10),
    linkWords: linkWords.slice(0, 10),
    overlaps: overlaps.slice(0, 10),
    // the way back above the heading (网上营业厅 › 订单与缴费)
    crumbs: [...document.querySelectorAll('.crumbs a')].map(a => a.getAttribute('href')),
    // a console's own navigation (the hall's bar, the refund officers' buttons) or the way back
    inline: [...new Set(inline)].slice(0, 10),
    narrow: [...new Set(narrow)].slice(0, 10),
    // the staff consoles' one bar: who is logged in, the role's pages, 退出
    staffNav: {
      count: staffNavs.length,
      who: staffNavs.length ? (staffNavs[0].querySelector('.console-who') || {}).textContent || '' : '',
      logout: staffNavs.length ? !!staffNavs[0].querySelector('form[action="/accounts/logout/"] button') : false,
      links: staffNavs.length ? [...staffNavs[0].querySelectorAll('a')].map(a => a.textContent.trim()) : [],
    },
    consoleNav: !!document.querySelector('main .console-nav a, main nav[aria-label] a, main .crumbs a'),
  };
})
