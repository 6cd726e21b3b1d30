// The REST API: every response is the envelope {code, message, data}; code 20000 is success.
// Tokens live in localStorage. A 40001 on an authenticated call refreshes the pair once
// (POST /refresh_token, shared by concurrent callers) and retries the call once.

const OK = 20000;
const UNAUTHORIZED = 40001;
const ACCESS = "im.access_token";
const REFRESH = "im.refresh_token";

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
  },
  clear() {
    localStorage.removeItem(ACCESS);
    localStorage.removeItem(REFRESH);
  },
};

// Called when the session cannot be saved (refresh refused): the app shows the login screen.
let onSessionLost = () => {};
export function setSessionLostHandler(handler) { onSessionLost = handler; }

let refreshing = null;

export function refreshTokens() {
  if (!refreshing) {
    refreshing = (async () => {
      const refresh = tokens.refresh;
      if (!refresh) throw new ApiError(UNAUTHORIZED, "not logged in");
      const body = await send("POST", "/refresh_token", { body: { refresh_token: refresh }, auth: false });
      if (body.code !== OK) throw new ApiError(body.code, body.message);
      tokens.set(body.data);
    })().finally(() => { refreshing = null; });
  }
  return refreshing;
}

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
