// Message search (CONTRACT 11), above the conversation list: in all my conversations or only in
// one. Each result names its conversation, its sender and its time, and shows its text (a file
// message its file name) with the searched terms marked; a click opens the conversation at that
// message. User text only ever goes into text nodes.

import { avatar, formatTime, h, replace, toast } from "../dom.js";
import {
  GROUP, PRIVATE, TYPE, conversationTitle, endSearch, searchMessages, searchMore, setSearchScope,
  state,
} from "../store.js";

const SNIPPET_BEFORE = 24; // characters kept before the first match of a long text
const LONG_TEXT = 80; // texts longer than this start near their first match

const escapeRegExp = (text) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/** The searched terms: the keyword split on whitespace, as the server splits it. */
export const searchTerms = (keyword) => keyword.split(/\s+/u).filter(Boolean);

/**
 * `text` as nodes: plain strings, and <mark> elements around every case-insensitive occurrence of
 * a term (the longer term first where two start together). Never parsed as markup.
 */
export function markTerms(text, terms) {
  if (!terms.length) return [text];
  const sorted = [...terms].sort((a, b) => b.length - a.length);
  const pattern = new RegExp(sorted.map(escapeRegExp).join("|"), "giu");
  const parts = [];
  let at = 0;
  for (const match of text.matchAll(pattern)) {
    if (match.index > at) parts.push(text.slice(at, match.index));
    parts.push(h("mark", {}, match[0]));
    at = match.index + match[0].length;
  }
  if (at < text.length) parts.push(text.slice(at));
  return parts;
}

/** A long text from a little before its first match, so the match shows in the result's lines. */
function snippet(text, terms) {
  if (text.length <= LONG_TEXT) return text;
  const lower = text.toLowerCase();
  const first = Math.min(...terms.map((t) => lower.indexOf(t.toLowerCase())).filter((i) => i >= 0));
  if (!Number.isFinite(first) || first <= SNIPPET_BEFORE) return text;
  let start = first - SNIPPET_BEFORE;
  const code = text.charCodeAt(start);
  if (code >= 0xdc00 && code <= 0xdfff) start += 1; // not half of a surrogate pair
  return `…${text.slice(start)}`;
}

/** What a result says: a text message's text, a file message's file name. */
function resultText(m) {
  if (m.type !== TYPE.text) return m.file ? m.file.file_name : ["", "[Image]", "[File]", "[Audio]", "[Video]"][m.type] || "";
  return m.content;
}

function senderName(m) {
  if (m.from_user_id === state.me.id) return "You";
  if (m.conversation.chat_type === GROUP) return m.from_nickname || `User ${m.from_user_id}`;
  return m.conversation.target_name;
}

const keyOfResult = (m) => `${m.conversation.chat_type}:${m.conversation.target_id}`;

/**
 * The search form and its results, for the Chats tab: `el` goes above the list, `results` in its
 * place while a search is shown; draw() follows state.search.
 */
export function createSearch({ openMessage }) {
  const input = h("input", {
    type: "search", placeholder: "Search messages", testid: "message-search-input", maxlength: 100,
    value: state.search.keyword, "aria-label": "Search messages",
  });
  const scope = h("input", {
    type: "checkbox", testid: "message-search-scope",
    onchange: () => {
      const key = scope.checked ? state.search.scopeKey || state.openKey : null;
      setSearchScope(key).catch((error) => toast(error.message, "error"));
    },
  });
  const scopeName = h("b", { testid: "message-search-scope-name" });
  const scopeRow = h("label", { class: "check search-scope" }, scope, "Only in ", scopeName);
  const form = h("form", {
    class: "search message-search", testid: "message-search-form",
    onsubmit: (e) => {
      e.preventDefault();
      searchMessages(input.value).catch((error) => toast(error.message, "error"));
    },
  }, input, h("button", { class: "primary", testid: "message-search-submit" }, "Search"));
  const status = h("small", { class: "grow", testid: "message-search-status" });
  const head = h("div", { class: "search-head" }, status,
    h("button", {
      type: "button", class: "link", testid: "message-search-close",
      onclick: () => { input.value = ""; endSearch(); },
    }, "Close"));
  const list = h("ul", { class: "list", testid: "message-search-results" });
  const more = h("button", {
    type: "button", class: "link search-more", testid: "message-search-more",
    onclick: () => searchMore().catch((error) => toast(error.message, "error")),
  }, "Load more");
  const results = h("div", { class: "search-results" }, head, list, more);

  function resultNode(m, terms) {
    const c = m.conversation;
    const key = keyOfResult(m);
    const text = resultText(m);
    return h("li", {
      class: `item conv hit ${key === state.openKey ? "active" : ""}`, testid: "message-hit",
      dataset: { key, seq: m.seq, id: m.id },
      onclick: () => openMessage(c.chat_type, c.target_id, m.seq),
    },
    avatar(c.target_avatar, c.target_name),
    h("div", { class: "grow" },
      h("div", { class: "row" },
        h("span", { class: "name", testid: "message-hit-conversation" }, c.target_name, c.chat_type === GROUP ? h("small", {}, " · group") : null),
        h("span", { class: "time", title: new Date(m.create_at * 1000).toLocaleString() }, formatTime(m.create_at * 1000))),
      h("div", { class: "hit-line" },
        h("span", { class: "hit-sender", testid: "message-hit-sender" }, senderName(m)), ": ",
        m.type !== TYPE.text ? h("span", { class: "file-icon" }, "📄 ") : null,
        h("span", { class: "hit-text", testid: "message-hit-text" }, markTerms(snippet(text, terms), terms)))));
  }

  function draw() {
    const search = state.search;
    const scopeKey = search.scopeKey || state.openKey;
    scopeRow.hidden = !scopeKey;
    scope.checked = Boolean(search.scopeKey);
    if (scopeKey) {
      const [chatType, targetId] = scopeKey.split(":").map(Number);
      scopeName.textContent = conversationTitle(chatType === GROUP ? GROUP : PRIVATE, targetId);
    }
    results.hidden = !search.active;
    if (!search.active) return replace(list);
    const count = search.results.length;
    status.textContent = search.error ? search.error
      : search.loading && !count ? "Searching…"
        : count ? `${count}${search.hasMore ? "+" : ""} message${count === 1 ? "" : "s"} found` : "No messages found";
    const terms = searchTerms(search.keyword);
    replace(list, search.results.map((m) => resultNode(m, terms)));
    more.hidden = !search.hasMore;
    more.disabled = search.loading;
  }

  return { el: h("div", { class: "message-search-box" }, form, scopeRow), results, input, draw };
}
