// sessiongate: registers this preview session's service worker. The router adds this script to
// the session's pages; the worker names the session on every request the page makes, so that
// requests a dev server sends outside /session/<id>/ reach this session's server even when
// other sessions are open on the same origin. Without service workers nothing changes: the
// router falls back to the Referer and its cookie.
(function () {
  if (!('serviceWorker' in navigator) || !document.currentScript) return;
  var sw = navigator.serviceWorker;
  // This file is <scope>__sessiongate/register.js.
  var scope = new URL('..', document.currentScript.src).pathname;
  var script = scope + '__sessiongate/sw.js';
  var newest = function (r) {
    return r.installing || r.waiting || r.active;
  };
  var ours = function (r) {
    var w = newest(r);
    return !!w && new URL(w.scriptURL).pathname === script;
  };
  var register = sw.register;
  // Ours, at our scope, unless another worker has taken it since.
  var stepAside = function () {
    sw.getRegistration(scope).then(function (r) {
      if (r && new URL(r.scope).pathname === scope && ours(r)) r.unregister();
    });
  };
  // An app's own worker whose scope covers this page wins (a page has one worker): this one
  // steps aside, and routing falls back to the Referer and the cookie. The app's call goes
  // through unchanged; it is only noticed, since its registration may not be visible yet.
  var appWorker = false;
  sw.register = function (url, options) {
    appWorker = true;
    var base = new URL(url, location.href);
    var theirs = new URL((options && options.scope) || './', base).pathname;
    if (theirs !== scope) stepAside();  // the same scope: their registration replaces ours
    return register.apply(sw, arguments);
  };
  var decide = function () {
    sw.getRegistrations()
      .then(function (all) {
        var foreign = all.some(function (r) {
          return newest(r) && !ours(r) && location.href.indexOf(r.scope) === 0;
        });
        if (foreign || appWorker) return stepAside();
        return register.call(sw, script, { scope: scope });
      })
      .catch(function (e) {
        console.warn('sessiongate: the session worker was not registered (' + e + ')');
      });
  };
  // After the page's own scripts have had their say (an app registers its worker as it loads).
  if (document.readyState === 'complete') {
    setTimeout(decide, 0);
  } else {
    window.addEventListener('load', function () {
      setTimeout(decide, 0);
    });
  }
})();
