// app.js -- the laps admin web console (docs/CONSOLE.md).
//
// A client of laps-escrowd's /v1 API (docs/REST-API.md) that signs in with
// the organisation's OpenID Connect issuer (authorization code + PKCE,
// public client) and opens sealed records in the browser with the admin's
// own key (docs/FORMAT.md sections 2 and 4, libsodium).  The access token
// and the admin key live in this module's memory only: never in
// localStorage, sessionStorage (which holds only the PKCE verifier and
// state between the redirect and the callback), cookies or the server.
// Nothing here assigns HTML: every text goes through textContent (the
// page's CSP also enforces Trusted Types, so a string in a DOM sink throws).
import sodium from './sodium.mjs';

const S = {
  cfg: null, // config.json: issuer, audience, client_id, scope, rights_claim, values
  oidc: null, // the issuer's discovery document
  token: null, // access token (memory only)
  claims: null, // its payload, for display and for which buttons to offer
  expiryTimer: null,
  key: null, // { sk: Uint8Array, pk: Uint8Array, id, comment }
  pendingKey: null, // a protected key file waiting for its passphrase
  clipTimer: null,
  hideTimer: null,
  counting: 0, // generation of the fleet status count, to stop an old one
};
const GRACE = 86400; // as laps-get report --grace (1 day)
const PAGE = 100;
const $ = (id) => document.getElementById(id);

// ---------- DOM helpers: text only ----------
function h(tag, attrs, ...kids) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') e.className = v;
    else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v === true ? '' : String(v));
  }
  for (const k of kids.flat()) {
    if (k === null || k === undefined || k === false) continue;
    e.append(k instanceof Node ? k : document.createTextNode(String(k)));
  }
  return e;
}
function say(text, error) {
  const s = $('status');
  s.textContent = text || '';
  s.className = error ? 'error' : '';
}
function page(title, ...kids) {
  const m = $('main');
  m.replaceChildren(h('h1', { id: 'page-title', tabindex: '-1' }, title), ...kids.filter((k) => k !== null && k !== undefined));
  document.title = `${title} - laps console`;
  $('page-title').focus();
}
const fmtTime = (t) => (t ? new Date(t * 1000).toISOString().replace('T', ' ').replace(/\.000Z$/, 'Z') : '-');

// ---------- base64url, random, PKCE ----------
function b64url(bytes) {
  let s = '';
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}
const randomString = (n) => b64url(crypto.getRandomValues(new Uint8Array(n)));
async function challengeOf(verifier) {
  const d = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier));
  return b64url(new Uint8Array(d));
}
function jwtPayload(t) {
  try {
    const p = t.split('.')[1].replace(/-/g, '+').replace(/_/g, '/');
    const bin = atob(p + '='.repeat((4 - (p.length % 4)) % 4));
    return JSON.parse(new TextDecoder().decode(Uint8Array.from(bin, (c) => c.charCodeAt(0))));
  } catch {
    return {};
  }
}

// ---------- sign-in (RFC 6749 code flow, RFC 7636 PKCE, RFC 8707 resource) ----------
const redirectUri = () => `${location.origin}${location.pathname}`;

async function discover() {
  if (S.oidc) return S.oidc;
  const r = await fetch(`${S.cfg.issuer}/.well-known/openid-configuration`, { cache: 'no-store', credentials: 'omit' });
  if (!r.ok) throw new Error(`the issuer's discovery document: HTTP ${r.status}`);
  const d = await r.json();
  if (d.issuer !== S.cfg.issuer) throw new Error('the discovery document names another issuer');
  const origin = new URL(S.cfg.issuer).origin;
  for (const k of ['authorization_endpoint', 'token_endpoint']) {
    if (typeof d[k] !== 'string' || new URL(d[k]).origin !== origin) {
      throw new Error(`the issuer's ${k} is not on the issuer's origin`);
    }
  }
  S.oidc = d;
  return d;
}

async function signIn() {
  const d = await discover();
  const verifier = randomString(48);
  const state = randomString(24);
  sessionStorage.setItem('laps.pkce', JSON.stringify({ verifier, state }));
  const u = new URL(d.authorization_endpoint);
  u.search = new URLSearchParams({
    response_type: 'code',
    client_id: S.cfg.client_id,
    redirect_uri: redirectUri(),
    scope: S.cfg.scope,
    state,
    code_challenge: await challengeOf(verifier),
    code_challenge_method: 'S256',
    resource: S.cfg.audience,
  }).toString();
  location.assign(u.toString());
}

