// sessiongate's per-session service worker (served by the router, never by the dev server).
// Every same-origin request the session's pages make outside the session's own prefix goes
// out unchanged but for one header naming the session, which the router routes by and strips.
// Navigations, cross-origin requests and requests under the prefix (which name their session
// already) are not touched. Bodies stream both ways: the worker never reads them.
'use strict';
var scope = new URL(self.registration.scope);
var session = scope.pathname.split('/').filter(Boolean).pop();

self.addEventListener('install', function () {
  self.skipWaiting();
});

// Control the pages that are already open, not only the next ones.
self.addEventListener('activate', function (event) {
  event.waitUntil(self.clients.claim());
});

self.addEventListener('fetch', function (event) {
  var request = event.request;
  if (request.mode === 'navigate') return;
  var url = new URL(request.url);
  if (url.origin !== scope.origin || url.pathname.indexOf(scope.pathname) === 0) return;
  event.respondWith(forward(request));
});

function forward(request) {
  var headers = new Headers(request.headers);
  headers.set('X-Sessiongate-Session', session);
  // A no-cors request (a classic <script>, <img>, <link>) could not carry the header; the
  // request is same-origin, so same-origin mode changes nothing else about it.
  var named = new Request(request, {
    mode: 'same-origin',
    headers: headers,
    referrer: request.referrer,
    referrerPolicy: request.referrerPolicy
  });
  return fetch(named).then(function (response) {
    // The router no longer knows the session: this worker has nothing left to name.
    if (response.status === 404 &&
        response.headers.get('X-Sessiongate-Error') === 'unknown_session') {
      self.registration.unregister();
    }
    return response;
  });
}
