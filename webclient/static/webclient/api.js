// The REST API: every response is the envelope {code, message, data}; code 20000 is success.
// Tokens live in localStorage. A 40001 on an authenticated call refreshes the pair once
// (POST /refresh_token, shared by concurrent callers) and retries the call once. The access token
// is also refreshed ahead of its expiry, and every new pair is announced to onTokensChanged
// listeners (the socket extends its life with it).

const OK = 20000;
const UNAUTHORIZED = 40001;
const ACCESS = "im.access_token";
const REFRESH = "im.refresh_token";
const DUE = "im.refresh_due"; // when (this machine's ms clock) to refresh the access token
const RETRY_MS = 15_000; // a proactive refresh that failed for another reason than 40001
const MAX_TIMER_MS = 3_600_000; // setTimeout overflows past 24.8 days; wake up hourly instead

export class ApiError extends Error {
  constructor(code, message) {
    super(message || `error ${code}`);
    this.code = code;
  }
}

export const tokens = {
  get access() { return localStorage.getItem(ACCESS); },
  get refresh() { return localStorage.getItem(REFRESH); },
  set(pair) {
    localStorage.setItem(ACCESS, pair.access_token);
    localStorage.setItem(REFRESH, pair.refresh_token);
    localStorage.setItem(DUE, String(refreshDue(pair.access_token))); // last: other tabs wait for it
    tokensChanged();
  },
  clear() {
    localStorage.removeItem(ACCESS);
    localStorage.removeItem(REFRESH);
    localStorage.removeItem(DUE);
    clearTimeout(refreshTimer);
    forgetRotation();
  },
};

// Called when the session cannot be saved (refresh refused): the app shows the login screen.
let onSessionLost = () => {};
export function setSessionLostHandler(handler) { onSessionLost = handler; }

// --- new token pairs ------------------------------------------------------------------------
const tokenListeners = new Set();

/** fn() after every new token pair, refreshed in this tab or another; returns an unsubscribe. */
export function onTokensChanged(fn) {
  tokenListeners.add(fn);
  return () => tokenListeners.delete(fn);
}

function tokensChanged() {
  scheduleRefresh();
  for (const fn of tokenListeners) fn();
}

// Tabs of one browser share the tokens: a pair another tab stored is this tab's too.
window.addEventListener("storage", (event) => {
  if (event.key === DUE || event.key === null) {
    if (tokens.access) tokensChanged();
    else clearTimeout(refreshTimer);
  }
});