async function callback(params) {
  const saved = JSON.parse(sessionStorage.getItem('laps.pkce') || 'null');
  sessionStorage.removeItem('laps.pkce');
  history.replaceState(null, '', redirectUri()); // drop code and state from the URL
  if (params.get('error')) throw new Error(`the issuer refused: ${params.get('error')} ${params.get('error_description') || ''}`);
  if (!saved || params.get('state') !== saved.state) throw new Error('sign-in state mismatch: start again');
  if (params.get('iss') && params.get('iss') !== S.cfg.issuer) throw new Error('the answer came from another issuer');
  const d = await discover();
  const r = await fetch(d.token_endpoint, {
    method: 'POST',
    credentials: 'omit',
    cache: 'no-store',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      code: params.get('code') || '',
      redirect_uri: redirectUri(),
      client_id: S.cfg.client_id,
      code_verifier: saved.verifier,
      resource: S.cfg.audience,
    }),
  });
  const j = await r.json().catch(() => ({}));
  if (!r.ok || typeof j.access_token !== 'string') {
    throw new Error(`token request failed: ${j.error || r.status} ${j.error_description || ''}`);
  }
  setToken(j.access_token, Number(j.expires_in) || 300);
}

function setToken(token, expiresIn) {
  S.token = token;
  S.claims = jwtPayload(token);
  const exp = Number(S.claims.exp) ? S.claims.exp * 1000 - Date.now() : expiresIn * 1000;
  clearTimeout(S.expiryTimer);
  S.expiryTimer = setTimeout(() => signOut('Your session expired: sign in again.'), Math.max(0, exp));
}

function signOut(message) {
  S.token = null;
  S.claims = null;
  clearTimeout(S.expiryTimer);
  forgetKey();
  hidePassword();
  $('nav').hidden = true;
  $('who').hidden = true;
  $('keybar').hidden = true;
  say(message || 'Signed out.');
  showSignIn();
}

function showSignIn() {
  page('Sign in',
    h('p', {}, 'Sign in with your organisation\'s account to see the fleet. Passwords are decrypted in this browser with your own admin key; the server never sees them.'),
    h('button', { type: 'button', class: 'primary', id: 'signin', onclick: () => signIn().catch((e) => say(e.message, true)) }, 'Sign in'));
}

// ---------- rights (a hint for which controls to show; the server decides) ----------
function rightValues() {
  const v = S.claims ? S.claims[S.cfg.rights_claim] : undefined;
  if (typeof v === 'string') return v.split(' ').filter(Boolean);
  return Array.isArray(v) ? v.filter((x) => typeof x === 'string') : [];
}
function has(right) {
  const want = S.cfg.values[right];
  return rightValues().some((v) => v === want || v.startsWith(`${want}@`));
}
const canRead = () => has('read') || has('secret') || has('expire');

// ---------- the API ----------
async function api(path, opts = {}) {
  if (!S.token) throw new Error('not signed in');
  const headers = { Authorization: `Bearer ${S.token}` };
  if (opts.body !== undefined) headers['Content-Type'] = 'application/json';
  const r = await fetch(`/v1${path}`, {
    method: opts.method || 'GET',
    headers,
    body: opts.body !== undefined ? JSON.stringify(opts.body) : undefined,
    cache: 'no-store',
    credentials: 'omit',
  });
  const j = await r.json().catch(() => null);
  if (opts.headers) opts.headers.rotateBy = Number(r.headers.get('Laps-Rotate-By')) || 0;
  if (r.status === 401) {
    signOut('The server no longer accepts your sign-in: sign in again.');
    throw new Error('signed out');
  }
  if (!r.ok) {
    const e = new Error(j && j.detail ? `${j.detail} (${r.status})` : `HTTP ${r.status}`);
    e.status = r.status;
    e.code = j && j.code;
    throw e;
  }
  return j;
}
const enc = encodeURIComponent;

// ---------- status of a report row (as laps-get report) ----------
function statusOf(row, now) {
  if (row.state === 'pending') return now - row.rotated_at > GRACE ? 'stuck' : 'ok';
  if (!(row.expires_at > 0) || now < row.expires_at) return 'ok';
  return now - row.expires_at > GRACE ? 'overdue' : 'due';
}
const STATUSES = ['ok', 'due', 'overdue', 'stuck', 'never'];
const badge = (s) => h('span', { class: `badge s-${s}` }, s);

// ---------- fleet ----------
// The server sorts, filters and counts the whole fleet (docs/REST-API.md
// §5.5, §5.5.1): the page holds at most one page of rows.
const fleet = { tokens: [null], index: 0, sort: { key: 'device', dir: 1 }, status: '', search: '', rows: [], size: PAGE };
const SORT_PARAM = { status: 'health', device: 'device', rotated_at: 'rotated_at', expires_at: 'expires_at' };

