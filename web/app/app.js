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
    camera_none: 'This device has no camera: open an image or paste the text instead.',
    camera_denied: 'The camera is not allowed for this page: allow it in the browser\'s site settings (the icon by the address), or open an image.',
    camera_busy: 'The camera is busy in another app: close that app, then press Scan again.',
    camera_insecure: 'The camera works only on a secure (https) page: open the app by its https address, or open an image.',
    switch_camera: 'Other camera', torch: 'Light',
    checked: 'checked at',
    unread: {
      no_qr_code: 'No QR code found: show the code again, closer and steady.',
      not_an_image: 'Not a PNG or JPEG image: open a photo or a screenshot of the code.',
      image_too_large: 'The image is too large: open a smaller photo or a screenshot.',
    },
    trip_title: 'Before a trip', trip_to: 'Country (DE, FR…)', trip_on: 'Travel on', trip_back: 'Back on',
    trip_policy: 'Door policy (optional)',
    holder_name: 'Your name (your own note: a code carries initials only)',
    trip_check: 'Check the trip',
    twin: 'EU DCC for travel', remove_sure: 'Remove this certificate from the device?', keep: 'Keep',
    trust_none: 'No trust data yet: connect to the network once.',
    trust_line: (s) => `Trust data ${s.sequence} (${s.issuer || s.jurisdiction}): ${s.state_words}, made ${s.age_words} ago, updated at ${clock(s.synced_at)}`,
    offline: 'offline', syncing: 'Updating…', save_link: 'Save to wallet',
    clock: 'The device clock is behind the trust data: set the clock right.',
    sync_failed: 'not updated', unreachable: 'the server cannot be reached',
    budget: 'No QR code found in the image within 4 s: open a clearer photo or a screenshot.',
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
    camera_none: 'На этом устройстве нет камеры: откройте изображение или вставьте текст.',
    camera_denied: 'Камера для этой страницы запрещена: разрешите её в настройках сайта (значок у адреса) или откройте изображение.',
    camera_busy: 'Камера занята другим приложением: закройте его и нажмите «Сканировать» ещё раз.',
    camera_insecure: 'Камера работает только на защищённой странице (https): откройте приложение по адресу https или откройте изображение.',
    switch_camera: 'Другая камера', torch: 'Фонарик',
    checked: 'проверено в',
    unread: {
      no_qr_code: 'QR-код не найден: покажите код ещё раз, ближе и ровнее.',
      not_an_image: 'Это не изображение PNG или JPEG: откройте фото или снимок экрана с кодом.',
      image_too_large: 'Изображение слишком большое: откройте фото поменьше или снимок экрана.',
    },
    trip_title: 'Перед поездкой', trip_to: 'Страна (DE, FR…)', trip_on: 'Дата поездки', trip_back: 'Дата возвращения',
    trip_policy: 'Правило входа (необязательно)',
    holder_name: 'Ваше имя (ваша заметка: код несёт только инициалы)',
    trip_check: 'Проверить поездку',
    twin: 'EU DCC для поездок', remove_sure: 'Удалить этот сертификат с устройства?', keep: 'Оставить',
    trust_none: 'Данных проверки ещё нет: подключитесь к сети хотя бы раз.',
    trust_line: (s) => `Данные проверки ${s.sequence} (${s.issuer || s.jurisdiction}): ${s.state_words}, выпущены ${s.age_words} назад, обновлены в ${clock(s.synced_at)}`,
    offline: 'нет сети', syncing: 'Обновление…', save_link: 'Сохранить в кошелёк',
    clock: 'Часы устройства отстают от данных проверки: поставьте верное время.',
    sync_failed: 'не обновлены', unreachable: 'сервер недоступен',
    budget: 'QR-код не найден в изображении за 4 с: откройте более чёткое фото или снимок экрана.',
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
// A time of day on this device's clock, as the guard reads it (with seconds: the moment of a
// check).
const clock = (unix, seconds = false) => new Date(unix * 1000).toLocaleTimeString(
  app.lang === 'ru' ? 'ru-RU' : 'en-GB',
  { hour: '2-digit', minute: '2-digit', ...(seconds ? { second: '2-digit' } : {}) },
);
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
  // Up to date; or the server is behind the data in force (lag: the data in force stays).
  if (plan.up_to_date !== undefined) return plan.behind === undefined ? null : { words: plan.words[app.lang] };
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