/** The payload of a JWT, or null (the signature is the server's business). */
function jwtClaims(token) {
  try {
    return JSON.parse(atob(token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/")));
  } catch {
    return null;
  }
}

// A fresh access token is refreshed at 80% of its lifetime or 60 s before it expires, whichever
// is sooner, but not before half of it (a short lifetime would refresh at once). The lifetime is
// exp - iat, counted from now on this machine's clock: a client clock that is off does not matter.
function refreshDue(access) {
  const claims = jwtClaims(access);
  if (!claims || !claims.exp) return Date.now();
  const lifetime = claims.iat ? claims.exp - claims.iat : claims.exp - Date.now() / 1000;
  const lead = Math.max(0.5 * lifetime, Math.min(0.8 * lifetime, lifetime - 60));
  return Date.now() + lead * 1000;
}

// --- refreshing -----------------------------------------------------------------------------
// Rotation blacklists the used refresh token, so a second refresh with the same one is refused
// and ends the session. Hence one rotation at a time: in this tab (`refreshing`, shared by every
// caller, proactive or after a 40001) and across tabs (a Web Lock, where the browser has them).
// The rotating tab records {used, pair} in IndexedDB before it lets go of the lock, and the next
// tab takes that pair instead of rotating `used` again. localStorage alone would not do: it
// reaches other tabs a few ms late, possibly after the lock has passed on.
let refreshing = null;
let refreshTimer = null;

const withRefreshLock = (fn) =>
  (navigator.locks ? navigator.locks.request("im.refresh_token", fn) : fn());

export function refreshTokens() {
  if (!refreshing) {
    const used = tokens.refresh;
    refreshing = withRefreshLock(() => rotate(used)).finally(() => { refreshing = null; });
  }
  return refreshing;
}

async function rotate(used) {
  if (!used) throw new ApiError(UNAUTHORIZED, "not logged in");
  if (tokens.refresh && tokens.refresh !== used) return; // a newer pair is here already
  const last = await lastRotation().catch(() => null);
  if (last && last.used === used) return tokens.set(last.pair); // another tab rotated it
  const body = await send("POST", "/refresh_token", { body: { refresh_token: used }, auth: false });
  if (body.code === UNAUTHORIZED && tokens.refresh && tokens.refresh !== used) return; // no lock
  if (body.code === UNAUTHORIZED) tokens.clear(); // the pair is dead: nothing may use it again
  if (body.code !== OK) throw new ApiError(body.code, body.message);
  await recordRotation({ used, pair: body.data }).catch(() => {});
  tokens.set(body.data);
}

// The last rotation in IndexedDB (one record), whose transactions every tab sees in order.
function rotations(mode, operation) {
  return new Promise((resolve, reject) => {
    const open = indexedDB.open("im.tokens", 1);
    open.onupgradeneeded = () => open.result.createObjectStore("rotation");
    open.onerror = () => reject(open.error);
    open.onsuccess = () => {
      const db = open.result;
      const tx = db.transaction("rotation", mode);
      const request = operation(tx.objectStore("rotation"));
      tx.oncomplete = () => { db.close(); resolve(request.result); };
      tx.onerror = tx.onabort = () => { db.close(); reject(tx.error); };
    };
  });
}
const lastRotation = () => rotations("readonly", (store) => store.get("last"));
const recordRotation = (rotation) => rotations("readwrite", (store) => store.put(rotation, "last"));
const forgetRotation = () => rotations("readwrite", (store) => store.delete("last")).catch(() => {});

// The proactive refresh: armed by every new pair (and at load), disarmed by tokens.clear().
function scheduleRefresh(delay) {
  clearTimeout(refreshTimer);
  if (!tokens.refresh) return;
  const wait = delay ?? Number(localStorage.getItem(DUE) || 0) - Date.now();
  refreshTimer = setTimeout(refreshAhead, Math.min(Math.max(wait, 0), MAX_TIMER_MS));
}

async function refreshAhead() {
  if (Date.now() < Number(localStorage.getItem(DUE) || 0)) return scheduleRefresh(); // woke early
  try {
    await refreshTokens(); // stores the new pair, which arms the next refresh
  } catch (error) {
    if (error.code === UNAUTHORIZED) onSessionLost();
    else scheduleRefresh(RETRY_MS); // offline or the server is down: try again soon
  }
}

scheduleRefresh();

async function send(method, path, { query, body, form, auth = true } = {}) {
  let url = path;
  if (query) {
    const params = new URLSearchParams();
    for (const [key, value] of Object.entries(query)) {
      if (value !== undefined && value !== null) params.set(key, value);
    }
    url += `?${params}`;
  }
  const headers = { Accept: "application/json" };
  if (auth && tokens.access) headers.Authorization = `Bearer ${tokens.access}`;
  let payload;
  if (form) {
    payload = form;
  } else if (body !== undefined) {
    headers["Content-Type"] = "application/json";
    payload = JSON.stringify(body);
  }
  const response = await fetch(url, { method, headers, body: payload });
  try {
    return await response.json();
  } catch {
    return { code: 50000, message: `HTTP ${response.status}` };
  }
}

/** Call the API; resolves with `data`, rejects with ApiError. */
export async function api(method, path, options = {}) {
  let body = await send(method, path, options);
  if (body.code === UNAUTHORIZED && options.auth !== false && tokens.refresh) {
    try {
      await refreshTokens();
    } catch (error) {
      tokens.clear();
      onSessionLost();
      throw error;
    }
    body = await send(method, path, options);
  }
  if (body.code !== OK) throw new ApiError(body.code, body.message);
  return body.data;
}

export const get = (path, query) => api("GET", path, { query });
export const post = (path, body) => api("POST", path, { body });
export const put = (path, body) => api("PUT", path, { body });

export async function login(username, password) {
  const data = await api("POST", "/login", { body: { username, password }, auth: false });
  tokens.set(data);
}

export async function logout() {
  const refresh = tokens.refresh;
  tokens.clear();
  if (refresh) {
    await send("POST", "/logout", { body: { refresh_token: refresh }, auth: false }).catch(() => {});
  }
}

export function upload(file) {
  const form = new FormData();
  form.append("file", file, file.name || "file");
  return api("POST", "/file/upload", { form });
}

// Downloads need the Authorization header, so files are fetched and shown through blob URLs.
const blobUrls = new Map();

async function fetchFile(fileId, retry = true) {
  const response = await fetch(`/file/download?file_id=${encodeURIComponent(fileId)}`, {
    headers: { Authorization: `Bearer ${tokens.access}` },
  });
  const type = response.headers.get("Content-Type") || "";
  if (response.ok && !type.startsWith("application/json")) return response.blob();
  const body = await response.json().catch(() => ({ code: 50000 }));
  if (body.code === UNAUTHORIZED && retry && tokens.refresh) {
    await refreshTokens();
    return fetchFile(fileId, false);
  }
  throw new ApiError(body.code, body.message);
}

export function fileUrl(fileId) {
  if (!blobUrls.has(fileId)) {
    const promise = fetchFile(fileId).then((blob) => URL.createObjectURL(blob));
    promise.catch(() => blobUrls.delete(fileId));
    blobUrls.set(fileId, promise);
  }
  return blobUrls.get(fileId);
}

/** The file id behind an avatar URL that points at our own /file/download, else null. */
export function ownFileId(url) {
  if (!url) return null;
  try {
    const parsed = new URL(url, location.origin);
    if (parsed.origin === location.origin && parsed.pathname === "/file/download") {
      return parsed.searchParams.get("file_id");
    }
  } catch {
    // not a URL
  }
  return null;
}