async function countStatuses(list) {
  const gen = ++S.counting;
  list.replaceChildren(h('li', {}, 'counting...'));
  const q = new URLSearchParams({ grace: String(GRACE) });
  if (fleet.search) q.set('q', fleet.search);
  const j = await api(`/report/summary?${q}`);
  if (gen !== S.counting) return;
  const counts = { ...j.counts, never: 0 };
  list.replaceChildren(
    ...STATUSES.map((s) => h('li', { 'data-status': s }, badge(s), ' ', h('b', { id: `count-${s}` }, counts[s]))),
    h('li', {}, 'total ', h('b', { id: 'count-total' }, j.total)));
  list.setAttribute('data-complete', 'yes');
}

function restartFleet() {
  fleet.tokens = [null];
  fleet.index = 0;
  loadFleetPage();
}

async function showFleet() {
  fleet.tokens = [null]; // a fresh visit starts at page 1
  fleet.index = 0;
  const counts = h('ul', { class: 'counts', id: 'counts', 'aria-label': 'Accounts by status' });
  const search = h('input', { id: 'search', type: 'search', value: fleet.search, autocomplete: 'off', spellcheck: 'false' });
  const status = h('select', { id: 'status-filter' },
    h('option', { value: '' }, 'all'), ...STATUSES.slice(0, 4).map((s) => h('option', { value: s, selected: fleet.status === s }, s)));
  const form = h('form', { class: 'filters', role: 'search', onsubmit: (ev) => {
    ev.preventDefault();
    const changed = fleet.search !== search.value.trim().toLowerCase();
    fleet.search = search.value.trim().toLowerCase();
    fleet.status = status.value;
    if (changed) countStatuses(counts).catch(countFailed);
    restartFleet();
  } },
  h('label', { for: 'search' }, 'Device name starts with', search),
  h('label', { for: 'status-filter' }, 'Status', status),
  h('button', { type: 'submit' }, 'Apply'));
  const wrap = h('div', { class: 'tablewrap', id: 'fleet-table' });
  const pager = h('div', { class: 'pager', id: 'pager' });
  page('Fleet', counts, form, wrap, pager);
  countStatuses(counts).catch(countFailed);
  await loadFleetPage();
}

function countFailed(e) {
  if (e.message !== 'signed out') say(`counting: ${e.status === 400 ? 'not a device name' : e.message}`, true);
}

async function loadFleetPage() {
  const { key, dir } = fleet.sort;
  const q = new URLSearchParams({ page_size: String(fleet.size), grace: String(GRACE), sort: SORT_PARAM[key], order: dir > 0 ? 'asc' : 'desc' });
  if (fleet.status) q.set('health', fleet.status);
  if (fleet.search) q.set('q', fleet.search);
  const tok = fleet.tokens[fleet.index];
  if (tok) q.set('page_token', tok);
  let j;
  try {
    j = await api(`/report?${q}`);
  } catch (e) {
    if (e.message !== 'signed out') say(e.status === 400 && fleet.search ? 'Not a device name.' : e.message, true);
    return;
  }
  fleet.rows = j.entries.map((r) => ({ ...r, status: r.health }));
  fleet.next = j.next_page_token;
  drawFleet();
  say('');
}

function sortHeader(k, label) {
  const { key, dir } = fleet.sort;
  return h('th', {
    scope: 'col',
    class: k === 'rotated_at' ? 'hide-narrow' : null,
    'aria-sort': k === key ? (dir > 0 ? 'ascending' : 'descending') : 'none',
  }, h('button', { type: 'button', 'data-sort': k, onclick: () => {
    fleet.sort = { key: k, dir: k === key ? -dir : 1 };
    restartFleet();
  } }, label, k === key ? (dir > 0 ? ' \u25b2' : ' \u25bc') : ''));
}

function drawFleet() {
  const rows = fleet.rows;
  const head = h('tr', {}, sortHeader('status', 'Status'), sortHeader('device', 'Device'),
    h('th', { scope: 'col' }, 'Account'), sortHeader('rotated_at', 'Last rotation'), sortHeader('expires_at', 'Expires'));
  const body = rows.map((r) => h('tr', { 'data-device': r.device, 'data-account': r.account },
    h('td', {}, badge(r.status)),
    h('td', {}, h('a', { href: `#/device/${enc(r.device)}/${enc(r.account)}` }, r.device)),
    h('td', {}, r.account),
    h('td', { class: 'hide-narrow' }, fmtTime(r.rotated_at)),
    h('td', {}, fmtTime(r.expires_at))));
  const table = h('table', { id: 'fleet' },
    h('caption', {}, `Page ${fleet.index + 1}: ${rows.length} account${rows.length === 1 ? '' : 's'}, sorted over the whole fleet by the server`),
    h('thead', {}, head), h('tbody', {}, ...body));
  $('fleet-table').replaceChildren(rows.length ? table : h('p', {}, 'No accounts match.'));
  $('pager').replaceChildren(
    h('button', { type: 'button', id: 'prev', disabled: fleet.index === 0, onclick: () => { fleet.index -= 1; loadFleetPage(); } }, 'Previous page'),
    h('button', { type: 'button', id: 'next', disabled: !fleet.next, onclick: () => {
      fleet.tokens[fleet.index + 1] = fleet.next;
      fleet.index += 1;
      loadFleetPage();
    } }, 'Next page'));
}