// The trust panel: the data in force on one line, and at most one thing more on the next (in
// this order: data rolled back, the last sync's outcome, a warning about its age, offline).
function showStatus(extra = '') {
  const [home] = app.engine.call('status', { now: now(), lang: app.lang });
  showPolicies(home);
  const line = $('#trust');
  line.dataset.state = home.state;
  line.dataset.sequence = home.sequence ?? '';
  const none = home.sequence === undefined;
  line.textContent = sentence(none ? t('trust_none') : t('trust_line')(home));
  const more = [app.rolledBack ? t('rolled_back') : '', extra, none ? '' : home.warning,
    navigator.onLine ? '' : t('offline')].find(Boolean) || '';
  $('#trust-note').textContent = sentence(more);
}

// A sentence ends with its stop, and starts with a capital letter.
function sentence(s) {
  if (!s) return '';
  const ended = /[.!?…]$/.test(s) ? s : `${s}.`;
  return ended[0].toUpperCase() + ended.slice(1);
}

// ---- verifying
// Each scan is the door's next: when the door's policy found what the holder showed just before
// incomplete (an exemption waiting for its test), the engine judges the next code with it.
function verify(texts, from = 'text') {
  const next = texts.length === 1;
  const answer = app.engine.call('verify', { texts, now: now(), lang: app.lang, policy: policy(), next });
  if (answer.error) {
    // Not a verdict (a clock set back, a policy gone from the rules): said, with no verdict.
    notice(answer.code === 'clock_behind' ? t('clock') : answer.error);
    return null;
  }
  show(answer[0], texts[0], from);
  return answer[0];
}

// A verdict belongs to one moment: a camera's is cleared this long after its code left the
// camera; one from an image or a text after a minute.
const CLEAR_AFTER_CAMERA_MS = 5000;
const CLEAR_AFTER_OTHER_MS = 60000;
// What the verdict area shows: the code judged, where it came from, when it was last seen.
const shown = { text: null, from: null, seen: 0 };

// Clears the verdict area back to «Отсканируйте» (or to a notice's words).
function clearVerdict(words = t('ready')) {
  const box = $('#verdict');
  box.dataset.verdict = '';
  box.dataset.reason = '';
  box.dataset.notice = '';
  box.classList.remove('flash');
  delete box.dataset.checkedAt;
  box.querySelector('.line').textContent = words;
  box.querySelector('.holder').replaceChildren();
  box.querySelector('.details').replaceChildren();
  box.querySelector('.when').textContent = '';
  shown.text = null;
}

// A message in the verdict's place that is not a verdict (no code read, no camera, a clock set
// back): `data-verdict` stays empty; a read failure names itself in `data-notice`.
function notice(message, code = '') {
  clearVerdict(message);
  $('#verdict').dataset.notice = code;
}

// Words for a read that found nothing (the engine's reason, or the page's budget).
function unread(answer) {
  if (answer.error === t('budget')) return answer.error;
  return t('unread')[answer.reason] || answer.error || t('unread').no_qr_code;
}

function show(report, text, from) {
  if (app.stats.firstVerdict === undefined && report.id) app.stats.firstVerdict = performance.now();
  const box = $('#verdict');
  box.dataset.verdict = report.verdict;
  box.dataset.reason = report.reason || '';
  box.dataset.notice = '';
  const at = new Date();
  box.dataset.checkedAt = at.toISOString();
  box.querySelector('.line').textContent = report.words.verdict;
  box.querySelector('.holder').replaceChildren(...report.words.holder.map((h) => {
    const div = document.createElement('div');
    div.textContent = h;
    return div;
  }));
  box.querySelector('.details').replaceChildren(...report.words.details.map((d) => {
    const li = document.createElement('li');
    li.textContent = d;
    return li;
  }));
  box.querySelector('.when').textContent = `${t('checked')} ${clock(at.getTime() / 1000, true)}`;
  Object.assign(shown, { text, from, seen: Date.now() });
  signal(report.verdict);
}

