// sessiongate: registers this preview session's service worker. The router adds this script to
// the session's pages; the worker names the session on every request the page makes, so that
// requests a dev server sends outside /session/<id>/ reach this session's server even when
// other sessions are open on the same origin. Without service workers nothing changes: the
// router falls back to the Referer and its cookie.
(function () {
  if (!('serviceWorker' in navigator) || !document.currentScript) return;
  // This file is <scope>__sessiongate/register.js.
  var scope = new URL('..', document.currentScript.src).pathname;
  var script = scope + '__sessiongate/sw.js';
  var ours = function (w) {
    return !w || new URL(w.scriptURL).pathname === script;
  };
  navigator.serviceWorker
    .getRegistration(scope)
    .then(function (r) {
      // The app registered a worker of its own for this scope: it wins (a scope has one).
      if (r && new URL(r.scope).pathname === scope && !ours(r.active || r.waiting || r.installing)) {
        return;
      }
      return navigator.serviceWorker.register(script, { scope: scope });
    })
    .catch(function (e) {
      console.warn('sessiongate: the session worker was not registered (' + e + ')');
    });
})();