// ---------- the admin key (docs/FORMAT.md section 4) ----------
const B64 = () => sodium.base64_variants.ORIGINAL;
function b64canon(s, len, what) {
  let b;
  try {
    b = sodium.from_base64(s, B64());
  } catch {
    throw new Error(`${what}: bad base64`);
  }
  if (sodium.to_base64(b, B64()) !== s) throw new Error(`${what}: not canonical base64`);
  if (len !== undefined && b.length !== len) throw new Error(`${what}: ${b.length} bytes, want ${len}`);
  return b;
}
const keyIdOf = (pk) => sodium.to_hex(sodium.crypto_generichash(32, pk).subarray(0, 8));
function decimal(s, lo, hi, what) {
  if (!/^(0|[1-9][0-9]{0,15})$/.test(s)) throw new Error(`${what}: not a decimal`);
  const n = Number(s);
  if (n < lo || n > hi) throw new Error(`${what}: out of range ${lo}..${hi}`);
  return n;
}

function parseKeyFile(text) {
  if (text.length > 4096) throw new Error('not a laps key file: over 4096 bytes');
  if (!text.endsWith('\n') || text.includes('\r') || text.includes('\0')) throw new Error('not a laps key file (line ends)');
  const lines = text.slice(0, -1).split('\n');
  let i = 0;
  const field = (name) => {
    const l = lines[i];
    if (l === undefined || !l.startsWith(`${name}: `)) throw new Error(`line ${i + 1}: expected "${name}: "`);
    i += 1;
    return l.slice(name.length + 2);
  };
  const m = /^laps-private-key v([0-9]+)$/.exec(lines[0] || '');
  if (!m) throw new Error('line 1: not a laps private key file');
  if (m[1] !== '1') throw new Error(`line 1: unsupported key file version ${m[1]}`);
  i = 1;
  const k = { pk: b64canon(field('public'), 32, 'public') };
  k.id = field('id');
  if (!/^[0-9a-f]{16}$/.test(k.id) || k.id !== keyIdOf(k.pk)) throw new Error('line 3: id does not match the public key');
  if ((lines[i] || '').startsWith('comment: ')) {
    k.comment = field('comment');
    if (!k.comment || k.comment.length > 127 || /[\x00-\x1f\x7f]/.test(k.comment)) throw new Error(`line ${i}: bad comment`);
  }
  k.kdf = field('kdf');
  if (k.kdf === 'none') {
    k.sk = b64canon(field('key'), 32, 'key');
  } else if (k.kdf === 'argon2id') {
    k.opslimit = decimal(field('opslimit'), 1, 16, 'opslimit');
    k.memlimit = decimal(field('memlimit'), 8192, 1073741824, 'memlimit');
    k.salt = b64canon(field('salt'), 16, 'salt');
    k.nonce = b64canon(field('nonce'), 24, 'nonce');
    k.box = b64canon(field('box'), 48, 'box');
  } else {
    throw new Error(`line ${i}: kdf must be none or argon2id`);
  }
  if (i !== lines.length) throw new Error(`line ${i + 1}: unexpected line`);
  return k;
}

function acceptKey(k, sk) {
  const pk = sodium.crypto_scalarmult_base(sk);
  if (sodium.compare(pk, k.pk) !== 0) {
    sodium.memzero(sk);
    throw new Error('the secret key does not match the public key in the file');
  }
  forgetKey();
  S.key = { sk, pk, id: k.id, comment: k.comment };
  $('key-state').textContent = `Admin key ${k.id}${k.comment ? ` (${k.comment})` : ''} loaded for this session (in memory only).`;
  $('forgetkey').hidden = false;
  $('passform').hidden = true;
  say('Admin key loaded.');
}

function unlockKey(k, passphrase) {
  const pw = new TextEncoder().encode(passphrase); // exact bytes: no normalisation, no trimming
  if (pw.length < 1 || pw.length > 256 || pw.includes(0)) throw new Error('the passphrase must be 1..256 bytes without NUL');
  const kek = sodium.crypto_pwhash(32, pw, k.salt, k.opslimit, k.memlimit, sodium.crypto_pwhash_ALG_ARGON2ID13);
  sodium.memzero(pw);
  let sk;
  try {
    sk = sodium.crypto_secretbox_open_easy(k.box, k.nonce, kek);
  } catch {
    throw new Error('wrong passphrase (or a damaged key file)');
  } finally {
    sodium.memzero(kek);
  }
  acceptKey(k, sk);
}