// Each new verdict is signalled, so that a guard sees it even when it is green again: a flash
// of the verdict area, a vibration where the phone has one, a tone (high and short for valid,
// low and double otherwise) once a press has allowed the page sound.
let signals = 0;
function signal(verdict) {
  const box = $('#verdict');
  box.dataset.signal = String(++signals);
  box.classList.remove('flash');
  void box.offsetWidth; // restarts the animation
  box.classList.add('flash');
  const good = verdict === 'valid';
  if (navigator.vibrate) navigator.vibrate(good ? 80 : [180, 90, 180]);
  const audio = app.audio;
  if (!audio || audio.state !== 'running') return;
  const beep = (start, hz, length) => {
    const tone = audio.createOscillator();
    const gain = audio.createGain();
    tone.frequency.value = hz;
    gain.gain.setValueAtTime(0.2, audio.currentTime + start);
    gain.gain.exponentialRampToValueAtTime(0.001, audio.currentTime + start + length);
    tone.connect(gain).connect(audio.destination);
    tone.start(audio.currentTime + start);
    tone.stop(audio.currentTime + start + length);
  };
  if (good) beep(0, 1320, 0.12);
  else if (verdict === 'incomplete') beep(0, 660, 0.2);
  else {
    beep(0, 330, 0.16);
    beep(0.22, 330, 0.16);
  }
}

// The verdict area's clock: a verdict whose code has left is cleared.
function clearWhenGone() {
  if (!shown.text || !$('#verdict').dataset.verdict) return;
  const after = shown.from === 'camera' ? CLEAR_AFTER_CAMERA_MS : CLEAR_AFTER_OTHER_MS;
  if (Date.now() - shown.seen > after) clearVerdict();
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
    this.torch = false;
    this.detector = 'BarcodeDetector' in window ? new window.BarcodeDetector({ formats: ['qr_code'] }) : null;
  }

  // The camera last chosen on this device: the rear one unless a tablet on a stand was turned
  // to face the people.
  get facing() {
    return localStorage.getItem('propusk-facing') || 'environment';
  }

  async start() {
    if (!navigator.mediaDevices?.getUserMedia) {
      const e = new Error('no mediaDevices');
      e.name = window.isSecureContext ? 'NotFoundError' : 'InsecureContext';
      throw e;
    }
    this.stream = await navigator.mediaDevices.getUserMedia({
      video: { facingMode: this.facing, width: { ideal: 640 }, height: { ideal: 480 } }, audio: false,
    });
    this.video.srcObject = this.stream;
    this.video.hidden = false;
    await this.video.play();
    this.running = true;
    this.torch = false;
    await this.keepAwake();
    this.tick();
  }

  stop() {
    this.running = false;
    this.stream?.getTracks().forEach((track) => track.stop());
    this.video.hidden = true;
    this.awake?.release().catch(() => {});
    this.awake = null;
  }

  // The screen stays on while scanning (Wake Lock, where the browser has it).
  async keepAwake() {
    try {
      if (this.running && !this.awake && navigator.wakeLock) {
        this.awake = await navigator.wakeLock.request('screen');
        this.awake.addEventListener('release', () => { this.awake = null; });
      }
    } catch { /* refused (battery saver): the screen follows its own timeout */ }
  }

  // Whether the camera in use has a torch.
  hasTorch() {
    const track = this.stream?.getVideoTracks()[0];
    return Boolean(track?.getCapabilities?.().torch);
  }

  async toggleTorch() {
    const track = this.stream?.getVideoTracks()[0];
    if (!track) return false;
    this.torch = !this.torch;
    try {
      await track.applyConstraints({ advanced: [{ torch: this.torch }] });
    } catch {
      this.torch = false;
    }
    return this.torch;
  }

  // The other camera (rear ⇄ front), remembered on this device.
  async switchCamera() {
    localStorage.setItem('propusk-facing', this.facing === 'environment' ? 'user' : 'environment');
    this.stop();
    await this.start();
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
    if (text && this.running) this.onText(text);
    setTimeout(() => this.tick(), 30);
  }
}

