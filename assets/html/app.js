// imgscope HTML report: draws the views from the JSON embedded in this page
// (#imgscope-data: the `--format json` report plus the size tree of the
// final filesystem). Plain script, no library, no network.
(function () {
  'use strict';
  var D = JSON.parse(document.getElementById('imgscope-data').textContent);
  var R = D.report, S = R.summary, T = D.files, DIFF = D.diff || null;
  var LAYERS = R.layers || [];
  var KINDS = ['removed', 'overwritten', 'metadata_only', 'moved', 'cache'];
  var KIND_TEXT = {
    removed: 'removed by a later layer', overwritten: 'overwritten by a later layer',
    metadata_only: 'stored again with the same content (chmod/chown/touch)',
    moved: 'moved to another path', cache: 'cache or temp file left in the image',
    ignored: 'hidden, under --ignore'
  };
  var KIND_LABEL = D.kind_labels || {};
  function kindLabel(k) { return KIND_LABEL[k] || k; }
  var state = { layer: null, kind: null, zoom: [T.root], query: '', sort: { key: 'bytes', dir: -1 }, limit: 200 };

  // ---------- helpers ----------
  function el(tag, attrs) {
    var e = document.createElement(tag);
    setAttrs(e, attrs);
    for (var i = 2; i < arguments.length; i++) add(e, arguments[i]);
    return e;
  }
  var SVGNS = 'http://www.w3.org/2000/svg';
  function svg(tag, attrs) {
    var e = document.createElementNS(SVGNS, tag);
    setAttrs(e, attrs);
    for (var i = 2; i < arguments.length; i++) add(e, arguments[i]);
    return e;
  }
  function setAttrs(e, attrs) {
    if (!attrs) return;
    Object.keys(attrs).forEach(function (k) {
      var v = attrs[k];
      if (v === null || v === undefined || v === false) return;
      if (k === 'text') e.textContent = v;
      else if (k.slice(0, 2) === 'on') e.addEventListener(k.slice(2), v);
      else e.setAttribute(k, v === true ? '' : String(v));
    });
  }
  function add(e, kid) {
    if (kid === null || kid === undefined || kid === false) return;
    if (Array.isArray(kid)) { kid.forEach(function (k) { add(e, k); }); return; }
    e.appendChild(typeof kid === 'object' ? kid : document.createTextNode(String(kid)));
  }
  function clear(e) { while (e.firstChild) e.removeChild(e.firstChild); return e; }
  function $(id) { return document.getElementById(id); }
  // Decimal units, as the text report prints them.
  function human(n) {
    if (n < 1000) return n + ' B';
    var u = ['kB', 'MB', 'GB', 'TB', 'PB'], i = -1;
    do { n /= 1000; i++; } while (n >= 1000 && i < u.length - 1);
    return n.toFixed(2) + ' ' + u[i];
  }
  function exact(n) { return n.toLocaleString('en-US') + ' bytes'; }
  function pct(a, b) { return b ? (a * 100 / b).toFixed(2) + '%' : '0.00%'; }
  function pathText(p) {
    if (typeof p === 'string') return p;
    if (p && p.bytes_base64) {
      var raw = atob(p.bytes_base64), s = '';
      for (var i = 0; i < raw.length; i++) {
        var c = raw.charCodeAt(i);
        s += c >= 32 && c < 127 ? raw[i] : '\\x' + (c < 16 ? '0' : '') + c.toString(16);
      }
      return s;
    }
    return String(p);
  }
  function command(i) { return (D.commands && D.commands[i]) || (LAYERS[i] && LAYERS[i].created_by) || ''; }
  function layerName(i) { return i === null || i === undefined ? '—' : '#' + i; }
  var dark = window.matchMedia ? window.matchMedia('(prefers-color-scheme: dark)') : null;
  function layerColor(i) {
    var hue = (i * 137.508 + 205) % 360;
    return dark && dark.matches ? 'hsl(' + hue.toFixed(1) + ',45%,38%)' : 'hsl(' + hue.toFixed(1) + ',60%,70%)';
  }
  var KIND_COLOR = { removed: '--hidden', overwritten: '--hidden', metadata_only: '--hidden', moved: '--hidden', cache: '--cache', ignored: '--ignored' };
  function cssVar(name) { return getComputedStyle(document.documentElement).getPropertyValue(name).trim(); }
  // Bytes of a node (or hidden area), or only those a layer stored.
  function valueOf(item) {
    if (state.layer === null) return item.b;
    var l = item.l, L = state.layer;
    if (typeof l === 'number') return l === L ? item.b : 0;
    for (var i = 0; l && i < l.length; i++) if (l[i][0] === L) return l[i][1];
    return 0;
  }
  function topLayer(item) {
    var l = item.l;
    if (typeof l === 'number') return l;
    var best = null, bb = -1;
    for (var i = 0; l && i < l.length; i++) if (l[i][1] > bb) { bb = l[i][1]; best = l[i][0]; }
    return best;
  }

  // ---------- header, summary, checks ----------
  function header() {
    var im = R.image || {};
    var bits = [im.format, (im.os || '') + (im.architecture ? '/' + im.architecture : ''), im.source];
    if (im.tags && im.tags.length) bits.unshift(im.tags.join(', '));
    $('image-meta').textContent = bits.filter(Boolean).join(' · ');
    var v = $('verdict'), checks = (DIFF ? DIFF.checks : R.checks) || [];
    if (checks.length) {
      var failed = checks.filter(function (c) { return !c.passed; }).length;
      add(v, [el('span', { 'class': 'badge ' + (failed ? 'fail' : 'pass'), text: failed ? 'FAIL' : 'PASS' }), ' ',
        (failed || checks.length) + ' of ' + checks.length + ' check' + (checks.length === 1 ? '' : 's') + (failed ? ' failed' : ' passed')]);
    }
    $('footer').textContent = 'Made by ' + D.generator + ' from the same report as --format json (embedded in this file as #imgscope-data).';
  }
  function summary() {
    var cards = [
      ['total_bytes', 'total (all layers)', S.total_bytes, S.layer_count + ' layers'],
      ['visible_bytes', 'visible', S.visible_bytes, S.file_count + ' files'],
      ['wasted_bytes', 'wasted', S.wasted_bytes, pct(S.wasted_bytes, S.total_bytes) + ' of total'],
      ['hidden_bytes', 'hidden', S.hidden_bytes, 'shipped, not visible'],
      ['cache_bytes', 'cache', S.cache_bytes, 'caches and temp files']
    ];
    if (typeof S.optional_bytes === 'number') cards.push(['optional_bytes', 'optional', S.optional_bytes, 'trade-offs, not waste']);
    var baseLayers = LAYERS.filter(function (l) { return l.in_base; }).length;
    if (baseLayers && typeof S.user_wasted_bytes === 'number') {
      cards.push(['user_wasted_bytes', 'wasted by your layers', S.user_wasted_bytes,
        'of ' + human(S.user_bytes) + '; base image (layers #0–#' + (baseLayers - 1) + '): ' + human(S.wasted_bytes - S.user_wasted_bytes)]);
    }
    var box = $('summary');
    cards.forEach(function (c) {
      add(box, el('div', { 'class': 'card', 'data-field': c[0], 'data-bytes': c[2], title: exact(c[2]) },
        el('div', { 'class': 'k', text: c[1] }), el('div', { 'class': 'v', text: human(c[2]) }), el('div', { 'class': 'x', text: c[3] })));
    });
    add(box, el('div', { 'class': 'card', 'data-field': 'efficiency' },
      el('div', { 'class': 'k', text: 'efficiency' }),
      el('div', { 'class': 'v', text: (S.total_bytes ? S.efficiency * 100 : 100).toFixed(2) + '%' }),
      el('div', { 'class': 'x', text: '1 − wasted / total' })));
    if (D.ignored) {
      add(box, el('div', { 'class': 'card', 'data-field': 'ignored', 'data-bytes': D.ignored.bytes },
        el('div', { 'class': 'k', text: 'ignored' }), el('div', { 'class': 'v', text: human(D.ignored.bytes) }),
        el('div', { 'class': 'x', text: D.ignored.findings + ' findings under ' + D.ignored.globs.join(', ') })));
    }
    var checks = (DIFF ? DIFF.checks : R.checks) || [];
    if (!checks.length) { add($('checks'), el('p', { 'class': 'note', text: 'No CI checks were configured for this report.' })); return; }
    add($('checks'), el('div', { 'class': 'scroll' }, el('table', { id: 'checks-table' },
      el('caption', { 'class': 'sr', text: 'CI checks' }),
      el('thead', null, el('tr', null, el('th', { text: 'Result' }), el('th', { text: 'Check' }), el('th', { text: 'Actual' }), el('th', { text: 'Limit' }))),
      el('tbody', null, checks.map(function (c) {
        return el('tr', { 'data-check': c.name, 'data-passed': String(c.passed) },
          el('td', null, el('span', { 'class': 'badge ' + (c.passed ? 'pass' : 'fail'), text: c.passed ? 'PASS' : 'FAIL' })),
          el('td', { 'class': 'mono', text: c.name }), el('td', { text: c.actual }), el('td', { text: c.limit }));
      })))));
  }

  // ---------- treemap ----------
  // Squarified layout (Bruls, Huizing, van Wijk): items sorted by value,
  // laid in rows along the shorter side while the worst aspect improves.
  function squarify(items, x, y, w, h) {
    var total = 0, out = [];
    items.forEach(function (it) { total += it.v; });
    if (total <= 0 || w <= 0 || h <= 0) return out;
    var scale = (w * h) / total, i = 0;
    while (i < items.length) {
      var side = Math.min(w, h), row = [], rowSum = 0, worst = Infinity;
      while (i < items.length) {
        var a = items[i].v * scale, s2 = rowSum + a, mx = a, mn = a;
        for (var j = 0; j < row.length; j++) { mx = Math.max(mx, row[j]); mn = Math.min(mn, row[j]); }
        var nw = Math.max(side * side * mx / (s2 * s2), (s2 * s2) / (side * side * mn));
        if (row.length && nw > worst) break;
        row.push(a); rowSum = s2; worst = nw; i++;
      }
      var thick = rowSum / side, off = 0, start = i - row.length;
      for (var k = 0; k < row.length; k++) {
        var len = row[k] / thick, it = items[start + k];
        if (w >= h) out.push({ item: it, x: x, y: y + off, w: thick, h: len });
        else out.push({ item: it, x: x + off, y: y, w: len, h: thick });
        off += len;
      }
      if (w >= h) { x += thick; w -= thick; } else { y += thick; h -= thick; }
    }
    return out;
  }
  function zoomPath() {
    var names = state.zoom.slice(1).map(function (n) { return n.n; });
    return '/' + names.join('/');
  }
  function join(dir, name) { return dir === '/' ? '/' + name : dir + '/' + name; }
  function describe(it) {
    var n = it.node, lines = [];
    if (it.hidden) {
      lines.push(it.label);
      lines.push(human(it.v) + ' (' + exact(it.v) + '), ' + (it.hidden.findings || 0) + ' findings');
      lines.push(KIND_TEXT[it.hidden.kind] || '');
      return lines;
    }
    lines.push(it.path);
    lines.push(human(it.v) + ' (' + exact(it.v) + ')' + (n.k !== 'file' ? ', ' + n.f + ' files' : ''));
    var top = topLayer(n);
    if (top !== null) {
      var multi = typeof n.l !== 'number' && n.l.length > 1;
      lines.push((multi ? 'mostly layer ' : 'layer ') + layerName(top) + ': ' + command(top));
    }
    if (n.x) lines.push('cache (' + n.x + ')');
    else if (n.cb) lines.push('cache inside: ' + human(n.cb));
    return lines;
  }
  var tip = $('tooltip');
  function showTip(it, evt) {
    var lines = describe(it);
    $('tm-info').textContent = lines.join(' · ');
    if (!evt) { tip.hidden = true; return; }
    clear(tip);
    lines.forEach(function (l, i) { add(tip, el('div', i === 0 ? { 'class': 'mono' } : null, l)); });
    tip.hidden = false;
    var x = evt.clientX + 14, y = evt.clientY + 14;
    var r = tip.getBoundingClientRect();
    if (x + r.width > window.innerWidth - 4) x = Math.max(4, evt.clientX - r.width - 14);
    if (y + r.height > window.innerHeight - 4) y = Math.max(4, evt.clientY - r.height - 14);
    tip.style.left = x + 'px'; tip.style.top = y + 'px';
  }
  function hideTip() { tip.hidden = true; }
  function itemsOf(node, dirPath, withHidden) {
    var items = [];
    (node.c || []).forEach(function (c) {
      var v = valueOf(c);
      if (v > 0) {
        var label = c.k === 'small' ? c.f + ' small ' + (c.x ? 'cache files' : 'files') : c.n;
        items.push({ v: v, node: c, label: label, path: c.k === 'small' ? join(dirPath, '(' + label + ')') : join(dirPath, c.n) });
      }
    });
    if (withHidden) {
      (T.hidden || []).forEach(function (h) {
        var v = valueOf({ b: h.bytes, l: h.layers });
        if (v > 0) items.push({ v: v, hidden: h, label: 'hidden: ' + kindLabel(h.kind), path: 'hidden:' + h.kind });
      });
      if (T.ignored_hidden > 0 && state.layer === null) {
        items.push({ v: T.ignored_hidden, hidden: { kind: 'ignored', findings: D.ignored ? D.ignored.findings : 0 }, label: 'hidden: ignored', path: 'hidden:ignored' });
      }
    }
    items.sort(function (a, b) { return b.v - a.v || (a.path < b.path ? -1 : 1); });
    return items;
  }
  function drawTreemap() {
    var box = $('treemap');
    var W = Math.max(280, Math.round(box.clientWidth || 800));
    var H = Math.round(Math.max(260, Math.min(620, W * 0.6)));
    var node = state.zoom[state.zoom.length - 1], dir = zoomPath();
    var atRoot = state.zoom.length === 1;
    var items = itemsOf(node, dir, atRoot);
    var root = svg('svg', { viewBox: '0 0 ' + W + ' ' + H, width: W, height: H, role: 'group', 'aria-label': 'Treemap of ' + dir + ' by bytes', 'data-zoom': dir });
    var defs = svg('defs');
    ['hidden', 'cache', 'ignored'].forEach(function (k) {
      var c = cssVar('--' + k);
      add(defs, svg('pattern', { id: 'hatch-' + k, width: 8, height: 8, patternUnits: 'userSpaceOnUse', patternTransform: 'rotate(45)' },
        svg('rect', { width: 8, height: 8, fill: c, 'fill-opacity': 0.25 }),
        svg('rect', { width: 3, height: 8, fill: c })));
    });
    add(root, defs);
    if (!items.length) {
      add(root, svg('text', { x: 12, y: 24, 'class': 'empty', fill: cssVar('--muted'), text: state.layer === null ? 'No bytes here.' : 'Layer ' + state.layer + ' stored no visible bytes here.' }));
    }
    squarify(items, 0, 0, W, H).forEach(function (r) { drawItem(root, r, 1); });
    clear(box);
    add(box, root);
    crumbs();
    var note = $('filter-note');
    clear(note);
    if (state.layer !== null || state.kind !== null) {
      var what = [];
      if (state.layer !== null) what.push('layer #' + state.layer + ' (' + command(state.layer) + ')');
      if (state.kind !== null) what.push('kind ' + kindLabel(state.kind));
      add(note, ['Showing only ' + what.join(', ') + '. ', el('button', { type: 'button', onclick: function () { setLayer(null); setKind(null); }, text: 'Show everything' })]);
    }
  }
  function fillOf(it) {
    if (it.hidden) return 'url(#hatch-' + (it.hidden.kind === 'ignored' ? 'ignored' : 'hidden') + ')';
    var t = topLayer(it.node);
    return t === null ? cssVar('--ignored') : layerColor(t);
  }
  function drawItem(parent, r, depth) {
    var it = r.item, n = it.node;
    var kind = it.hidden ? 'hidden' : n.k;
    var zoomable = kind === 'dir' && (n.c || []).length > 0;
    var g = svg('g', {
      'class': 'tm-item ' + kind, 'data-path': it.path, 'data-bytes': it.v, 'data-depth': depth,
      'data-x': r.x.toFixed(3), 'data-y': r.y.toFixed(3), 'data-w': r.w.toFixed(3), 'data-h': r.h.toFixed(3),
      tabindex: depth === 1 ? 0 : -1, role: zoomable || it.hidden ? 'button' : 'img',
      'aria-label': describe(it).join(', ') + (zoomable ? '. Zoom in.' : it.hidden ? '. Show these findings.' : '')
    });
    add(g, svg('rect', { 'class': 'box', x: r.x, y: r.y, width: r.w, height: r.h, fill: fillOf(it), 'fill-opacity': kind === 'small' ? 0.7 : 1 }));
    if (!it.hidden && (n.x || n.cb) && state.layer === null) {
      // Cache bytes hatched: the whole rectangle for a cache file, a band of
      // proportional area at the bottom of a directory holding caches.
      var ch = n.x ? r.h : r.h * Math.min(1, n.cb / Math.max(1, n.b));
      add(g, svg('rect', { 'class': 'cache-band', x: r.x, y: r.y + r.h - ch, width: r.w, height: ch, fill: 'url(#hatch-cache)', 'pointer-events': 'none' }));
    }
    var head = 0;
    var fits = r.w > 46 && r.h > 16;
    if (fits) {
      var maxc = Math.floor((r.w - 8) / 7);
      var label = it.label.length > maxc ? it.label.slice(0, Math.max(1, maxc - 1)) + '…' : it.label;
      var sizeText = human(it.v);
      add(g, svg('text', { x: r.x + 4, y: r.y + 13, 'class': depth === 1 ? 'head' : '', text: label + (label.length + sizeText.length + 2 <= maxc ? '  ' + sizeText : '') }));
      head = 18;
    }
    // One more level inside large directories, so the eye sees the structure.
    if (depth === 1 && zoomable && r.w > 80 && r.h > 60) {
      var inner = itemsOf(n, it.path, false);
      squarify(inner, r.x + 3, r.y + head, r.w - 6, r.h - head - 3).forEach(function (c) { drawItem(g, c, 2); });
    }
    g.addEventListener('mousemove', function (e) { e.stopPropagation(); showTip(it, e); });
    g.addEventListener('mouseleave', hideTip);
    g.addEventListener('focus', function () { showTip(it, null); });
    g.addEventListener('click', function (e) {
      e.stopPropagation();
      activate(it, depth, r);
    });
    g.addEventListener('keydown', function (e) {
      if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); activate(it, depth, r); }
    });
    add(parent, g);
  }
  function activate(it, depth, r) {
    hideTip();
    if (it.hidden) {
      setKind(it.hidden.kind === 'ignored' ? null : it.hidden.kind);
      $('findings-section').scrollIntoView({ block: 'start' });
      return;
    }
    if (it.node.k !== 'dir' || !(it.node.c || []).length) return;
    if (depth === 2) {
      // A directory drawn inside its parent: zoom to the parent, then to it.
      var top = findChild(state.zoom[state.zoom.length - 1], it.path);
      if (top) state.zoom.push(top);
    }
    state.zoom.push(it.node);
    drawTreemap();
    focusFirst();
  }
  function findChild(node, path) {
    var base = zoomPath(), rest = path.slice(base === '/' ? 1 : base.length + 1), first = rest.split('/')[0];
    var found = null;
    (node.c || []).forEach(function (c) { if (c.k === 'dir' && c.n === first) found = c; });
    return found;
  }
  function focusFirst() {
    var first = document.querySelector('#treemap .tm-item[data-depth="1"]');
    if (first) first.focus();
  }
  function crumbs() {
    var nav = clear($('crumbs')), ol = el('ol');
    state.zoom.forEach(function (n, i) {
      var last = i === state.zoom.length - 1;
      add(ol, el('li', null, el('button', {
        type: 'button', 'aria-current': last ? 'location' : null, text: i === 0 ? '/ (image)' : n.n,
        onclick: function () { state.zoom = state.zoom.slice(0, i + 1); drawTreemap(); focusFirst(); }
      })));
    });
    add(nav, ol);
  }
  function legend() {
    var box = clear($('legend'));
    LAYERS.forEach(function (l, i) {
      if (!T.layers[i] || !(T.layers[i].visible + T.layers[i].cache)) return;
      add(box, el('span', { title: command(i) }, el('span', { 'class': 'sw', style: 'background:' + layerColor(i) }), 'layer #' + i));
    });
    add(box, el('span', null, el('span', { 'class': 'sw seg-hidden' }), 'hidden'));
    add(box, el('span', null, el('span', { 'class': 'sw', style: 'background: repeating-linear-gradient(45deg, var(--cache) 0 3px, transparent 3px 6px)' }), 'cache'));
  }

  // ---------- layer chart ----------
  function layersChart() {
    var box = $('layers'), max = 1;
    LAYERS.forEach(function (l) { max = Math.max(max, l.bytes); });
    var list = el('div', { role: 'list', id: 'layer-list' });
    LAYERS.forEach(function (l, i) {
      var s = T.layers[i] || { visible: 0, cache: 0, hidden: 0 };
      var ignored = Math.max(0, l.bytes - s.visible - s.cache - s.hidden);
      var seg = function (cls, v, what) {
        return v > 0 ? el('span', { 'class': cls, style: 'width:' + (v * 100 / max).toFixed(3) + '%', title: what + ': ' + human(v) }) : null;
      };
      var fig = human(l.bytes) + (l.wasted_bytes ? ' · waste ' + human(l.wasted_bytes) : '');
      add(list, el('div', { role: 'listitem' }, el('button', {
        type: 'button', 'class': 'layer-row' + (l.in_base ? ' base' : ''), 'data-layer': i, 'data-base': l.in_base ? '1' : '0', 'aria-pressed': 'false',
        'aria-label': 'Layer ' + i + (l.in_base ? ' (base image)' : '') + ': ' + command(i) + '. ' + human(l.bytes) + ': visible ' + human(s.visible) + ', cache ' + human(s.cache) + ', hidden ' + human(s.hidden + ignored) + '. Show only this layer.',
        onclick: function () { setLayer(state.layer === i ? null : i); }
      },
        el('span', { 'class': 'cmd mono', title: command(i) }, el('span', { 'class': 'sw', style: 'background:' + layerColor(i) }),
          l.in_base ? el('span', { 'class': 'base-tag', title: 'a layer of the base image', text: 'base' }) : null, '#' + i + ' ' + command(i)),
        el('span', { 'class': 'bar', 'aria-hidden': 'true' }, seg('seg-visible', s.visible, 'visible'), seg('seg-cache', s.cache, 'cache'), seg('seg-hidden', s.hidden, 'hidden'), seg('seg-ignored', ignored, 'ignored')),
        el('span', { 'class': 'fig', text: fig }))));
    });
    add(box, list);
    add(box, el('div', { 'class': 'legend' },
      el('span', null, el('span', { 'class': 'sw seg-visible' }), 'visible'),
      el('span', null, el('span', { 'class': 'sw seg-cache' }), 'cache'),
      el('span', null, el('span', { 'class': 'sw seg-hidden' }), 'hidden (removed, overwritten, metadata-only, moved)')));
  }
  function setLayer(i) {
    state.layer = i;
    state.limit = 200;
    document.querySelectorAll('.layer-row').forEach(function (b) {
      b.setAttribute('aria-pressed', String(Number(b.getAttribute('data-layer')) === i));
    });
    drawTreemap();
    drawFindings();
  }
  function setKind(k) {
    state.kind = k;
    state.limit = 200;
    var sel = $('kind-filter');
    if (sel) sel.value = k || '';
    drawTreemap();
    drawFindings();
  }

  // ---------- fixes ----------
  function copyText(text, status) {
    function done(ok) { status.textContent = ok ? 'Copied.' : 'Select the text and copy it.'; }
    function fallback() {
      var ta = el('textarea', { 'aria-hidden': 'true', style: 'position:fixed;left:-9999px' });
      ta.value = text;
      document.body.appendChild(ta);
      ta.select();
      var ok = false;
      try { ok = document.execCommand('copy'); } catch (e) { ok = false; }
      document.body.removeChild(ta);
      done(ok);
    }
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(function () { done(true); }, fallback);
    } else fallback();
  }
  function fixes() {
    var box = $('fixes'), list = R.suggestions || [];
    if (!list.length) { add(box, el('p', { 'class': 'note', text: 'No fixes: nothing to save by changing the build.' })); return; }
    var total = 0;
    list.forEach(function (s) { total += s.saves_bytes; });
    add(box, el('p', { 'class': 'hint', text: list.length + ' fixes: your layers first, then the base image\'s, each group largest saving first; together they save ' + human(total) + ' (no byte is counted by two fixes).' }));
    var ol = el('ol', { id: 'fix-list', style: 'padding-left:1.2em' });
    list.forEach(function (s, i) {
      var status = el('span', { 'class': 'sr', 'aria-live': 'polite' });
      var snip = function (which, text) {
        var id = 'fix-' + i + '-' + which;
        return el('div', null, el('div', { 'class': 'snip-head' }, el('span', { id: id + '-h', text: which === 'before' ? 'Before' : 'After' }),
          el('button', { type: 'button', 'class': 'copy', 'aria-label': 'Copy the ' + which + ' snippet of fix ' + (i + 1), onclick: function () { copyText(text, status); }, text: 'Copy' })),
          el('pre', { id: id, 'aria-labelledby': id + '-h' }, el('code', { text: text })));
      };
      add(ol, el('li', { 'class': 'fix', 'data-id': s.id, 'data-saves': s.saves_bytes },
        el('h3', { text: s.title }),
        el('div', null, el('span', { 'class': 'saves', text: 'saves ' + human(s.saves_bytes) }), ' (' + exact(s.saves_bytes) + ') · layers ' + (s.layers || []).map(layerName).join(', ') +
          (s.dockerfile_lines && s.dockerfile_lines.length ? ' · Dockerfile lines ' + s.dockerfile_lines.join(', ') : '')),
        s.why ? el('p', { text: s.why }) : null,
        el('div', { 'class': 'snips' }, snip('before', s.before || ''), s.after ? snip('after', s.after) : (s.no_after ? el('p', { 'class': 'note', text: 'No After: ' + s.no_after }) : null)),
        status));
    });
    add(box, ol);
  }

  // ---------- findings ----------
  var COLS = [
    { key: 'path', title: 'Path' }, { key: 'kind', title: 'Kind' }, { key: 'bytes', title: 'Bytes', num: true },
    { key: 'stored_in_layer', title: 'Stored in', num: true }, { key: 'hidden_by_layer', title: 'Hidden by', num: true, opt: true },
    { key: 'rule', title: 'Rule', opt: true }
  ];
  var rows = (R.waste || []).map(function (f, i) { return { f: f, i: i, path: pathText(f.path) }; });
  function findingsFrame() {
    var box = $('findings');
    var shown = (R.waste || []).length;
    if (D.findings_total > shown) {
      add(box, el('p', { 'class': 'note', id: 'findings-cut', text: 'This page lists the largest ' + shown + ' of ' + D.findings_total + ' findings; the totals cover all of them, and --format json lists every one.' }));
    }
    var search = el('input', { type: 'search', id: 'finding-search', placeholder: 'Search path, rule or kind', 'aria-label': 'Search findings' });
    search.addEventListener('input', function () { state.query = search.value.toLowerCase(); state.limit = 200; drawFindings(); });
    var kind = el('select', { id: 'kind-filter', 'aria-label': 'Kind of finding' }, el('option', { value: '', text: 'every kind' }),
      KINDS.map(function (k) { return el('option', { value: k, text: kindLabel(k) }); }));
    kind.addEventListener('change', function () { setKind(kind.value || null); });
    add(box, el('div', { 'class': 'controls' }, search, kind, el('span', { id: 'finding-count', role: 'status' })));
    var thead = el('tr', null, COLS.map(function (c) {
      return el('th', { scope: 'col', 'class': (c.num ? 'num ' : '') + (c.opt ? 'opt' : ''), 'data-key': c.key },
        el('button', { type: 'button', text: c.title, onclick: function () {
          state.sort = { key: c.key, dir: state.sort.key === c.key ? -state.sort.dir : (c.num ? -1 : 1) };
          drawFindings();
        } }));
    }));
    add(box, el('div', { 'class': 'scroll' }, el('table', { id: 'findings-table' },
      el('caption', { 'class': 'sr', text: 'Findings: hidden and cache bytes' }), el('thead', null, thead), el('tbody', { id: 'findings-body' }))));
    add(box, el('button', { type: 'button', id: 'findings-more', 'class': 'more', hidden: true, text: 'Show more', onclick: function () { state.limit += 500; drawFindings(); } }));
  }
  function matches(r) {
    var f = r.f;
    if (state.layer !== null && f.stored_in_layer !== state.layer && f.hidden_by_layer !== state.layer) return false;
    if (state.kind !== null && f.kind !== state.kind) return false;
    if (state.query) {
      var hay = (r.path + ' ' + f.kind + ' ' + kindLabel(f.kind) + ' ' + (f.rule || '')).toLowerCase();
      if (hay.indexOf(state.query) < 0) return false;
    }
    return true;
  }
  function drawFindings() {
    var body = $('findings-body');
    if (!body) return;
    var list = rows.filter(matches), key = state.sort.key, dir = state.sort.dir;
    list.sort(function (a, b) {
      var x = key === 'path' ? a.path : a.f[key], y = key === 'path' ? b.path : b.f[key];
      if (x === null || x === undefined) x = key === 'rule' ? '' : -1;
      if (y === null || y === undefined) y = key === 'rule' ? '' : -1;
      return (x < y ? -1 : x > y ? 1 : 0) * dir || a.i - b.i;
    });
    document.querySelectorAll('#findings-table th').forEach(function (th) {
      var k = th.getAttribute('data-key');
      if (k === key) th.setAttribute('aria-sort', dir > 0 ? 'ascending' : 'descending'); else th.removeAttribute('aria-sort');
    });
    clear(body);
    var frag = document.createDocumentFragment(), bytes = 0;
    list.forEach(function (r) { bytes += r.f.bytes; });
    list.slice(0, state.limit).forEach(function (r) {
      var f = r.f;
      add(frag, el('tr', { 'data-index': r.i, 'data-stored': f.stored_in_layer, 'data-hidden-by': f.hidden_by_layer === null ? '' : f.hidden_by_layer, 'data-base': f.in_base ? '1' : '0', 'class': f.in_base ? 'base' : '' },
        el('td', { 'class': 'path mono', text: r.path }), el('td', { 'class': 'kind', text: kindLabel(f.kind), title: KIND_TEXT[f.kind] || '' }),
        el('td', { 'class': 'num', text: human(f.bytes), title: exact(f.bytes) }),
        el('td', { 'class': 'num', title: command(f.stored_in_layer) + (f.in_base ? ' (base image: only another base removes it)' : '') },
          f.in_base ? el('span', { 'class': 'base-tag', text: 'base' }) : null, layerName(f.stored_in_layer)),
        el('td', { 'class': 'num opt', text: layerName(f.hidden_by_layer), title: f.hidden_by_layer === null ? '' : command(f.hidden_by_layer) }),
        el('td', { 'class': 'opt mono', text: f.rule || '' })));
    });
    if (!list.length) add(frag, el('tr', null, el('td', { colspan: COLS.length, 'class': 'note', text: rows.length ? 'No finding matches.' : 'No findings: no hidden bytes and no caches.' })));
    body.appendChild(frag);
    $('finding-count').textContent = list.length + ' of ' + rows.length + ' findings, ' + human(bytes);
    $('finding-count').setAttribute('data-count', list.length);
    var more = $('findings-more');
    more.hidden = list.length <= state.limit;
  }

  // ---------- diff: what changed since the old image ----------
  function signed(n) { return (n > 0 ? '+' : n < 0 ? '−' : '±') + human(Math.abs(n)); }
  function table(id, caption, heads, rows) {
    return el('div', { 'class': 'scroll' }, el('table', { id: id },
      el('caption', { 'class': 'sr', text: caption }),
      el('thead', null, el('tr', null, heads.map(function (h) { return el('th', { scope: 'col', 'class': h[1] ? 'num' : '', text: h[0] }); }))),
      el('tbody', null, rows)));
  }
  function diffSection() {
    if (!DIFF) return;
    $('diff-section').hidden = false;
    var box = $('diff'), o = DIFF.old, n = DIFF.new, tot = DIFF.totals || {};
    add(box, el('p', { 'class': 'hint', text: 'Old: ' + (o.tags && o.tags[0] || o.source) + ' → new: ' + (n.tags && n.tags[0] || n.source) + '. The views below this section are the new image\'s.' }));
    var cards = el('div', { 'class': 'cards', id: 'diff-cards' });
    [['total_bytes', 'total', 'total_delta'], ['visible_bytes', 'visible', 'visible_delta'], ['wasted_bytes', 'wasted', 'wasted_delta'],
      ['hidden_bytes', 'hidden', 'hidden_delta'], ['cache_bytes', 'cache', 'cache_delta'], ['pull_bytes', 'pull', 'pull_delta']].forEach(function (c) {
      var d = DIFF[c[2]];
      add(cards, el('div', { 'class': 'card', 'data-field': c[2], 'data-delta': d, title: exact(o[c[0]]) + ' → ' + exact(n[c[0]]) },
        el('div', { 'class': 'k', text: c[1] }), el('div', { 'class': 'v ' + (d > 0 ? 'fail' : d < 0 ? 'pass' : ''), text: signed(d) }),
        el('div', { 'class': 'x', text: human(o[c[0]]) + ' → ' + human(n[c[0]]) })));
    });
    add(box, cards);
    add(box, el('h3', { text: 'Layers' }));
    add(box, table('diff-layers', 'Layers, old and new aligned', [['Status'], ['Old', 1], ['New', 1], ['Instruction'], ['Bytes', 1], ['Waste', 1]],
      DIFF.layers.map(function (l) {
        return el('tr', { 'data-status': l.status }, el('td', { text: l.status }), el('td', { 'class': 'num', text: layerName(l.old) }),
          el('td', { 'class': 'num', text: layerName(l.new) }), el('td', { 'class': 'mono', text: l.created_by_new || l.created_by_old || '' }),
          el('td', { 'class': 'num', text: signed(l.bytes_delta) }), el('td', { 'class': 'num', text: signed(l.wasted_delta) }));
      })));
    var findingRows = function (list, sign) {
      return list.slice(0, 200).map(function (f) {
        var x = f.new ? f.new : f;
        return el('tr', null, el('td', { 'class': 'path mono', text: pathText(x.path) }), el('td', { 'class': 'kind', text: kindLabel(x.kind) }),
          el('td', { 'class': 'num', text: f.new ? signed(f.bytes_delta) : signed(sign * f.bytes) }));
      });
    };
    [['fixed', 'Fixed findings', -1], ['introduced', 'Introduced findings', 1], ['changed', 'Changed findings', 0]].forEach(function (k) {
      var list = DIFF[k[0]] || [], total = tot[k[0]] || list.length;
      add(box, el('h3', { id: 'diff-' + k[0] + '-h', 'data-count': total, text: k[1] + ' (' + total + ')' }));
      if (list.length) add(box, table('diff-' + k[0], k[1], [['Path'], ['Kind'], ['Bytes', 1]], findingRows(list, k[2])));
      if (total > Math.min(list.length, 200)) add(box, el('p', { 'class': 'note', text: 'The largest ' + Math.min(list.length, 200) + ' of ' + total + ' are listed; --format json lists every one.' }));
    });
    if ((DIFF.realised || []).length) {
      add(box, el('h3', { text: 'Fixes of the old image, realised' }));
      add(box, el('ul', { id: 'diff-realised' }, DIFF.realised.map(function (r) {
        return el('li', null, r.title + ': ' + human(r.realised_bytes) + ' of ' + human(r.saves_bytes) + ' realised');
      })));
    }
    var files = DIFF.files || [], ftotal = tot.files || files.length;
    add(box, el('h3', { id: 'diff-files-h', 'data-count': ftotal, text: 'Files (' + ftotal + ' changed)' }));
    if (files.length) {
      add(box, table('diff-files', 'Files of the final filesystems that changed', [['Path'], ['Change'], ['Old', 1], ['New', 1], ['Delta', 1]],
        files.slice(0, 200).map(function (f) {
          return el('tr', null, el('td', { 'class': 'path mono', text: pathText(f.path) + (f.dir ? '/ (' + f.files + ' files)' : '') }), el('td', { text: f.status }),
            el('td', { 'class': 'num', text: f.old_bytes === null ? '' : human(f.old_bytes) }), el('td', { 'class': 'num', text: f.new_bytes === null ? '' : human(f.new_bytes) }),
            el('td', { 'class': 'num', text: signed(f.bytes_delta) }));
        })));
    }
  }

  // ---------- packages and insights (when the report has them) ----------
  function packages() {
    var list = R.packages;
    if (!Array.isArray(list) || !list.length) return;
    $('packages-section').hidden = false;
    var ptotal = (D.totals && D.totals.packages) || list.length;
    if (ptotal > list.length) add($('packages'), el('p', { 'class': 'note', text: list.length + ' of ' + ptotal + ' packages listed; --format json lists every one.' }));
    var sorted = list.slice().sort(function (a, b) { return (b.visible_bytes || 0) - (a.visible_bytes || 0); });
    add($('packages'), el('div', { 'class': 'scroll' }, el('table', { id: 'packages-table' },
      el('caption', { 'class': 'sr', text: 'Installed packages' }),
      el('thead', null, el('tr', null, ['Package', 'Version', 'Manager', 'Layer', 'Visible', 'Wasted', 'Files'].map(function (t, i) {
        return el('th', { scope: 'col', 'class': i >= 3 ? 'num' : '', text: t });
      }))),
      el('tbody', null, sorted.map(function (p) {
        return el('tr', { 'data-package': p.name },
          el('td', { 'class': 'mono', text: p.name }), el('td', { 'class': 'mono', text: p.version || '' }), el('td', { text: p.manager || '' }),
          el('td', { 'class': 'num', text: layerName(p.layer) }), el('td', { 'class': 'num', text: human(p.visible_bytes || 0) }),
          el('td', { 'class': 'num', text: human(p.wasted_bytes || 0) }), el('td', { 'class': 'num', text: p.files === undefined ? '' : p.files }));
      })))));
  }
  function optional() {
    var list = R.optional;
    if (!Array.isArray(list) || !list.length) return;
    $('optional-section').hidden = false;
    var box = $('optional'), shown = list.slice(0, 200);
    var total = (D.totals && D.totals.optional) || list.length;
    if (total > shown.length) add(box, el('p', { 'class': 'note', text: 'The largest ' + shown.length + ' of ' + total + ' optional files (' + human(S.optional_bytes || 0) + ' in all).' }));
    add(box, el('div', { 'class': 'scroll' }, el('table', { id: 'optional-table' },
      el('caption', { 'class': 'sr', text: 'Optional files' }),
      el('thead', null, el('tr', null, ['Path', 'Bytes', 'Layer', 'Rule'].map(function (t, i) {
        return el('th', { scope: 'col', 'class': i === 1 || i === 2 ? 'num' : '', text: t });
      }))),
      el('tbody', null, shown.map(function (o) {
        return el('tr', null, el('td', { 'class': 'path mono', text: pathText(o.path) }), el('td', { 'class': 'num', text: human(o.bytes), title: exact(o.bytes) }),
          el('td', { 'class': 'num', text: layerName(o.layer), title: command(o.layer) }), el('td', { 'class': 'mono', text: o.rule || '' }));
      })))));
  }
  function warnings() {
    var list = R.warnings;
    if (!Array.isArray(list) || !list.length) return;
    var ul = $('warnings');
    ul.hidden = false;
    list.forEach(function (w) {
      var where = (w.layer !== null && w.layer !== undefined ? 'layer ' + layerName(w.layer) + ' ' : '') + (w.path ? pathText(w.path) + ': ' : '');
      add(ul, el('li', { text: 'warning: ' + where + (w.message || '') }));
    });
  }
  function insights() {
    var list = R.insights;
    if (!Array.isArray(list) || !list.length) return;
    $('insights-section').hidden = false;
    add($('insights'), el('ul', { id: 'insight-list' }, list.map(function (x) {
      return el('li', { 'data-id': x.id }, el('span', { 'class': 'mono', text: pathText(x.path) + ' ' }),
        x.message + (x.bytes ? ' (' + human(x.bytes) + ')' : '') + (x.layer !== undefined && x.layer !== null ? ' · layer ' + layerName(x.layer) : ''));
    })));
  }

  // ---------- start ----------
  header();
  diffSection();
  summary();
  layersChart();
  fixes();
  findingsFrame();
  drawFindings();
  optional();
  packages();
  insights();
  warnings();
  legend();
  drawTreemap();
  var resizeTimer = null, lastWidth = $('treemap').clientWidth;
  window.addEventListener('resize', function () {
    clearTimeout(resizeTimer);
    resizeTimer = setTimeout(function () {
      if ($('treemap').clientWidth !== lastWidth) { lastWidth = $('treemap').clientWidth; drawTreemap(); }
    }, 150);
  });
  if (dark && dark.addEventListener) dark.addEventListener('change', function () { legend(); drawTreemap(); });
  document.addEventListener('keydown', function (e) {
    if (e.key === 'Escape' && state.zoom.length > 1 && document.activeElement && document.activeElement.closest && document.activeElement.closest('#treemap')) {
      state.zoom.pop(); drawTreemap(); focusFirst();
    }
  });
  document.documentElement.setAttribute('data-ready', '1');
})();