function forgetKey() {
  if (S.key) sodium.memzero(S.key.sk);
  S.key = null;
  S.pendingKey = null;
  if ($('keyfile')) $('keyfile').value = '';
  if ($('key-state')) $('key-state').textContent = 'No admin key loaded: passwords cannot be revealed.';
  if ($('forgetkey')) $('forgetkey').hidden = true;
}

async function onKeyFile(ev) {
  const f = ev.target.files[0];
  if (!f) return;
  try {
    if (f.size > 4096) throw new Error('not a laps key file: over 4096 bytes');
    const k = parseKeyFile(await f.text());
    if (k.kdf === 'none') {
      const sk = k.sk;
      k.sk = null;
      acceptKey(k, sk);
    } else {
      S.pendingKey = k;
      $('passform').hidden = false;
      $('passphrase').focus();
      say(`Key ${k.id} is protected: type its passphrase.`);
    }
  } catch (e) {
    say(`Admin key: ${e.message}`, true);
  } finally {
    ev.target.value = ''; // the file is read; nothing keeps a handle to it
  }
}

function onPassphrase(ev) {
  ev.preventDefault();
  const input = $('passphrase');
  const k = S.pendingKey;
  if (!k) return;
  say('Unlocking the key (Argon2id)...');
  setTimeout(() => {
    try {
      unlockKey(k, input.value);
      S.pendingKey = null;
    } catch (e) {
      say(`Admin key: ${e.message}`, true);
    } finally {
      input.value = '';
    }
  }, 20);
}

// ---------- opening a sealed record (docs/FORMAT.md section 2) ----------
function u16(n) { return [n >> 8, n & 0xff]; }
function bindingAD(header, record) {
  const te = new TextEncoder();
  const dev = te.encode(record.device.replace(/[A-Z]/g, (c) => c.toLowerCase()));
  const acct = te.encode(record.account);
  const rid = te.encode(record.rotation_id);
  const t = new Uint8Array(8);
  new DataView(t.buffer).setBigInt64(0, BigInt(record.rotated_at), false);
  const parts = [header, [1], u16(dev.length), dev, u16(acct.length), acct, u16(rid.length), rid, t];
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) { out.set(p, o); o += p.length; }
  return out;
}

// The password of record, sealed to S.key, for (device, account) asked.
function openRecord(record, device, account) {
  if (!S.key) throw new Error('open your admin key file first');
  if (![1, 2].includes(record.v)) throw new Error(`unsupported record version ${record.v}`);
  if (typeof record.device !== 'string' || record.device.toLowerCase() !== device.toLowerCase() ||
      record.account !== account) {
    throw new Error(`record for ${record.device}/${record.account} found in ${device}/${account}'s place`);
  }
  if (!/^[0-9a-f]{32}$/.test(record.rotation_id) || !Number.isSafeInteger(record.rotated_at)) throw new Error('malformed record');
  const env = b64canon(record.envelope, undefined, 'envelope');
  if (env.length > 16384) throw new Error('envelope exceeds the maximum');
  if (env.length < 6 || String.fromCharCode(...env.subarray(0, 4)) !== 'LAPS') throw new Error('envelope: bad magic');
  if (env[4] !== 1) throw new Error(`envelope: unsupported version ${env[4]}`);
  const n = env[5];
  if (n < 1 || n > 32) throw new Error('envelope: bad recipient count');
  if (env.length < 304 + 88 * n) throw new Error('envelope: truncated');
  if (env.length > 304 + 88 * n) throw new Error('envelope: trailing bytes');
  const ids = [];
  for (let i = 0; i < n; i++) ids.push(sodium.to_hex(env.subarray(30 + 88 * i, 38 + 88 * i)));
  if (new Set(ids).size !== n) throw new Error('envelope: duplicate key id');
  const slot = ids.indexOf(S.key.id);
  if (slot < 0) throw new Error(`wrong key: key ${S.key.id} is not a recipient; sealed to keys ${ids.join(', ')}`);
  const hlen = 30 + 88 * n;
  const wrap = env.subarray(38 + 88 * slot, 30 + 88 * (slot + 1));
  let dk;
  let padded;
  try {
    try {
      dk = sodium.crypto_box_seal_open(wrap, S.key.pk, S.key.sk);
    } catch {
      throw new Error('the data key does not open with this key (damaged envelope)');
    }
    const ad = bindingAD(env.subarray(0, hlen), record);
    try {
      padded = sodium.crypto_aead_xchacha20poly1305_ietf_decrypt(null, env.subarray(hlen), ad, env.subarray(6, 30), dk);
    } catch {
      throw new Error('the envelope does not open for this device, account and rotation (tampered or moved)');
    }
    if (padded.length !== 258) throw new Error('bad padded block');
    const len = (padded[0] << 8) | padded[1];
    if (len < 1 || len > 256) throw new Error('bad password length');
    const pw = padded.subarray(2, 2 + len);
    if (pw.includes(0) || padded.subarray(2 + len).some((b) => b !== 0)) throw new Error('bad padding');
    return new TextDecoder('utf-8', { fatal: true }).decode(pw);
  } finally {
    if (dk) sodium.memzero(dk);
    if (padded) sodium.memzero(padded);
  }
}