// A queue of people: each new code is judged as it comes. A code whose verdict is on screen is
// only seen again (its verdict stays while it stays); once cleared, it is judged afresh.
function scanned(text) {
  if (text === shown.text && $('#verdict').dataset.verdict) {
    shown.seen = Date.now();
    return;
  }
  verify([text], 'camera');
}

// Why a camera did not start, as the page's words: denied, none, busy, or an insecure page.
function cameraTrouble(e) {
  switch (e?.name) {
    case 'NotAllowedError':
    case 'SecurityError':
      return t('camera_denied');
    case 'NotReadableError':
    case 'AbortError':
    case 'TrackStartError':
      return t('camera_busy');
    case 'InsecureContext':
      return t('camera_insecure');
    default:
      return t('camera_none');
  }
}

async function startScan(scanner, buttons, say) {
  // The press that starts the camera also lets the page sound its signal.
  if (!app.audio && window.AudioContext) app.audio = new AudioContext();
  app.audio?.resume().catch(() => {});
  try {
    await scanner.start();
  } catch (e) {
    say(cameraTrouble(e), e?.name || 'camera');
    return;
  }
  buttons.start.hidden = true;
  buttons.stop.hidden = false;
  if (buttons.torch) {
    buttons.torch.hidden = !scanner.hasTorch();
    buttons.torch.setAttribute('aria-pressed', 'false');
  }
  if (buttons.camera) {
    const cameras = (await navigator.mediaDevices.enumerateDevices?.() || [])
      .filter((d) => d.kind === 'videoinput');
    buttons.camera.hidden = cameras.length < 2;
  }
}

function stopScan(scanner, buttons) {
  scanner.stop();
  buttons.start.hidden = false;
  buttons.stop.hidden = true;
  if (buttons.torch) buttons.torch.hidden = true;
  if (buttons.camera) buttons.camera.hidden = true;
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
  // The holder's own note of the name (a code carries initials only), kept with the code.
  const name = $('#wallet-name').value.trim() || undefined;
  await dbPut('wallet', id, { text: kept, added_at: now(), name });
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
  const names = kept.map((k) => k.name || null);
  const { entries, best } = app.engine.call('wallet', { texts, names, now: now(), lang: app.lang });
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
    // An EU twin stands under its credential, named for what it is for.
    const label = e.twin_of ? `${t('twin')} · ${e.type_words}` : e.type_words;
    if (e.twin_of) li.classList.add('twin');
    what.textContent = label + (best && best.id === e.id ? ` — ${t('best')}` : '');
    const state = document.createElement('div');
    state.textContent = `${e.verdict_words} · ${t('until')} ${e.valid_until}`;
    const actions = document.createElement('div');
    actions.className = 'actions';
    const usual = [
      button(t('show'), 'show', () => showQr(e.text, `${e.name} · ${label}`)),
      button('PDF', 'pdf', () => savePdf(e, texts, names.some((n) => n) ? e.name : null)),
      button(t('remove'), 'remove', () => {
        // Removing is asked once more: a credential removed is gone from this device.
        const question = document.createElement('span');
        question.className = 'question';
        question.textContent = t('remove_sure');
        actions.replaceChildren(
          question,
          button(t('remove'), 'remove-yes', async () => { await dbDelete('wallet', e.id); await showWallet(); }),
          button(t('keep'), 'remove-no', () => actions.replaceChildren(...usual)),
        );
      }),
    ];
    actions.append(...usual);
    li.append(what, state, actions);
    items.push(li);
  }
  $('#entries').replaceChildren(...items);
}

// The trip check: the kept certificates judged by the destination's rules on the day (noon UTC
// of the date chosen), offline, by the engine; its words a line each.
async function checkTrip() {
  const kept = await dbAll('wallet');
  const texts = kept.map((k) => k.text);
  const names = kept.map((k) => k.name || null);
  const day = (id) => {
    const value = $(id).value;
    if (!value) return null;
    const [y, m, d] = value.split('-').map(Number);
    return Math.floor(Date.UTC(y, m - 1, d, 12) / 1000);
  };
  const answer = app.engine.call('trip', {
    texts, names, now: now(), lang: app.lang, to: $('#trip-to').value.trim().toUpperCase(),
    on: day('#trip-on'), back: day('#trip-back'), policy: $('#trip-policy').value.trim() || null,
  });
  const out = $('#trip');
  if (answer.error) {
    out.dataset.tripVerdict = '';
    out.textContent = answer.error;
    return;
  }
  out.dataset.tripVerdict = answer.verdict;
  out.dataset.show = answer.show || '';
  out.replaceChildren(...answer.lines.map((line) => {
    const p = document.createElement('p');
    p.textContent = line.trim();
    if (line.startsWith('    ')) p.className = 'detail';
    return p;
  }));
}

