// The app offline: every file of it cached on install (the cache named by their digest, so a
// new build replaces the old), served from the cache first. Trust data is not cached here: the
// app keeps it in IndexedDB, checked by the engine, and asks the network for it.
const CACHE = 'propusk-__VERSION__';
const FILES = ['./', 'index.html', 'app.js', 'engine.js', 'reader.js', 'app.css', 'engine.wasm', 'pdf.wasm',
  'manifest.webmanifest', 'icon.svg', 'icon-192.png', 'icon-512.png', 'config.json'];

self.addEventListener('install', (event) => {
  event.waitUntil(caches.open(CACHE).then((c) => c.addAll(FILES)).then(() => self.skipWaiting()));
});

self.addEventListener('activate', (event) => {
  event.waitUntil(caches.keys()
    .then((keys) => Promise.all(keys.filter((k) => k !== CACHE).map((k) => caches.delete(k))))
    .then(() => self.clients.claim()));
});

self.addEventListener('fetch', (event) => {
  const url = new URL(event.request.url);
  if (event.request.method !== 'GET' || url.origin !== location.origin) return;
  const scope = new URL(self.registration.scope);
  if (!url.pathname.startsWith(scope.pathname)) return;
  event.respondWith(caches.open(CACHE)
    .then((c) => c.match(event.request, { ignoreSearch: true }))
    .then((hit) => hit || fetch(event.request)));
});
