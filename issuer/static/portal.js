// An offline-verifiable link carries the signed certificate after '#' (the fragment never
// reaches the server): say so, keep it when the language changes, and check it here with the
// verifiers' own engine (WebAssembly, from the web app) against this issuer's published trust
// data: signature, key, expiry, revocation and rules, shown next to the server's status.
import { Engine } from '/app/engine.js';

// The fragment stays percent-encoded (`%25`, `%20`, as links are made): the engine reads the
// whole link, and checks that its path names the credential the fragment holds.
if (location.hash.length > 5) {
  const note = document.getElementById('note');
  note.textContent += ' ' + note.getAttribute('data-fragment');
  const lang = document.getElementById('lang');
  lang.href = lang.getAttribute('href') + location.hash;
  // Without the query (`?lang=`): the link as it was made.
  check(document.getElementById('offline'), location.origin + location.pathname + location.hash)
    .then((verdict) => {
      // The web app's wallet on this phone offers to keep it: only a certificate that passed
      // its check here (never a damaged, forged or another person's one).
      if (verdict !== 'valid') return;
      const save = document.getElementById('save');
      save.href = `/app/?mode=wallet&lang=${document.documentElement.lang}#add=${location.hash.slice(1)}`;
      save.hidden = false;
    });
}

async function check(box, link) {
  box.hidden = false;
  box.textContent = box.dataset.checking;
  const now = Math.floor(Date.now() / 1000);
  try {
    const config = await (await fetch('/app/config.json')).json();
    const engine = await Engine.load('/app/engine.wasm');
    engine.call('pin', { roots: config.roots.map((r) => r.key) });
    const get = async (name) => {
      const response = await fetch('/bundle/' + name, { cache: 'no-store' });
      if (!response.ok) throw new Error(`${name}: ${response.status}`);
      return new Uint8Array(await response.arrayBuffer());
    };
    const plan = engine.call('index', { root: 0 }, await get('index.cbor'));
    if (plan.error) throw new Error(plan.error);
    const taken = engine.call('take', { root: 0, now, delta: false }, await get(plan.fetch));
    if (taken.error) throw new Error(taken.error);
    const [report] = engine.call('verify', { texts: [link], now, lang: box.dataset.lang });
    // The holder's items on one line here: the page above shows them already.
    const holder = report.words.holder.length ? [report.words.holder.join('   ')] : [];
    show(box, report.verdict, report.reason || '', report.words.verdict, [...holder, ...report.words.details]);
    return report.verdict;
  } catch (e) {
    show(box, 'unknown', 'trust_data_missing', String(e.message || e), []);
    return 'unknown';
  }
}

function show(box, verdict, reason, line, details) {
  box.dataset.offlineVerdict = verdict;
  box.dataset.reason = reason;
  box.className = 'offline ' + verdict;
  const label = document.createElement('div');
  label.className = 'label';
  label.textContent = box.dataset.label;
  const head = document.createElement('div');
  head.className = 'line';
  head.textContent = line;
  const list = document.createElement('ul');
  for (const d of details) {
    const li = document.createElement('li');
    li.textContent = d;
    list.append(li);
  }
  box.replaceChildren(label, head, list);
}