// The PDF: what it takes from the trust data from the engine, the printing from a module of its
// own (its font is half a megabyte), fetched the first time (the service worker keeps it).
async function makePdf(text, texts, name) {
  const context = app.engine.call('pdf_context', { text });
  if (name) context.name = name;
  if (!app.printer) app.printer = await Engine.load('pdf.wasm');
  return app.printer.raw('pdf', { text, texts, context });
}
app.makePdf = makePdf;

async function savePdf(entry, texts, name) {
  const bytes = await makePdf(entry.text, texts, name);
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
  // Shown to a scanner: the screen kept on and the page full-screen (white, as bright as the
  // page can make it: no browser lets a page set the screen's brightness).
  $('#show').requestFullscreen?.().catch(() => {});
  navigator.wakeLock?.request('screen').then((lock) => { app.showLock = lock; }).catch(() => {});
}

function closeQr() {
  $('#show').hidden = true;
  if (document.fullscreenElement) document.exitFullscreen().catch(() => {});
  app.showLock?.release().catch(() => {});
  app.showLock = null;
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
  app.verifier = verifier;
  const vButtons = {
    start: $('[data-action=scan]'), stop: $('[data-action=stop]'),
    torch: $('[data-action=torch]'), camera: $('[data-action=camera]'),
  };
  vButtons.start.onclick = () => startScan(verifier, vButtons, notice);
  vButtons.stop.onclick = () => stopScan(verifier, vButtons);
  vButtons.torch.onclick = async () => {
    vButtons.torch.setAttribute('aria-pressed', String(await verifier.toggleTorch()));
  };
  vButtons.camera.onclick = async () => {
    try {
      await verifier.switchCamera();
    } catch (e) {
      stopScan(verifier, vButtons);
      notice(cameraTrouble(e), e?.name || 'camera');
    }
    vButtons.torch.hidden = !verifier.hasTorch();
  };
  setInterval(clearWhenGone, 500);
  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState === 'visible') verifier.keepAwake();
  });
  $('#image').onchange = async (e) => {
    const read = await imageText(e.target.files[0]);
    // A read failure is a notice in the page's language, never a verdict.
    if (read.text) verify([read.text], 'image');
    else notice(unread(read), read.reason || 'no_qr_code');
    e.target.value = '';
  };
  $('#paste').onsubmit = (e) => { e.preventDefault(); verify([$('#text').value.trim()], 'text'); };
  $('[data-action=sync]').onclick = () => sync();
  $('#policy').onchange = () => localStorage.setItem('propusk-policy', policy() || '');

  const collector = new Scanner($('#wallet-video'), async (text) => {
    if (await addToWallet(text)) stopScan(collector, wButtons);
  });
  const wButtons = { start: $('[data-action=wallet-scan]'), stop: $('[data-action=wallet-stop]') };
  const walletNote = (words) => { $('#wallet-note').textContent = words; };
  wButtons.start.onclick = () => startScan(collector, wButtons, walletNote);
  wButtons.stop.onclick = () => stopScan(collector, wButtons);
  $('#wallet-image').onchange = async (e) => {
    const read = await imageText(e.target.files[0]);
    if (read.text) await addToWallet(read.text);
    else walletNote(`${t('not_added')}: ${unread(read)}`);
    e.target.value = '';
  };
  $('#wallet-paste').onsubmit = async (e) => {
    e.preventDefault();
    if (await addToWallet($('#wallet-text').value)) {
      $('#wallet-text').value = '';
      $('#wallet-name').value = '';
    }
  };
  $('#trip-form').onsubmit = (e) => { e.preventDefault(); checkTrip(); };
  $('[data-action=close]').onclick = closeQr;
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
