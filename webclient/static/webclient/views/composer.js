// The composer of the open conversation: text and files, a reply's quote above the field, editing
// one of my messages in place of a new one, and `@` completion of group members (`@all` for the
// owner and admins only), sent as `mentions` / `mention_all`.

import { h, replace, toast } from "../dom.js";
import {
  GROUP, ROLE, TYPE, editMessage, groupMembers, myRole, personName, sendFile, sendMessage,
  sendTyping, state,
} from "../store.js";
import { quoteText } from "./quote.js";

const MAX_SUGGESTIONS = 8;
const ALL = "all";

const escapeRegExp = (text) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/** Whether `text` names `@label` as a whole word (so "@Bo" is not found in "@Bob"). */
const names = (text, label) => new RegExp(`(^|\\s)@${escapeRegExp(label)}(?=$|[\\s.,!?;:)])`, "u").test(text);

export function createComposer(chat) {
  const isGroup = chat.chatType === GROUP;
  let replyTo = null; // the message quoted by the next send
  let editing = null; // the message of mine being edited
  let suggestions = []; // [{id, label}] shown under the field
  let active = 0;

  const bar = h("div", { class: "composer-bar", hidden: true });
  const popup = h("ul", { class: "mention-popup", testid: "mention-suggestions", hidden: true, role: "listbox" });
  const input = h("textarea", {
    rows: 1, placeholder: "Write a message", testid: "composer-input",
    oninput: () => { sendTyping(chat); suggest(); },
    onkeydown: keydown,
    onblur: () => setTimeout(closeSuggestions, 150),
    onclick: suggest,
  });
  const fileInput = h("input", {
    type: "file", hidden: true, testid: "composer-file",
    onchange: async () => {
      const file = fileInput.files[0];
      fileInput.value = "";
      if (!file) return;
      try { await sendFile(chat, file); } catch (error) { toast(error.message, "error"); }
    },
  });
  const form = h("form", { class: "composer", onsubmit: (e) => { e.preventDefault(); submit(); } },
    h("button", { type: "button", class: "icon", title: "Send an image or a file", testid: "composer-attach", onclick: () => fileInput.click() }, "Attach"),
    fileInput, input,
    h("button", { type: "submit", class: "primary", testid: "composer-send" }, "Send"));
  const el = h("div", { class: "composer-wrap" }, popup, bar, form);

  if (isGroup) groupMembers(chat.targetId).catch(() => {});

  function keydown(e) {
    if (!popup.hidden && suggestions.length) {
      if (e.key === "ArrowDown" || e.key === "ArrowUp") {
        e.preventDefault();
        active = (active + (e.key === "ArrowDown" ? 1 : suggestions.length - 1)) % suggestions.length;
        return drawSuggestions();
      }
      if (e.key === "Enter" || e.key === "Tab") {
        e.preventDefault();
        return pick(suggestions[active]);
      }
      if (e.key === "Escape") return closeSuggestions();
    }
    if (e.key === "Escape" && (replyTo || editing)) return cancel();
    if (e.key === "Enter" && !e.shiftKey) { e.preventDefault(); submit(); }
  }

  // --- @ completion ---------------------------------------------------------------------------
  /** The `@word` just before the caret: {start, query}, or null. */
  function mentionAtCaret() {
    const before = input.value.slice(0, input.selectionStart);
    const match = /(^|\s)@([^\s@]*)$/u.exec(before);
    return match ? { start: before.length - match[2].length - 1, query: match[2].toLowerCase() } : null;
  }

  function candidates() {
    const members = state.members.get(chat.targetId) || [];
    const people = members.filter((m) => m.user_id !== state.me.id && m.nickname)
      .map((m) => ({ id: m.user_id, label: m.nickname }));
    if (myRole(chat.targetId) >= ROLE.admin) people.unshift({ id: ALL, label: ALL });
    return people;
  }

  function suggest() {
    const at = isGroup && !editing ? mentionAtCaret() : null;
    if (!at) return closeSuggestions();
    if (!state.members.has(chat.targetId)) { // not fetched yet (or changed): offered once here
      groupMembers(chat.targetId).then(() => { if (document.activeElement === input) suggest(); }, () => {});
    }
    suggestions = candidates()
      .filter((c) => c.label.toLowerCase().includes(at.query))
      .sort((a, b) => (b.label.toLowerCase().startsWith(at.query) - a.label.toLowerCase().startsWith(at.query)))
      .slice(0, MAX_SUGGESTIONS);
    active = 0;
    drawSuggestions();
  }

  function drawSuggestions() {
    popup.hidden = suggestions.length === 0;
    replace(popup, suggestions.map((c, i) => h("li", {
      class: i === active ? "active" : "", testid: "mention-option", role: "option",
      dataset: { userId: c.id, label: c.label },
      onmousedown: (e) => { e.preventDefault(); pick(c); }, // before the field loses its focus
    }, c.id === ALL ? h("b", {}, "@all") : `@${c.label}`, c.id === ALL ? h("small", {}, " everyone") : null)));
  }

  function closeSuggestions() {
    suggestions = [];
    popup.hidden = true;
    popup.replaceChildren();
  }

  function pick(candidate) {
    const at = mentionAtCaret();
    if (!at) return closeSuggestions();
    const caret = input.selectionStart;
    const insert = `@${candidate.label} `;
    input.value = input.value.slice(0, at.start) + insert + input.value.slice(caret);
    const position = at.start + insert.length;
    input.setSelectionRange(position, position);
    closeSuggestions();
    input.focus();
  }

  /** The members the text names with `@nickname`, and whether it names `@all` (allowed roles). */
  function mentionsIn(text) {
    if (!isGroup) return { mentions: [], mentionAll: false };
    const members = state.members.get(chat.targetId) || [];
    const named = members.filter((m) => m.nickname && names(text, m.nickname));
    const mentions = [...new Set(named.map((m) => m.user_id))];
    const mentionAll = myRole(chat.targetId) >= ROLE.admin && names(text, ALL);
    return { mentions, mentionAll };
  }

  // --- reply and edit -------------------------------------------------------------------------
  function drawBar() {
    bar.hidden = !replyTo && !editing;
    const close = h("button", { type: "button", class: "icon", title: "Cancel", testid: "composer-cancel", onclick: cancel }, "✕");
    if (editing) {
      replace(bar, h("div", { class: "grow", testid: "composer-edit", dataset: { seq: editing.seq } },
        h("b", {}, "Editing your message")), close);
    } else if (replyTo) {
      replace(bar, h("div", { class: "quote grow", testid: "composer-reply", dataset: { seq: replyTo.seq } },
        h("b", {}, `Replying to ${personName(chat, replyTo.from)}`),
        h("span", { class: "quote-text" }, quoteText({ type: replyTo.type, status: replyTo.status, content: replyTo.content }))), close);
    } else {
      bar.replaceChildren();
    }
  }

  function cancel() {
    if (editing) input.value = "";
    replyTo = null;
    editing = null;
    drawBar();
    input.focus();
  }

  function startReply(message) {
    if (editing) input.value = "";
    editing = null;
    replyTo = message;
    drawBar();
    input.focus();
  }

  function startEdit(message) {
    replyTo = null;
    editing = message;
    input.value = message.content;
    drawBar();
    input.focus();
    input.setSelectionRange(input.value.length, input.value.length);
  }

  async function submit() {
    const text = input.value.trim();
    if (!text) return;
    const quoted = replyTo;
    const edited = editing;
    input.value = "";
    replyTo = null;
    editing = null;
    drawBar();
    closeSuggestions();
    try {
      if (edited) {
        if (text !== edited.content) await editMessage(chat, edited, text);
      } else {
        await sendMessage(chat, TYPE.text, text, { replyTo: quoted ? quoted.id : null, ...mentionsIn(text) });
      }
    } catch (error) {
      input.value = text;
      replyTo = quoted;
      editing = edited;
      drawBar();
      toast(error.message, "error");
    }
  }

  return { el, input, startReply, startEdit, focus: () => input.focus() };
}
