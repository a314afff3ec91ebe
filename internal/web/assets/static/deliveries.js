// bluemoon console: the delivery pages' enhancements. Every page works
// without this file; it adds merge-field insertion at the cursor, the
// signature of the account chosen, and the live progress of a delivery
// (polled: see progress below).
(function () {
  'use strict';

  // ---- Merge fields: a column's button inserts {{.column}} where the
  // cursor is, in the subject or body last used (the text body at first).
  var target = document.getElementById('text');
  document.querySelectorAll('[data-merge-target]').forEach(function (el) {
    el.addEventListener('focus', function () { target = el; });
  });
  document.querySelectorAll('[data-insert]').forEach(function (chip) {
    chip.addEventListener('click', function () {
      if (!target) { return; }
      var text = chip.getAttribute('data-insert');
      var start = target.selectionStart, end = target.selectionEnd;
      if (typeof start !== 'number') { start = end = target.value.length; }
      target.value = target.value.slice(0, start) + text + target.value.slice(end);
      target.focus();
      target.selectionStart = target.selectionEnd = start + text.length;
      target.dispatchEvent(new Event('input', { bubbles: true }));
    });
  });

  // ---- The signature shown is the chosen account's.
  var account = document.getElementById('account');
  var signature = document.getElementById('signature');
  if (account && signature && account.hasAttribute('data-signatures')) {
    var sigs = JSON.parse(account.getAttribute('data-signatures') || '{}');
    account.addEventListener('change', function () { signature.value = sigs[account.value] || ''; });
  }

  // ---- A step that reads a large list takes seconds: say so on the
  // button pressed (after the confirmation, if any, was given).
  document.addEventListener('submit', function (e) {
    var btn = e.submitter;
    if (!btn || !btn.hasAttribute('data-busy')) { return; }
    setTimeout(function () {
      if (e.defaultPrevented) { return; }
      btn.textContent = btn.getAttribute('data-busy');
      btn.setAttribute('aria-busy', 'true');
      btn.classList.add('busy');
    }, 0);
  });
  document.querySelectorAll('a[data-busy]').forEach(function (a) {
    a.addEventListener('click', function () { a.textContent = a.getAttribute('data-busy'); a.classList.add('busy'); });
  });

  // ---- Live progress. The page asks the console once a second for the
  // counts, read from the data home: the same for a delivery this console
  // runs, one the CLI or a schedule runs, in any number of tabs. Polling
  // rather than server-sent events: every answer comes from the database
  // anyway (another process may be sending), a reload or a second tab
  // needs nothing kept on the server, and no request is held open.
  var box = document.getElementById('progress');
  if (!box) { return; }
  var url = box.getAttribute('data-progress');
  var fmt = function (n) { return Number(n).toLocaleString('en-US'); };
  function set(id, v) { var el = document.getElementById(id); if (el && el.textContent !== String(v)) { el.textContent = v; } }
  function show(id, on) { var el = document.getElementById(id); if (el) { el.hidden = !on; } }
  var timer = null;
  function update(p) {
    ['sent', 'failed', 'deferred', 'unknown', 'remaining', 'total'].forEach(function (k) { set('p-' + k, fmt(p[k])); });
    document.getElementById('p-failed-tile').classList.toggle('tile-error', p.failed > 0);
    document.getElementById('p-unknown-tile').classList.toggle('tile-warn', p.unknown > 0);
    set('p-status', p.status_text);
    document.getElementById('p-status').className = 'badge state-' + p.status;
    set('p-rate', p.rate);
    set('p-eta', p.eta);
    set('p-updated', p.updated);
    var bar = document.getElementById('p-bar');
    if (bar) { bar.value = p.percent; bar.textContent = p.percent + '%'; }
    show('p-why', !!p.why);
    set('p-why-text', p.why || '');
    set('p-next', p.next || '');
    set('p-detail', p.detail || '');
    var si = document.getElementById('p-signin');
    if (si) { si.hidden = !p.signin; if (p.signin) { si.href = p.signin; } }
    show('pause-form', p.can_pause);
    show('resume-form', p.can_resume);
    show('cancel-form', p.can_cancel);
    show('resend', p.failed > 0 || p.unknown > 0);
    show('resend-failed-form', p.failed > 0);
    show('resend-unknown-form', p.unknown > 0);
    box.setAttribute('data-status', p.status);
  }
  function poll() {
    timer = null;
    if (document.hidden) { schedule(1000); return; }
    fetch(url, { credentials: 'same-origin', headers: { 'Accept': 'application/json' } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (p) {
        if (p) { update(p); }
        // Once nothing moves, look less often: a resume from elsewhere
        // still shows within a few seconds.
        schedule(p && !p.final ? 1000 : 3000);
      })
      .catch(function () { schedule(3000); });
  }
  function schedule(ms) { if (!timer) { timer = setTimeout(poll, ms); } }
  document.addEventListener('visibilitychange', function () { if (!document.hidden && timer) { clearTimeout(timer); timer = null; poll(); } });
  schedule(1000);
})();