// ---------- showing a password ----------
function classOf(c) {
  if (/[0-9]/.test(c)) return ['c-digit', 'digit'];
  if (/[A-Z]/.test(c)) return ['c-upper', 'upper-case letter'];
  if (/[a-z]/.test(c)) return ['c-lower', 'lower-case letter'];
  return ['c-symbol', 'symbol'];
}
function passwordView(pw, label) {
  const chars = [...pw].map((c) => {
    const [cls, what] = classOf(c);
    return h('span', { class: cls, title: what }, c);
  });
  const spoken = [...pw].map((c) => `${c} (${classOf(c)[1]})`).join(', ');
  const box = h('div', { class: 'pwbox' },
    h('div', {}, label),
    h('span', { class: 'pw', 'data-password': 'yes', 'aria-label': `${label}: ${spoken}` }, ...chars), ' ',
    h('button', { type: 'button', class: 'copy', onclick: () => copy(pw) }, 'Copy'));
  return box;
}
function legend() {
  return h('p', { class: 'legend', id: 'legend' }, 'Legend: ',
    h('span', { class: 'c-digit' }, '0-9 digit'), h('span', { class: 'c-upper' }, 'A-Z upper case'),
    h('span', { class: 'c-lower' }, 'a-z lower case'), h('span', { class: 'c-symbol' }, '#! symbol'),
    ' (so O and 0, l and 1 look different)');
}
async function copy(pw) {
  try {
    await navigator.clipboard.writeText(pw);
    say('Copied. The clipboard is cleared in 30 seconds.');
    clearTimeout(S.clipTimer);
    S.clipTimer = setTimeout(() => {
      navigator.clipboard.writeText('').then(() => say('Clipboard cleared.'), () => {});
    }, 30000);
  } catch (e) {
    say(`Copy failed: ${e.message}`, true);
  }
}
function hidePassword() {
  clearTimeout(S.hideTimer);
  const r = $('reveal-out');
  if (r) r.replaceChildren();
}

// ---------- device ----------
async function showDevice(device, account) {
  const base = `/devices/${enc(device)}/accounts/${enc(account)}`;
  let meta;
  try {
    meta = await api(base);
  } catch (e) {
    if (e.message !== 'signed out') page(`${device} / ${account}`, h('p', { class: 'error' }, e.message));
    return;
  }
  const now = Date.now() / 1000;
  const st = statusOf(meta, now);
  const dl = h('dl', { class: 'meta', id: 'meta' },
    ...[['Status', badge(st)], ['Device', meta.device], ['Account', meta.account], ['UID', meta.uid],
      ['State', meta.state], ['Sequence', meta.seq], ['Rotation id', meta.rotation_id],
      ['Last rotation', fmtTime(meta.rotated_at)], ['Expires', fmtTime(meta.expires_at)],
      ['Sealed to keys', (meta.key_ids || []).join(', ')]]
      .flatMap(([k, v]) => [h('dt', {}, k), h('dd', {}, v)]));
  const out = h('div', { id: 'reveal-out', 'aria-live': 'polite' });
  const actions = h('div', { class: 'actions' });
  if (has('secret')) {
    actions.append(h('button', { type: 'button', class: 'primary', id: 'reveal', onclick: () => reveal(base, device, account, out) }, 'Reveal password'));
  }
  if (has('expire')) {
    const at = h('input', { type: 'datetime-local', id: 'expire-at' });
    actions.append(
      h('button', { type: 'button', id: 'expire-now', onclick: () => expire(base, {}, device, account) }, 'Expire now'),
      h('label', { for: 'expire-at' }, 'Expire at '), at,
      h('button', { type: 'button', id: 'expire-at-go', onclick: () => {
        const t = Date.parse(at.value);
        if (Number.isNaN(t)) { say('Pick a date and time first.', true); return; }
        expire(base, { expires_at: Math.floor(t / 1000) }, device, account);
      } }, 'Set expiry'));
  }
  const pending = meta.state === 'pending'
    ? h('p', { class: 'note', id: 'pending-note' }, 'This rotation is pending: the device has escrowed a new password but not yet confirmed setting it. Reveal shows both the new and the previous password; either may be active.')
    : null;
  const hist = h('div', { id: 'history' });
  if (has('secret')) {
    hist.append(h('button', { type: 'button', id: 'show-history', onclick: () => showHistory(base, device, account, hist) }, 'Show history (audited)'));
  }
  page(`${meta.device} / ${meta.account}`, h('p', {}, h('a', { href: '#/fleet' }, 'Back to the fleet')),
    dl, pending, actions, out, h('h2', {}, 'History'), hist);
}

