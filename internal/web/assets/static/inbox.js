// The sandbox's Inbox shows what arrives while it is open: every 2 s it
// asks /inbox/status how many messages came after the newest it shows.
// On the first page, with the keyboard elsewhere, it redraws the list in
// place and says so; otherwise (an older page, or focus inside the list,
// which a redraw would lose) it offers a link to them.
(function () {
  'use strict';
  var area = document.getElementById('inbox-area');
  var live = document.getElementById('inbox-live');
  if (!area || !live || !window.fetch) { return; }
  var busy = false;

  function say(text, href) {
    live.textContent = text;
    if (href) {
      live.textContent = '';
      var a = document.createElement('a');
      a.href = href;
      a.id = 'inbox-show-new';
      a.textContent = text;
      live.appendChild(a);
    }
    live.hidden = false;
  }

  function redraw(st) {
    return fetch('/inbox', { credentials: 'same-origin' }).then(function (r) {
      if (!r.ok) { throw new Error(r.status); }
      return r.text();
    }).then(function (html) {
      var doc = new DOMParser().parseFromString(html, 'text/html');
      var fresh = doc.getElementById('inbox-area');
      if (!fresh) { return; }
      area.replaceWith(fresh);
      area = fresh;
      say(st.arrived);
    });
  }

  function tick() {
    if (busy || document.hidden) { return; }
    busy = true;
    var since = area.getAttribute('data-newest') || '';
    fetch('/inbox/status?since=' + encodeURIComponent(since), {
      credentials: 'same-origin', headers: { 'Accept': 'application/json' }
    }).then(function (r) { return r.ok ? r.json() : null; }).then(function (st) {
      if (!st || !st['new'] || st.newest === since) { return; }
      var first = area.getAttribute('data-page') === '1';
      if (first && !area.contains(document.activeElement)) { return redraw(st); }
      say(st.show, '/inbox');
    }).catch(function () { /* the console stopped; the next tick tries again */ })
      .then(function () { busy = false; });
  }
  setInterval(tick, 2000);
})();
