// The /ws connection: auth by ?token=, frames {type, data}, a ping every 25 s (the server closes
// sockets silent for 90 s), and reconnection by itself with exponential backoff after any drop.
// A 4001 close (expired or revoked token) refreshes the tokens before the next attempt.
//
// Events (on the Socket, an EventTarget): "open" (detail: {reconnect}), "close", "frame"
// (detail: the frame), "state" (detail: "connecting" | "open" | "offline").

import { refreshTokens, tokens } from "./api.js";

const PING_MS = 25_000;
const BACKOFF_MS = [250, 500, 1000, 2000, 4000, 8000];

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
  }

  start() {
    this.stopped = false;
    this.connect();
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.timer);
    clearInterval(this.pinger);
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
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const ws = new WebSocket(`${scheme}://${location.host}/ws?token=${encodeURIComponent(tokens.access || "")}`);
    this.ws = ws;
    ws.onopen = () => {
      if (ws !== this.ws) return;
      const reconnect = this.opened;
      this.opened = true;
      this.attempt = 0;
      clearInterval(this.pinger);
      this.pinger = setInterval(() => this.send("ping"), PING_MS);
      this.setState("open");
      this.dispatchEvent(new CustomEvent("open", { detail: { reconnect } }));
    };
    ws.onmessage = (event) => {
      let frame;
      try {
        frame = JSON.parse(event.data);
      } catch {
        return;
      }
      this.dispatchEvent(new CustomEvent("frame", { detail: frame }));
    };
    ws.onclose = (event) => {
      if (ws !== this.ws) return;
      clearInterval(this.pinger);
      this.ws = null;
      this.dispatchEvent(new CustomEvent("close", { detail: { code: event.code } }));
      if (this.stopped) return;
      this.setState("offline");
      this.scheduleReconnect(event.code === 4001);
    };
  }

  scheduleReconnect(needsFreshToken) {
    const delay = BACKOFF_MS[Math.min(this.attempt, BACKOFF_MS.length - 1)];
    this.attempt += 1;
    clearTimeout(this.timer);
    this.timer = setTimeout(async () => {
      if (needsFreshToken) {
        try {
          await refreshTokens();
        } catch (error) {
          // A refused refresh token ends the session; a network error is retried later.
          if (error.code === 40001) {
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
