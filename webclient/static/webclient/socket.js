// The /ws connection: auth by ?token=, frames {type, data}, a ping every 25 s (the server closes
// sockets silent for 90 s), and reconnection by itself after any drop.
// A socket lives as long as the access token it authenticated with (the server closes it with
// 4001 soon after its exp), so after every new token pair (api.js refreshes ahead of expiry) an
// open socket sends {"type": "auth", data: {token}} with the new access token, which extends it.
// Reconnection: exponential backoff, and the app catches up with after_seq on "open". After 4001
// (expired or revoked token) it reconnects only with a fresh token: refreshed first unless the
// pair changed since; a refused refresh ends the session ("unauthorized"). After 4029 (too many
// sockets for this user) it waits 30-45 s, then the same; a tight loop would keep the cap full.
//
// Events (on the Socket, an EventTarget): "open" (detail: {reconnect}), "close" (detail: {code}),
// "frame" (detail: the frame), "state" (detail: "connecting" | "open" | "offline"),
// "unauthorized" (the session is over: show the login screen).

import { onTokensChanged, refreshTokens, tokens } from "./api.js";

const PING_MS = 25_000;
const BACKOFF_MS = [250, 500, 1000, 2000, 4000, 8000];
const CLOSE_UNAUTHORIZED = 4001;
const CLOSE_TOO_MANY = 4029;
const TOO_MANY_DELAY_MS = 30_000; // plus up to TOO_MANY_JITTER_MS, so tabs do not retry in step
const TOO_MANY_JITTER_MS = 15_000;
const UNAUTHORIZED = 40001;
const BAD_REQUEST = 40000;

export class Socket extends EventTarget {
  constructor() {
    super();
    this.ws = null;
    this.attempt = 0;
    this.stopped = true;
    this.opened = false; // has any connection succeeded yet
    this.timer = null;
    this.pinger = null;
    this.state = "offline";
    this.token = null; // the access token this socket was opened or last extended with
    this.authPending = 0; // auth frames sent and not answered yet (answers come in order)
    this.authRetried = false; // a refused auth was retried after a refresh; reset by a success
    this.unsubscribe = null;
    // For the browser tests: connection attempts, opens, close codes, auth frames and answers.
    this.stats = {
      attempts: 0, opens: 0, closes: [], authSent: 0, authOk: 0, authRefused: 0, expiresAt: [],
    };
  }

  start() {
    this.stopped = false;
    this.unsubscribe = onTokensChanged(() => this.reauth());
    this.connect();
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.timer);
    clearInterval(this.pinger);
    if (this.unsubscribe) this.unsubscribe();
    this.unsubscribe = null;
    if (this.ws) this.ws.close(1000, "logout");
    this.ws = null;
    this.setState("offline");
  }

  setState(state) {
    this.state = state;
    this.dispatchEvent(new CustomEvent("state", { detail: state }));
  }

  connect() {
    if (this.stopped) return;
    this.setState("connecting");
    this.stats.attempts += 1;
    const token = tokens.access || "";
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const ws = new WebSocket(`${scheme}://${location.host}/ws?token=${encodeURIComponent(token)}`);
    this.ws = ws;
    this.token = token;
    this.authPending = 0;
    this.authRetried = false;
    ws.onopen = () => {
      if (ws !== this.ws) return;
      const reconnect = this.opened;
      this.opened = true;
      this.attempt = 0;
      this.stats.opens += 1;
      clearInterval(this.pinger);
      this.pinger = setInterval(() => this.send("ping"), PING_MS);
      this.setState("open");
      this.dispatchEvent(new CustomEvent("open", { detail: { reconnect } }));
      this.reauth(); // the pair may have changed during the handshake
    };
    ws.onmessage = (event) => {
      let frame;
      try {
        frame = JSON.parse(event.data);
      } catch {
        return;
      }
      if (ws === this.ws) this.authAnswer(frame);
      this.dispatchEvent(new CustomEvent("frame", { detail: frame }));
    };
    ws.onclose = (event) => {
      if (ws !== this.ws) return;
      clearInterval(this.pinger);
      this.ws = null;
      this.stats.closes.push(event.code);
      this.dispatchEvent(new CustomEvent("close", { detail: { code: event.code } }));
      if (this.stopped) return;
      this.setState("offline");
      this.scheduleReconnect(event.code, this.token);
    };
  }

  /** Extend the open socket to the current access token, if it is a newer one. */
  reauth() {
    const token = tokens.access;
    if (!this.isOpen || !token || token === this.token) return;
    this.token = token;
    this.authPending += 1;
    this.stats.authSent += 1;
    this.send("auth", { token });
  }

  // The answer to an auth frame: {type: "auth"} on success; error 40001 (the token was refused:
  // revoked, say) is retried once after a refresh; error 40000 (an older token than the socket's,
  // or a server without auth frames) leaves the socket as it was, until its exp. Answers come in
  // order; an error that names a client_msg_id answers a message instead.
  authAnswer(frame) {
    if (frame.type === "auth") {
      this.authPending = Math.max(0, this.authPending - 1);
      this.authRetried = false;
      this.stats.authOk += 1;
      if (frame.data) this.stats.expiresAt.push(frame.data.expires_at);
      return;
    }
    const data = frame.data || {};
    if (frame.type !== "error" || !this.authPending || data.client_msg_id) return;
    if (data.code !== UNAUTHORIZED && data.code !== BAD_REQUEST) return;
    this.authPending -= 1;
    this.stats.authRefused += 1;
    if (data.code !== UNAUTHORIZED || this.authRetried) return;
    this.authRetried = true;
    // The new pair arrives through onTokensChanged, which sends the next auth frame.
    refreshTokens().catch((error) => {
      if (error.code === UNAUTHORIZED) this.dispatchEvent(new CustomEvent("unauthorized"));
    });
  }

  scheduleReconnect(code, usedToken) {
    let delay;
    if (code === CLOSE_TOO_MANY) {
      delay = TOO_MANY_DELAY_MS + Math.random() * TOO_MANY_JITTER_MS;
    } else {
      delay = BACKOFF_MS[Math.min(this.attempt, BACKOFF_MS.length - 1)];
      this.attempt += 1;
    }
    const needsFreshToken = code === CLOSE_UNAUTHORIZED || code === CLOSE_TOO_MANY;
    clearTimeout(this.timer);
    this.timer = setTimeout(async () => {
      // A pair newer than the refused socket's (refreshed meanwhile, here or in another tab) is
      // fresh already; rotating again would only cost a request.
      if (needsFreshToken && (!tokens.access || tokens.access === usedToken)) {
        try {
          await refreshTokens();
        } catch (error) {
          // A refused refresh token ends the session; a network error is retried later.
          if (error.code === UNAUTHORIZED) {
            this.dispatchEvent(new CustomEvent("unauthorized"));
            return;
          }
        }
      }
      this.connect();
    }, delay);
  }

  get isOpen() {
    return this.ws !== null && this.ws.readyState === WebSocket.OPEN;
  }

  send(type, data = {}) {
    if (!this.isOpen) return false;
    this.ws.send(JSON.stringify({ type, data }));
    return true;
  }

  /** Test hook: drop the connection as a network failure would (the client must recover). */
  drop() {
    if (this.ws) this.ws.close(3000, "dropped");
  }
}
