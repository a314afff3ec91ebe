// bluemoon console: small progressive enhancements over server-rendered
// pages. Every form works without this file except the two things the
// admin guide defines as interactive: the hidden credential-file area
// (Ctrl + Shift + Alt + 9) and the sign-in that finishes in another tab.
(function () {
  'use strict';
  var csrf = document.body.getAttribute('data-csrf') || '';

  function post(url, body) {
    return fetch(url, {
      method: 'POST', body: body, credentials: 'same-origin',
      headers: { 'X-CSRF-Token': csrf, 'Accept': 'application/json' }
    });
  }

  // Confirmation before destructive or irreversible actions.
  document.addEventListener('submit', function (e) {
    var f = e.target;
    var msg = f.getAttribute('data-confirm');
    if (msg && !window.confirm(msg)) { e.preventDefault(); }
  });

  // Sections shown only for some choices (auth method, provider).
  function syncToggles() {
    document.querySelectorAll('[data-show-when]').forEach(function (el) {
      var spec = el.getAttribute('data-show-when').split('='); // name=value1|value2
      var input = document.querySelector('[name="' + spec[0] + '"]:checked') || document.querySelector('select[name="' + spec[0] + '"]');
      var on = input && spec[1].split('|').indexOf(input.value) >= 0;
      el.hidden = !on;
      el.querySelectorAll('input, select, textarea').forEach(function (i) { i.disabled = !on; });
    });
  }
  document.addEventListener('change', syncToggles);
  syncToggles();

  // Presets: choosing a provider fills the SMTP server, port and security.
  document.addEventListener('change', function (e) {
    var t = e.target;
    if (!t.matches('[data-presets]') || !t.checked) { return; }
    var p = JSON.parse(t.getAttribute('data-presets'));
    Object.keys(p).forEach(function (k) {
      var el = document.querySelector('[name="' + k + '"]');
      if (!el) { return; }
      if (el.type === 'radio') {
        var r = document.querySelector('[name="' + k + '"][value="' + p[k] + '"]');
        if (r) { r.checked = true; }
      } else { el.value = p[k]; }
    });
    syncToggles();
  });

  // ---- The hidden credential-file area (administrators only) ----------
  var area = document.getElementById('credarea');
  if (area) {
    var defaults = {};
    document.addEventListener('keydown', function (e) {
      // e.code, not e.key: with Shift held, "9" is "(" or ")" by layout.
      if (e.ctrlKey && e.shiftKey && e.altKey && e.code === 'Digit9') {
        e.preventDefault();
        area.hidden = !area.hidden;
        if (!area.hidden) { var first = area.querySelector('select, input'); if (first) { first.focus(); } }
      }
    });
    var closeBtn = document.getElementById('credarea-close');
    if (closeBtn) { closeBtn.addEventListener('click', function () { area.hidden = true; }); }

    var form = document.getElementById('credform');
    var provider = form.querySelector('[name="provider"]');
    function providerChanged() {
      var ms = provider.value === 'microsoft';
      form.querySelector('[data-only="microsoft"]').hidden = !ms;
      form.querySelector('[name="tenant"]').disabled = !ms;
      var secret = form.querySelector('[data-only="google"]');
      secret.hidden = ms;
      form.querySelector('[name="client_secret"]').disabled = ms;
    }
    provider.addEventListener('change', providerChanged);
    providerChanged();

    function markChanged() {
      form.querySelectorAll('[data-default]').forEach(function (el) {
        var d = defaults[el.name];
        var changed = d !== undefined && el.value !== d;
        el.classList.toggle('changed', changed);
        var flag = document.getElementById(el.id + '-changed');
        if (flag) { flag.hidden = !changed; }
      });
    }
    form.addEventListener('input', markChanged);

    function showErrors(errs) {
      form.querySelectorAll('.field-error').forEach(function (el) { el.textContent = ''; el.hidden = true; });
      form.querySelectorAll('[aria-invalid]').forEach(function (el) { el.removeAttribute('aria-invalid'); });
      var summary = document.getElementById('credform-status');
      summary.textContent = '';
      summary.className = 'flash';
      summary.hidden = true;
      var first = null;
      (errs || []).forEach(function (er) {
        var input = form.querySelector('[name="' + er.field + '"]');
        var slot = document.getElementById('err-' + er.field);
        if (slot) { slot.textContent = er.message; slot.hidden = false; }
        if (input) { input.setAttribute('aria-invalid', 'true'); first = first || input; }
        if (!slot) { summary.textContent += er.message + ' '; summary.hidden = false; summary.className = 'flash flash-error'; }
      });
      if (first) { first.focus(); }
    }

    document.getElementById('cred-defaults').addEventListener('click', function () {
      var q = new URLSearchParams({ provider: provider.value });
      if (provider.value === 'microsoft') { q.set('tenant', form.querySelector('[name="tenant"]').value); }
      fetch('/credentials/defaults?' + q.toString(), { credentials: 'same-origin', headers: { 'Accept': 'application/json' } })
        .then(function (r) { return r.json().then(function (j) { return { ok: r.ok, j: j }; }); })
        .then(function (res) {
          if (!res.ok) { showErrors(res.j.errors); return; }
          showErrors([]);
          defaults = res.j.fields;
          Object.keys(defaults).forEach(function (k) {
            var el = form.querySelector('[name="' + k + '"]');
            if (el && el.hasAttribute('data-default')) { el.value = defaults[k]; }
          });
          markChanged();
          var st = document.getElementById('credform-status');
          st.textContent = res.j.message; st.className = 'flash flash-ok'; st.hidden = false;
        });
    });

    form.addEventListener('submit', function (e) {
      e.preventDefault();
      post(form.action, new FormData(form)).then(function (r) {
        if (r.ok && (r.headers.get('Content-Type') || '').indexOf('application/json') < 0) {
          var name = (r.headers.get('Content-Disposition') || '').replace(/^.*filename="?([^";]+)"?.*$/, '$1') || 'credentials.bmcred';
          return r.blob().then(function (b) {
            var a = document.createElement('a');
            a.href = URL.createObjectURL(b); a.download = name;
            document.body.appendChild(a); a.click(); a.remove();
            showErrors([]);
            var st = document.getElementById('credform-status');
            st.textContent = r.headers.get('X-Bluemoon-Message') ? decodeURIComponent(r.headers.get('X-Bluemoon-Message')) : name;
            st.className = 'flash flash-ok'; st.hidden = false;
          });
        }
        return r.json().then(function (j) { showErrors(j.errors); });
      });
    });
  }

  // ---- Sign-in in a new tab, finished by the loopback redirect --------
  document.querySelectorAll('[data-signin]').forEach(function (btn) {
    btn.addEventListener('click', function (e) {
      e.preventDefault();
      var statusEl = document.getElementById(btn.getAttribute('data-status'));
      var link = document.getElementById(btn.getAttribute('data-status') + '-link');
      btn.disabled = true;
      post(btn.getAttribute('data-signin'), new FormData()).then(function (r) { return r.json(); }).then(function (j) {
        statusEl.hidden = false;
        statusEl.textContent = j.message;
        if (!j.url) {
          statusEl.className = 'flash flash-error'; btn.disabled = false;
          return;
        }
        statusEl.className = 'flash flash-warn';
        if (link) { link.href = j.url; link.hidden = false; }
        // Still within the click's activation, so popup blockers let it
        // through; if one does not, the link above does the same.
        var tab = window.open(j.url, '_blank');
        if (tab) { tab.opener = null; }
        poll(j.status, statusEl, btn);
      }).catch(function () { btn.disabled = false; });
    });
  });

  function poll(url, statusEl, btn) {
    fetch(url, { credentials: 'same-origin', headers: { 'Accept': 'application/json' } })
      .then(function (r) { return r.json(); })
      .then(function (j) {
        if (j.state === 'waiting') { setTimeout(function () { poll(url, statusEl, btn); }, 1000); return; }
        statusEl.textContent = j.message;
        statusEl.className = 'flash ' + (j.state === 'done' ? 'flash-ok' : 'flash-error');
        btn.disabled = false;
        if (j.state === 'done') {
          document.querySelectorAll('[data-refresh-on-signin]').forEach(function (el) { el.textContent = j.identity; });
          setTimeout(function () { window.location.reload(); }, 1500);
        }
      });
  }
})();