async function reveal(base, device, account, out) {
  hidePassword();
  if (!S.key) { say('Open your admin key file first (above).', true); $('keyfile').focus(); return; }
  try {
    const seen = {}; // Laps-Rotate-By: the server's rotate-after-read policy
    const rec = await api(`${base}/record`, { headers: seen });
    const pw = openRecord(rec, device, account);
    const views = [passwordView(pw, rec.state === 'pending' ? 'New password (pending)' : 'Password')];
    if (seen.rotateBy > 0) {
      views.push(h('p', { class: 'note', id: 'rotate-note' },
        `This password will be rotated by ${fmtTime(seen.rotateBy)}: it has been seen (the server's rotate-after-read policy).`));
    }
    if (rec.state === 'pending') {
      try {
        const hist = await api(`${base}/history?limit=1`);
        if (hist.records.length) views.push(passwordView(openRecord(hist.records[0], device, account), 'Previous password (may still be active)'));
        else views.push(h('p', {}, 'The previous password is not available (no history).'));
      } catch (e) {
        views.push(h('p', { class: 'error' }, `The previous password is not available: ${e.message}`));
      }
    }
    out.replaceChildren(...views, legend(), h('button', { type: 'button', id: 'hide', onclick: hidePassword }, 'Hide'));
    say('Password decrypted in this browser. It is hidden again in 2 minutes.');
    S.hideTimer = setTimeout(hidePassword, 120000);
  } catch (e) {
    if (e.message !== 'signed out') {
      out.replaceChildren(h('p', { class: 'error', id: 'reveal-error' }, e.message));
      say(e.message, true);
    }
  }
}

async function expire(base, body, device, account) {
  try {
    const m = await api(`${base}/expire`, { method: 'POST', body });
    say(`Expiry set to ${fmtTime(m.expires_at)}: the device rotates at its next run.`);
    await showDevice(device, account);
    say(`Expiry set to ${fmtTime(m.expires_at)}: the device rotates at its next run.`);
  } catch (e) {
    if (e.message !== 'signed out') say(e.message, true);
  }
}

async function showHistory(base, device, account, box) {
  try {
    const j = await api(`${base}/history?limit=100`);
    if (!j.records.length) { box.replaceChildren(h('p', {}, 'No older rotations.')); return; }
    const rows = j.records.map((r) => {
      const cell = h('td', {});
      cell.append(h('button', { type: 'button', onclick: () => {
        try {
          cell.replaceChildren(passwordView(openRecord(r, device, account), 'Password'));
        } catch (e) {
          cell.replaceChildren(h('span', { class: 'error' }, e.message));
        }
      } }, 'Decrypt'));
      return h('tr', {}, h('td', {}, r.seq ?? '-'), h('td', {}, fmtTime(r.rotated_at)), h('td', {}, r.state), h('td', { class: 'hide-narrow' }, r.rotation_id), cell);
    });
    box.replaceChildren(h('div', { class: 'tablewrap' }, h('table', { id: 'history-table' },
      h('caption', {}, 'Older rotations, newest first'),
      h('thead', {}, h('tr', {}, ...['Seq', 'Rotated', 'State', 'Rotation id', 'Password'].map((c, i) => h('th', { scope: 'col', class: i === 3 ? 'hide-narrow' : null }, c)))),
      h('tbody', {}, ...rows))));
  } catch (e) {
    if (e.message !== 'signed out') box.replaceChildren(h('p', { class: 'error' }, e.message));
  }
}

// ---------- audit ----------
const ACTIONS = ['read_metadata', 'write', 'confirm', 'find', 'report', 'read_secret', 'read_history', 'expire', 'audit', 'authenticate'];
const audit = { tokens: [null], index: 0, filters: {} };

function showAudit() {
  const f = audit.filters;
  const inp = (id, label, type = 'text') => h('label', { for: id }, label, h('input', { id, type, value: f[id] || '', autocomplete: 'off' }));
  const action = h('select', { id: 'a-action' }, h('option', { value: '' }, 'any'), ...ACTIONS.map((a) => h('option', { value: a, selected: f['a-action'] === a }, a)));
  const form = h('form', { class: 'filters', onsubmit: (ev) => {
    ev.preventDefault();
    for (const id of ['a-device', 'a-actor', 'a-since', 'a-until']) audit.filters[id] = $(id).value.trim();
    audit.filters['a-action'] = action.value;
    audit.tokens = [null];
    audit.index = 0;
    loadAudit();
  } }, inp('a-device', 'Device'), inp('a-actor', 'Actor'), h('label', { for: 'a-action' }, 'Action', action),
  inp('a-since', 'Since', 'date'), inp('a-until', 'Until', 'date'), h('button', { type: 'submit' }, 'Apply'));
  page('Audit log', form, h('div', { class: 'tablewrap', id: 'audit-table' }), h('div', { class: 'pager', id: 'audit-pager' }));
  return loadAudit();
}

