/**
 * The dashboard page and its script, served by `cordon ui` (plain HTML and
 * JS, no framework). Everything from a session is rendered with textContent
 * only, after control, bidi and zero-width characters are made visible; long
 * values sit in scrollable boxes with their length stated, never cut.
 */

export function pageHtml(token: string): string {
  const t = encodeURIComponent(token);
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="referrer" content="no-referrer">
<title>cordon approvals</title>
<style>
body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#111}
h1{font-size:1.3em} h2{font-size:1.1em;margin-top:1.5em}
.card{border:1px solid #bbb;border-radius:6px;padding:.8em;margin:.6em 0;background:#fffbe8}
.meta{color:#555;font-size:.9em}
pre{white-space:pre-wrap;word-break:break-all;max-height:16em;overflow:auto;background:#f4f4f4;padding:.4em;margin:.3em 0}
button{font-size:1em;margin-right:.6em;padding:.3em 1em}
.approve{background:#2a7;color:#fff;border:0} .deny{background:#c33;color:#fff;border:0}
.dec{font-family:ui-monospace,monospace;font-size:.85em;border-bottom:1px solid #eee;padding:.15em 0}
.deny-d{color:#b00} .allow-d{color:#070} .ask-d{color:#a60}
.held{color:#b00;font-weight:bold} .none{color:#777}
</style></head>
<body>
<h1>cordon: approvals</h1>
<p class="meta">Each approval covers one exact request (its sha256), once. Nothing is remembered; unanswered approvals become denies. <span id="status">connecting…</span></p>
<h2>Pending approvals</h2><div id="pending"><p class="none">none</p></div>
<h2>Sessions and their trifecta analysis</h2><div id="sessions"></div>
<h2>Decisions (live)</h2><div id="decisions"></div>
<script src="/app.js?token=${t}"></script>
</body></html>
`;
}

export const APP_JS = String.raw`'use strict';
(function () {
  var token = new URL(document.currentScript.src).searchParams.get('token');
  var INVISIBLE = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Cs}\u{FE00}-\u{FE0F}\u{E0100}-\u{E01EF}]/gu;
  function vis(s) {
    return String(s).replace(INVISIBLE, function (ch) { return '\\u{' + ch.codePointAt(0).toString(16).toUpperCase().padStart(4, '0') + '}'; });
  }
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = vis(text);
    return e;
  }
  function field(parent, label, value) {
    var n = Array.from(String(value)).length;
    var d = el('div');
    d.appendChild(el('b', '', label + (n > 200 ? ' (' + n + ' characters, scroll to read all)' : '') + ': '));
    if (n > 80) { d.appendChild(el('pre', '', value)); } else { d.appendChild(el('span', '', value)); }
    parent.appendChild(d);
  }
  function answer(p, verdict, btn) {
    btn.disabled = true;
    fetch('/api/answer', {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-cordon-token': token },
      body: JSON.stringify({ session: p.session, id: p.id, hash: p.hash, verdict: verdict })
    }).then(function (r) { return r.json(); }).then(function (j) {
      document.getElementById('status').textContent = vis(j.message);
    }, function (e) { document.getElementById('status').textContent = 'answer failed: ' + e; });
  }
  function renderPending(list) {
    var box = document.getElementById('pending');
    box.textContent = '';
    if (list.length === 0) { box.appendChild(el('p', 'none', 'none')); return; }
    list.forEach(function (p) {
      var c = el('div', 'card');
      c.id = 'approval-' + p.id;
      c.appendChild(el('div', 'meta', p.id + ' · session ' + p.session + ' · from the ' + p.boundary + ' boundary · expires ' + p.expiresAt));
      var r = p.request;
      if (r.kind === 'http') {
        field(c, 'request', r.method + ' ' + r.host + ':' + r.port);
        field(c, 'path and query', r.target);
        field(c, 'body', r.bodyLength + ' bytes, sha256 ' + r.bodySha256);
        if (p.preview !== undefined) field(c, 'body start (as UTF-8; the hash covers all ' + r.bodyLength + ' bytes)', p.preview);
      } else if (r.kind === 'tunnel') {
        field(c, 'tunnel', r.host + ':' + r.port + ' (CONNECT/SOCKS: contents cannot be inspected)');
      } else if (r.kind === 'mcp') {
        field(c, 'MCP tool', r.server + ' / ' + r.tool);
        field(c, 'arguments', r.arguments);
      } else if (r.kind === 'tool') {
        field(c, 'tool', r.tool);
        field(c, 'input', r.input);
        field(c, 'cwd', r.cwd);
      } else {
        field(c, 'command', r.command);
        field(c, 'cwd', r.cwd);
        if (r.executable !== null) field(c, 'executable', r.executable + ' (sha256 ' + r.executableSha256 + ')');
      }
      field(c, 'rule', p.rule);
      field(c, 'why', p.reason);
      field(c, 'sha256 of the exact request', p.hash);
      if (p.suggestion !== undefined) field(c, 'to stop being asked, add to permissions.allow', p.suggestion);
      var a = el('button', 'approve', 'Approve once');
      a.id = 'approve-' + p.id;
      a.onclick = function () { answer(p, 'approve', a); };
      var d = el('button', 'deny', 'Deny');
      d.id = 'deny-' + p.id;
      d.onclick = function () { answer(p, 'deny', d); };
      c.appendChild(a); c.appendChild(d);
      box.appendChild(c);
    });
  }
  function renderSessions(sessions) {
    var box = document.getElementById('sessions');
    box.textContent = '';
    if (sessions.length === 0) { box.appendChild(el('p', 'none', 'no running cordon session')); return; }
    sessions.forEach(function (s) {
      var c = el('div', 'card');
      c.style.background = '#f7f9ff';
      c.appendChild(el('div', 'meta', s.session + ' · pid ' + s.pid + ' · channels ' + s.channels.join(', ')));
      field(c, 'command', s.command);
      field(c, 'workspace', s.workspace);
      s.trifecta.legs.forEach(function (l) {
        c.appendChild(el('div', l.held ? 'held' : 'none', (l.held ? 'HELD ' : 'not held ') + l.title));
        l.because.forEach(function (w) { c.appendChild(el('div', 'meta', '   because ' + w)); });
        l.gated.forEach(function (w) { c.appendChild(el('div', 'meta', '   gated (asks a person) ' + w)); });
      });
      c.appendChild(el('p', s.trifecta.all ? 'held' : '', s.trifecta.summary));
      box.appendChild(c);
    });
  }
  function renderDecisions(list) {
    var box = document.getElementById('decisions');
    box.textContent = '';
    list.slice().reverse().forEach(function (d) {
      box.appendChild(el('div', 'dec ' + d.decision + '-d', d.ts + ' ' + d.session + ' ' + d.boundary + ' ' + d.decision + ' ' + d.subject + ' — ' + d.rule + ' — ' + d.reason));
    });
  }
  var es = new EventSource('/events?token=' + encodeURIComponent(token));
  es.addEventListener('state', function (ev) {
    var s = JSON.parse(ev.data);
    document.getElementById('status').textContent = 'live · ' + s.sessions.length + ' session(s)';
    renderPending(s.pending);
    renderSessions(s.sessions);
    renderDecisions(s.decisions);
  });
  es.onerror = function () { document.getElementById('status').textContent = 'disconnected; retrying…'; };
})();
`;
