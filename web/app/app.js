// The Propusk web app: verifier and wallet. Everything that judges, decodes or reads a QR code
// is the engine (Rust in WebAssembly, engine.wasm); this file drives the camera, IndexedDB, the
// network and the page. DOM contract: ../shared/INTERFACE.md, "In the browser".
import { Engine, frames, framed } from './engine.js';

const WORDS = {
  en: {
    verifier: 'Verifier', wallet: 'Wallet', ready: 'Scan a certificate', scan: 'Scan',
    stop: 'Stop', open_image: 'Open image', check: 'Check text', sync: 'Update',
    lang: 'Русский', wallet_empty: 'No certificates yet: add one with the camera, an image or its text.',
    add_camera: 'Add with camera', add_image: 'Add image', add: 'Add text', close: 'Close',
    show: 'Show QR', remove: 'Remove', best: 'to show now', added: 'Added', not_added: 'Not added', until: 'until',
    no_camera: 'No camera: open an image or paste the text instead.',
    trust_none: 'No trust data yet: connect to the network once.',
    trust_line: (s) => `Trust data ${s.sequence} (${s.issuer || s.jurisdiction}): ${s.state_words}, made ${s.age_words} ago, updated at ${clock(s.synced_at)}`,
    offline: 'offline', syncing: 'Updating…', save_link: 'Save to wallet',
    clock: 'The device clock is behind the trust data: set the clock right.',
    sync_failed: 'not updated', unreachable: 'the server cannot be reached',
    budget: 'no QR code found in the image within 4 s',
    policy_label: 'Door policy: ', no_policy: 'each certificate on its own',
    rolled_back: 'The trust data kept on this device is older than the data it had: update it.',
    refused: {
      wrong_root: 'the trust data is not signed by the pinned root key',
      bad_signature: 'the trust data\'s signature does not verify',
      rollback: 'the server offers older trust data than the data in force',
      index_mismatch: 'the files do not match their index',
      from_the_future: 'the trust data is dated in the future: check the device clock',
      corrupt: 'the trust data is damaged',
    },
  },
  ru: {
    verifier: 'Проверка', wallet: 'Кошелёк', ready: 'Отсканируйте сертификат', scan: 'Сканировать',
    stop: 'Стоп', open_image: 'Открыть изображение', check: 'Проверить текст', sync: 'Обновить',
    lang: 'English', wallet_empty: 'Сертификатов пока нет: добавьте камерой, из изображения или текстом.',
    add_camera: 'Добавить камерой', add_image: 'Добавить изображение', add: 'Добавить текст',
    close: 'Закрыть', show: 'Показать QR', remove: 'Удалить', best: 'показывать сейчас', until: 'до',
    added: 'Добавлен', not_added: 'Не добавлен',
    no_camera: 'Камеры нет: откройте изображение или вставьте текст.',
    trust_none: 'Данных проверки ещё нет: подключитесь к сети хотя бы раз.',
    trust_line: (s) => `Данные проверки ${s.sequence} (${s.issuer || s.jurisdiction}): ${s.state_words}, выпущены ${s.age_words} назад, обновлены в ${clock(s.synced_at)}`,
    offline: 'нет сети', syncing: 'Обновление…', save_link: 'Сохранить в кошелёк',
    clock: 'Часы устройства отстают от данных проверки: поставьте верное время.',
    sync_failed: 'не обновлены', unreachable: 'сервер недоступен',
    budget: 'QR-код не найден в изображении за 4 с',
    policy_label: 'Правило входа: ', no_policy: 'каждый сертификат отдельно',
    rolled_back: 'Данные проверки на устройстве старее тех, что на нём уже были: обновите их.',
    refused: {
      wrong_root: 'данные проверки подписаны не закреплённым корневым ключом',
      bad_signature: 'подпись данных проверки недействительна',
      rollback: 'сервер предлагает более старые данные, чем действующие',
      index_mismatch: 'файлы не совпадают со своим индексом',
      from_the_future: 'данные проверки датированы будущим: проверьте часы устройства',
      corrupt: 'данные проверки повреждены',
    },
  },
};

const $ = (selector) => document.querySelector(selector);
// A time of day on this device's clock, as the guard reads it.
const clock = (unix) => new Date(unix * 1000).toLocaleTimeString(app.lang === 'ru' ? 'ru-RU' : 'en-GB',
  { hour: '2-digit', minute: '2-digit' });