async function loadAudit() {
  const f = audit.filters;
  const q = new URLSearchParams({ page_size: '50' });
  if (f['a-device']) q.set('device', f['a-device']);
  if (f['a-actor']) q.set('actor', f['a-actor']);
  if (f['a-action']) q.set('action', f['a-action']);
  if (f['a-since']) q.set('since', String(Date.parse(`${f['a-since']}T00:00:00Z`) / 1000));
  if (f['a-until']) q.set('until', String(Date.parse(`${f['a-until']}T00:00:00Z`) / 1000 + 86400));
  if (audit.tokens[audit.index]) q.set('page_token', audit.tokens[audit.index]);
  let j;
  try {
    j = await api(`/audit?${q}`);
  } catch (e) {
    if (e.message !== 'signed out') $('audit-table').replaceChildren(h('p', { class: 'error' }, e.message));
    return;
  }
  const cols = ['time', 'actor', 'kind', 'device', 'account', 'action', 'outcome', 'status', 'peer'];
  const table = h('table', { id: 'audit' }, h('caption', {}, `Newest first, page ${audit.index + 1}`),
    h('thead', {}, h('tr', {}, ...cols.map((c) => h('th', { scope: 'col' }, c)))),
    h('tbody', {}, ...j.entries.map((e) => h('tr', { 'data-action': e.action, 'data-device': e.device || '' },
      ...cols.map((c) => h('td', {}, c === 'time' ? fmtTime(e.time) : e[c] ?? '-'))))));
  $('audit-table').replaceChildren(j.entries.length ? table : h('p', {}, 'No entries match.'));
  $('audit-pager').replaceChildren(
    h('button', { type: 'button', disabled: audit.index === 0, onclick: () => { audit.index -= 1; loadAudit(); } }, 'Newer'),
    h('button', { type: 'button', disabled: !j.next_page_token, onclick: () => {
      audit.tokens[audit.index + 1] = String(j.next_page_token);
      audit.index += 1;
      loadAudit();
    } }, 'Older'));
}

// ---------- routing ----------
async function route() {
  if (!S.token) { showSignIn(); return; }
  const [path, query] = location.hash.replace(/^#\/?/, '').split('?');
  const parts = path.split('/').map(decodeURIComponent);
  const size = Number(new URLSearchParams(query || '').get('page_size'));
  fleet.size = Number.isInteger(size) && size >= 1 && size <= 1000 ? size : PAGE; // #/fleet?page_size=N
  for (const a of document.querySelectorAll('nav a')) a.removeAttribute('aria-current');
  S.counting += 1; // stop a running count
  hidePassword();
  say('');
  if (parts[0] === 'device' && parts.length === 3) {
    await showDevice(parts[1], parts[2]);
  } else if (parts[0] === 'audit') {
    $('nav-audit').setAttribute('aria-current', 'page');
    if (!has('audit')) { page('Audit log', h('p', { class: 'error' }, 'You do not have the audit right.')); return; }
    await showAudit();
  } else {
    $('nav-fleet').setAttribute('aria-current', 'page');
    if (!canRead()) { page('Fleet', h('p', { class: 'error' }, 'You have no laps rights.')); return; }
    await showFleet();
  }
}

function signedIn() {
  $('nav').hidden = false;
  $('nav-audit').hidden = !has('audit');
  $('who').hidden = false;
  $('who-name').textContent = `Signed in as ${S.claims.sub || '?'}`;
  $('keybar').hidden = !has('secret');
}

async function main() {
  await sodium.ready;
  const r = await fetch('config.json', { cache: 'no-store' });
  S.cfg = await r.json();
  $('signout').addEventListener('click', () => signOut());
  $('keyfile').addEventListener('change', onKeyFile);
  $('passform').addEventListener('submit', onPassphrase);
  $('forgetkey').addEventListener('click', () => { forgetKey(); say('Admin key forgotten.'); });
  window.addEventListener('hashchange', () => { route().catch((e) => say(e.message, true)); });
  const params = new URLSearchParams(location.search);
  if (params.has('code') || params.has('error')) {
    try {
      await callback(params);
    } catch (e) {
      say(e.message, true);
    }
  }
  if (S.token) signedIn();
  document.body.setAttribute('data-ready', 'yes');
  await route();
}

main().catch((e) => say(`The console could not start: ${e.message}`, true));