const now = () => Math.floor(Date.now() / 1000);
const app = { engine: null, config: null, db: null, lang: 'ru', stats: { frames: [] } };
window.propusk = app;

function t(key) {
  return WORDS[app.lang][key];
}

// ---- storage: IndexedDB, one transaction per change (the old data stays until the new is in)
function openDb() {
  return new Promise((resolve, reject) => {
    const request = indexedDB.open('propusk', 1);
    request.onupgradeneeded = () => {
      request.result.createObjectStore('trust');
      request.result.createObjectStore('wallet');
      request.result.createObjectStore('settings');
    };
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

function store(name, mode, act) {
  return new Promise((resolve, reject) => {
    const tx = app.db.transaction(name, mode);
    const result = act(tx.objectStore(name));
    tx.oncomplete = () => resolve(result.result);
    tx.onerror = () => reject(tx.error);
  });
}

const dbGet = (name, key) => store(name, 'readonly', (s) => s.get(key));
const dbPut = (name, key, value) => store(name, 'readwrite', (s) => s.put(value, key));
const dbDelete = (name, key) => store(name, 'readwrite', (s) => s.delete(key));
const dbAll = (name) => store(name, 'readonly', (s) => s.getAll());

// ---- trust data
// The newest sequence taken for each root, kept apart from the trust data itself: trust data put
// back in IndexedDB from an older copy (a rollback to before a revocation) is not restored.
const anchorKey = (root) => `propusk-sequence-${root.key}`;
const anchorOf = (root) => Number(localStorage.getItem(anchorKey(root)) || 0);
function anchor(root, sequence) {
  if (sequence > anchorOf(root)) localStorage.setItem(anchorKey(root), String(sequence));
}

async function restoreTrust() {
  for (const [i, root] of app.config.roots.entries()) {
    const kept = await dbGet('trust', root.key);
    if (!kept) continue;
    if (!(kept.meta.sequence >= anchorOf(root))) {
      app.rolledBack = true;
      await dbDelete('trust', root.key);
      continue;
    }
    const answer = app.engine.call('restore', { ...kept.meta, root: i }, kept.files);
    if (answer.error) await dbDelete('trust', root.key); // damaged: synced afresh
    else anchor(root, kept.meta.sequence);
  }
}

// Trust data files are bounded (the engine refuses a bundle over 64 MiB anyway), the index
// more (as the command line bounds it): a larger answer is not read past the bound.
const MAX_FILE = 64 << 20;
const MAX_INDEX = 1 << 20;

// A sync that failed, with the engine's code (or `unreachable`) for words in the page's language.
class SyncError extends Error {
  constructor(code, detail) {
    super(detail);
    this.code = code;
  }
}

async function fetchBytes(url, limit = MAX_FILE) {
  let response;
  try {
    response = await fetch(url, { cache: 'no-store' });
  } catch (e) {
    throw new SyncError('unreachable', e.message);
  }
  if (!response.ok) throw new SyncError('unreachable', `${url}: ${response.status}`);
  const tooLarge = () => new SyncError('corrupt', `${url}: too large`);
  if (Number(response.headers.get('content-length') || 0) > limit) throw tooLarge();
  // Read as it comes, and given up at the bound (a host may send no length, or a false one).
  const reader = response.body.getReader();
  const chunks = [];
  let length = 0;
  for (;;) {
    let part;
    try {
      part = await reader.read();
    } catch (e) {
      throw new SyncError('unreachable', e.message);
    }
    if (part.done) break;
    length += part.value.length;
    if (length > limit) {
      reader.cancel().catch(() => {});
      throw tooLarge();
    }
    chunks.push(part.value);
  }
  const bytes = new Uint8Array(length);
  let at = 0;
  for (const c of chunks) {
    bytes.set(c, at);
    at += c.length;
  }
  return bytes;
}

// index → delta (or the full bundle) → checked by the engine → kept in one transaction.
async function syncRoot(i, root) {
  const base = `${root.url}/bundle/`;
  const plan = app.engine.call('index', { root: i }, await fetchBytes(base + 'index.cbor', MAX_INDEX));
  if (plan.error) throw new SyncError(plan.code, plan.error);
  if (plan.up_to_date !== undefined) return null;
  const take = async (file, delta) => app.engine.call('take',
    { root: i, now: now(), lang: app.lang, delta }, await fetchBytes(base + file));
  let taken = await take(plan.fetch, plan.delta);
  if (taken.error && plan.delta) taken = await take(plan.full, false);
  if (taken.error) throw new SyncError(taken.code, taken.error);
  const parts = frames(app.engine.raw('kept', { root: i }));
  const meta = JSON.parse(new TextDecoder().decode(parts[0]));
  await dbPut('trust', root.key, { meta, files: framed(parts.slice(1)) });
  anchor(root, meta.sequence);
  app.rolledBack = false;
  return taken;
}

// One sync at a time (a timer, the page shown again and a press of «Обновить» may meet).
let syncing = null;
function sync() {
  if (!syncing) syncing = syncAll().finally(() => { syncing = null; });
  return syncing;
}

async function syncAll() {
  const line = $('#trust');
  if (!navigator.onLine) return showStatus();
  line.textContent = t('syncing');
  const said = [];
  for (const [i, root] of app.config.roots.entries()) {
    try {
      const taken = await syncRoot(i, root);
      if (taken) said.push(taken.words);
    } catch (e) {
      const why = e.code === 'unreachable' ? t('unreachable') : (t('refused')[e.code] || e.message);
      said.push(`${root.name}: ${t('sync_failed')}, ${why}`);
    }
  }
  showStatus(said.join(' '));
  if (!$('#wallet').hidden) await showWallet();
}

// The door's policy: chosen from those of the rules in force, kept on this device.
function showPolicies(home) {
  const names = home.policies || [];
  const select = $('#policy');
  let chosen = localStorage.getItem('propusk-policy') || '';
  if (!names.includes(chosen)) chosen = '';
  const none = document.createElement('option');
  none.value = '';
  none.textContent = t('no_policy');
  select.replaceChildren(none, ...names.map((name) => {
    const option = document.createElement('option');
    option.value = name;
    option.textContent = name;
    return option;
  }));
  select.value = chosen;
  $('#policy-box').hidden = names.length === 0;
}

function policy() {
  return $('#policy').value || null;
}

function showStatus(extra = '') {
  const [home] = app.engine.call('status', { now: now(), lang: app.lang });
  showPolicies(home);
  const line = $('#trust');
  line.dataset.state = home.state;
  line.dataset.sequence = home.sequence ?? '';
  const none = home.sequence === undefined;
  const words = none ? t('trust_none') : t('trust_line')(home);
  // Each sentence its own; with no trust data, none about its age.
  line.textContent = [app.rolledBack ? t('rolled_back') : '', words, none ? '' : home.warning,
    navigator.onLine ? '' : `(${t('offline')})`, extra]
    .filter(Boolean).map((s) => (/[.!?:)]$/.test(s) ? s : `${s}.`)).join(' ');
}

// ---- verifying
// Each scan is the door's next: when the door's policy found what the holder showed just before
// incomplete (an exemption waiting for its test), the engine judges the next code with it.
function verify(texts) {
  const next = texts.length === 1;
  const answer = app.engine.call('verify', { texts, now: now(), lang: app.lang, policy: policy(), next });
  if (answer.error) {
    // Not a verdict (a clock set back, a policy gone from the rules): said, with no verdict.
    notice(answer.code === 'clock_behind' ? t('clock') : answer.error);
    return null;
  }
  show(answer[0]);
  return answer[0];
}

// A message in the verdict's place that is not a verdict (no camera, a clock set back).
function notice(message) {
  const box = $('#verdict');
  box.dataset.verdict = '';
  box.dataset.reason = '';
  box.querySelector('.line').textContent = message;
  box.querySelector('.details').replaceChildren();
}

function show(report) {
  if (app.stats.firstVerdict === undefined && report.id) app.stats.firstVerdict = performance.now();
  const box = $('#verdict');
  box.dataset.verdict = report.verdict;
  box.dataset.reason = report.reason || '';
  box.querySelector('.line').textContent = report.words.verdict;
  const list = box.querySelector('.details');
  list.replaceChildren(...report.words.details.map((d) => {
    const li = document.createElement('li');
    li.textContent = d;
    return li;
  }));
}

// ---- reading QR codes: the engine in a worker of its own, bounded in time as the command line
// bounds it (4 s); past the budget the worker is ended (its memory with it) and another started.
const READ_BUDGET_MS = 4000;
// An image larger than this is read by a worker that ends afterwards: the memory a large
// image took is given back.
const LARGE_IMAGE = 1 << 20;

class Reader {
  constructor() {
    this.worker = null;
    this.next = 0;
    this.pending = new Map();
  }

  start() {
    this.worker = new Worker('reader.js', { type: 'module' });
    this.worker.onmessage = (e) => {
      const waiting = this.pending.get(e.data.id);
      if (!waiting) return;
      this.pending.delete(e.data.id);
      clearTimeout(waiting.timer);
      if (e.data.answer.dead) this.end(null);
      waiting.resolve(e.data.answer);
    };
    this.worker.onerror = () => this.end({ error: t('budget'), reason: 'no_qr_code' });
  }

  // Ends the worker; what waits on it is answered with `answer`.
  end(answer) {
    this.worker?.terminate();
    this.worker = null;
    for (const waiting of this.pending.values()) {
      clearTimeout(waiting.timer);
      waiting.resolve(answer);
    }
    this.pending.clear();
  }

  // The engine's answer to `op` (`scan`, `image`) within the budget.
  read(op, header, payload) {
    if (!this.worker) this.start();
    const id = ++this.next;
    const answer = new Promise((resolve) => {
      const timer = setTimeout(() => this.end({ error: t('budget'), reason: 'no_qr_code' }), READ_BUDGET_MS);
      this.pending.set(id, { resolve, timer });
    });
    this.worker.postMessage({ id, op, header, payload }, [payload.buffer]);
    return answer;
  }
}
const reader = new Reader();
app.reader = reader;

// ---- the camera: frames read by the engine (BarcodeDetector first where the browser has it)
class Scanner {
  constructor(video, onText) {
    this.video = video;
    this.onText = onText;
    this.canvas = document.createElement('canvas');
    this.running = false;
    this.detector = 'BarcodeDetector' in window ? new window.BarcodeDetector({ formats: ['qr_code'] }) : null;
  }

  async start() {
    this.stream = await navigator.mediaDevices.getUserMedia({
      video: { facingMode: 'environment', width: { ideal: 640 }, height: { ideal: 480 } }, audio: false,
    });
    this.video.srcObject = this.stream;
    this.video.hidden = false;
    await this.video.play();
    this.running = true;
    this.tick();
  }

  stop() {
    this.running = false;
    this.stream?.getTracks().forEach((track) => track.stop());
    this.video.hidden = true;
  }

  async read() {
    if (this.detector) {
      try {
        const found = await this.detector.detect(this.video);
        if (found.length) return found[0].rawValue;
      } catch { this.detector = null; }
    }
    const { videoWidth: w, videoHeight: h } = this.video;
    if (!w || !h) return null;
    const scale = Math.min(1, 640 / Math.max(w, h));
    const [cw, ch] = [Math.round(w * scale), Math.round(h * scale)];
    this.canvas.width = cw;
    this.canvas.height = ch;
    const context = this.canvas.getContext('2d', { willReadFrequently: true });
    context.drawImage(this.video, 0, 0, cw, ch);
    const rgba = context.getImageData(0, 0, cw, ch).data;
    const luma = new Uint8Array(cw * ch);
    for (let i = 0, j = 0; j < luma.length; i += 4, j += 1) {
      luma[j] = (rgba[i] * 77 + rgba[i + 1] * 150 + rgba[i + 2] * 29) >> 8;
    }
    const started = performance.now();
    const answer = await reader.read('scan', { width: cw, height: ch }, luma);
    app.stats.frames.push({ ms: performance.now() - started, width: cw, height: ch, found: !!answer.text });
    return answer.text || null;
  }

  async tick() {
    if (!this.running) return;
    const text = await this.read();
    if (text) this.onText(text);
    setTimeout(() => this.tick(), 30);
  }
}

// A queue of people: each new code is judged as it comes; the same code held up again within
// three seconds is not judged twice.
let last = { text: '', at: 0 };
function scanned(text) {
  if (text === last.text && Date.now() - last.at < 3000) return;
  last = { text, at: Date.now() };
  verify([text]);
}

async function startScan(scanner, buttons) {
  try {
    await scanner.start();
    buttons.start.hidden = true;
    buttons.stop.hidden = false;
  } catch {
    notice(t('no_camera'));
  }
}

function stopScan(scanner, buttons) {
  scanner.stop();
  buttons.start.hidden = false;
  buttons.stop.hidden = true;
}

async function imageText(file) {
  const bytes = new Uint8Array(await file.arrayBuffer());
  const large = bytes.length > LARGE_IMAGE;
  const answer = await reader.read('image', {}, bytes);
  if (large) reader.end(null);
  return answer;
}

// ---- the wallet: credentials kept on this device only, listed and chosen by the engine
async function addToWallet(text) {
  const note = $('#wallet-note');
  const clean = text.trim();
  const { id, text: kept } = app.engine.call('identify', { text: clean });
  if (!id) {
    const answer = app.engine.call('verify', { texts: [clean], now: now(), lang: app.lang, queue: true });
    note.textContent = `${t('not_added')}: ${answer.error || (answer[0] ? answer[0].words.verdict : '')}`;
    return false;
  }
  await dbPut('wallet', id, { text: kept, added_at: now() });
  await showWallet();
  const added = document.querySelector(`#entries [data-credential-id="${id}"] .what`);
  note.textContent = `${t('added')}: ${added ? added.textContent : id}`;
  return true;
}

function button(label, action, onclick) {
  const b = document.createElement('button');
  b.type = 'button';
  b.textContent = label;
  b.dataset.action = action;
  b.onclick = onclick;
  return b;
}

async function showWallet() {
  const kept = await dbAll('wallet');
  const texts = kept.map((k) => k.text);
  const { entries, best } = app.engine.call('wallet', { texts, now: now(), lang: app.lang });
  $('#wallet-empty').hidden = entries.length > 0;
  $('#best').textContent = '';
  const items = [];
  let person = null;
  for (const e of entries) {
    if (e.person !== person) {
      person = e.person;
      const head = document.createElement('li');
      head.className = 'person';
      head.textContent = `${e.name} · ${e.birth_date}`;
      items.push(head);
    }
    const li = document.createElement('li');
    li.dataset.credentialId = e.id;
    li.dataset.verdict = e.verdict;
    if (best && best.id === e.id) li.classList.add('best');
    const what = document.createElement('div');
    what.className = 'what';
    what.textContent = e.type_words + (best && best.id === e.id ? ` — ${t('best')}` : '');
    const state = document.createElement('div');
    state.textContent = `${e.verdict_words} · ${t('until')} ${e.valid_until}`;
    const actions = document.createElement('div');
    actions.className = 'actions';
    actions.append(
      button(t('show'), 'show', () => showQr(e.text, `${e.name} · ${e.type_words}`)),
      button('PDF', 'pdf', () => savePdf(e, texts)),
      button(t('remove'), 'remove', async () => { await dbDelete('wallet', e.id); await showWallet(); }),
    );
    li.append(what, state, actions);
    items.push(li);
  }
  $('#entries').replaceChildren(...items);
}

// The PDF: what it takes from the trust data from the engine, the printing from a module of its
// own (its font is half a megabyte), fetched the first time (the service worker keeps it).
async function makePdf(text, texts) {
  const context = app.engine.call('pdf_context', { text });
  if (!app.printer) app.printer = await Engine.load('pdf.wasm');
  return app.printer.raw('pdf', { text, texts, context });
}
app.makePdf = makePdf;

async function savePdf(entry, texts) {
  const bytes = await makePdf(entry.text, texts);
  if (bytes[0] === 0x7b) { // `{`: an error in JSON, not a PDF
    $('#wallet-note').textContent = JSON.parse(new TextDecoder().decode(bytes)).error;
    return;
  }
  const link = document.createElement('a');
  link.href = URL.createObjectURL(new Blob([bytes], { type: 'application/pdf' }));
  link.download = `certificate-${entry.id}.pdf`;
  link.click();
  setTimeout(() => URL.revokeObjectURL(link.href), 10000);
}

function showQr(text, caption) {
  const answer = app.engine.call('qr', { text });
  if (answer.error) return;
  const { size, modules } = answer;
  const quiet = 4;
  const scale = Math.max(4, Math.floor(Math.min(window.innerWidth, window.innerHeight) * 2 / (size + 2 * quiet)));
  const canvas = $('#qr');
  canvas.width = canvas.height = (size + 2 * quiet) * scale;
  const context = canvas.getContext('2d');
  context.fillStyle = '#fff';
  context.fillRect(0, 0, canvas.width, canvas.height);
  context.fillStyle = '#000';
  for (let y = 0; y < size; y += 1) {
    for (let x = 0; x < size; x += 1) {
      if (modules[y * size + x] === '1') context.fillRect((x + quiet) * scale, (y + quiet) * scale, scale, scale);
    }
  }
  $('#show-caption').textContent = caption;
  $('#show').hidden = false;
}

// ---- the page
function translate() {
  document.documentElement.lang = app.lang;
  document.querySelectorAll('[data-i18n]').forEach((el) => { el.textContent = t(el.dataset.i18n); });
  $('#lang').textContent = t('lang');
}

function mode(name) {
  document.querySelectorAll('[data-mode]').forEach((b) => b.setAttribute('aria-pressed', String(b.dataset.mode === name)));
  $('#verify').hidden = name !== 'verify';
  $('#wallet').hidden = name !== 'wallet';
  if (name === 'wallet') showWallet();
}

async function main() {
  const params = new URLSearchParams(location.search);
  app.lang = params.get('lang') || localStorage.getItem('propusk-lang')
    || (navigator.language.startsWith('ru') ? 'ru' : 'en');
  translate();
  if ('serviceWorker' in navigator) navigator.serviceWorker.register('sw.js').catch(() => {});
  app.db = await openDb();
  app.config = await (await fetch('config.json')).json();
  app.config.roots.forEach((r) => { if (!r.url) r.url = location.origin; });
  app.engine = await Engine.load('engine.wasm');
  app.engine.call('pin', { roots: app.config.roots.map((r) => r.key) });
  reader.start();
  await restoreTrust();
  app.stats.restored = performance.now();
  showStatus();

  const verifier = new Scanner($('#video'), scanned);
  const vButtons = { start: $('[data-action=scan]'), stop: $('[data-action=stop]') };
  vButtons.start.onclick = () => startScan(verifier, vButtons);
  vButtons.stop.onclick = () => stopScan(verifier, vButtons);
  $('#image').onchange = async (e) => {
    const read = await imageText(e.target.files[0]);
    if (read.text) verify([read.text]);
    else show({ verdict: 'invalid', reason: read.reason, words: { verdict: read.error, details: [] } });
    e.target.value = '';
  };
  $('#paste').onsubmit = (e) => { e.preventDefault(); verify([$('#text').value.trim()]); };
  $('[data-action=sync]').onclick = () => sync();
  $('#policy').onchange = () => localStorage.setItem('propusk-policy', policy() || '');

  const collector = new Scanner($('#wallet-video'), async (text) => {
    if (await addToWallet(text)) stopScan(collector, wButtons);
  });
  const wButtons = { start: $('[data-action=wallet-scan]'), stop: $('[data-action=wallet-stop]') };
  wButtons.start.onclick = () => startScan(collector, wButtons);
  wButtons.stop.onclick = () => stopScan(collector, wButtons);
  $('#wallet-image').onchange = async (e) => {
    const read = await imageText(e.target.files[0]);
    if (read.text) await addToWallet(read.text);
    else $('#wallet-note').textContent = `${t('not_added')}: ${read.error}`;
    e.target.value = '';
  };
  $('#wallet-paste').onsubmit = async (e) => {
    e.preventDefault();
    if (await addToWallet($('#wallet-text').value)) $('#wallet-text').value = '';
  };
  $('[data-action=close]').onclick = () => { $('#show').hidden = true; };
  document.querySelectorAll('[data-mode]').forEach((b) => { b.onclick = () => mode(b.dataset.mode); });
  $('#lang').onclick = () => {
    app.lang = app.lang === 'ru' ? 'en' : 'ru';
    localStorage.setItem('propusk-lang', app.lang);
    translate();
    showStatus();
    if (!$('#wallet').hidden) showWallet();
  };
  window.addEventListener('online', () => sync());
  // Trust data current while the app stays open: every few minutes while online and visible,
  // and at once when the page is shown again (a failed sync keeps the data in force).
  const RESYNC_MS = 3 * 60 * 1000;
  setInterval(() => {
    if (navigator.onLine && document.visibilityState === 'visible') sync();
  }, RESYNC_MS);
  document.addEventListener('visibilitychange', () => {
    if (navigator.onLine && document.visibilityState === 'visible') sync();
  });
  window.addEventListener('offline', () => showStatus());

  // An offline link opened here (`#add=…`, from the portal page): offered to the wallet.
  const hash = location.hash.slice(1);
  if (hash.startsWith('add=')) {
    mode('wallet');
    $('#wallet-text').value = hash.slice(4).replaceAll('%20', ' ').replaceAll('%25', '%');
  } else if (params.get('mode') === 'wallet') {
    mode('wallet');
  }
  document.body.dataset.ready = 'true';
  await sync();
  app.stats.synced = performance.now();
  document.body.dataset.synced = 'true';
}

main();
