// The open conversation: history (scroll up for older pages), live messages, typing indicator,
// read receipts on my messages, recall, and image/file messages with previews and downloads.
// Hovering a message shows its actions: reply (the quote goes above the composer and the sent
// message; a click on a quote shows the quoted message), react (chips under the message, a
// click on a chip adds or takes back mine), edit my recent text messages, forward, and on my
// group messages "read by N" opens the list of readers.
// A conversation opened at an older message (a search result, a far quote) shows a run of history
// around it: scrolling up and down loads the pages on either side.

import { fileUrl } from "../api.js";
import { avatar, formatSize, formatTime, h, replace, toast } from "../dom.js";
import {
  EDIT_WINDOW_MS, GROUP, PRIVATE, RECALLED, RECALL_WINDOW_MS, TYPE, chatByKey, closeChat,
  conversationTitle, emit, findConversation, loadMessage, loadNewer, loadOlder, loadReaders,
  mentionsMe, on, personName, react, recall, setSearchScope, sortedMessages, state,
} from "../store.js";
import { createComposer } from "./composer.js";
import { showGroupDetails } from "./groups.js";
import { showForwardPicker, showReaders } from "./message-dialogs.js";
import { quoteNode } from "./quote.js";

export const REACTION_CHOICES = ["👍", "❤️", "😂", "😮", "😢", "🎉"];
const READERS_SHOWN = 10; // my latest group messages whose readers are counted when drawn
const HIGHLIGHT_MS = 2000; // how long a message shown from a quote or a search result stays marked
const EDGE_PX = 40; // this close to the top or bottom of the list, the next page is loaded

export function renderChatPane(pane) {
  let view = null; // {chat, list, header, typing, composer, nodes: Map seq -> {el, sig}}
  let pickerSeq = null; // the message whose reaction picker is open

  const empty = () => replace(pane, h("div", { class: "empty-pane", testid: "no-chat" },
    h("p", {}, "Select a conversation, or start one from Contacts or Groups.")));

  function mount(key) {
    if (!key) { view = null; return empty(); }
    const chat = chatByKey(key);
    const list = h("ol", { class: "messages", testid: "message-list" });
    const typing = h("div", { class: "typing", testid: "typing-indicator", hidden: true });
    const header = h("header", { class: "chat-head" });
    const composer = createComposer(chat);
    pickerSeq = null;
    list.addEventListener("scroll", async () => {
      const atBottom = list.scrollHeight - list.scrollTop - list.clientHeight <= EDGE_PX;
      if (atBottom && chat.hasNewer && !chat.loadingNewer) await loadNewer(chat).catch(() => 0);
      if (list.scrollTop > EDGE_PX || !chat.hasOlder || chat.loadingOlder) return;
      const before = list.scrollHeight - list.scrollTop;
      const added = await loadOlder(chat).catch(() => 0);
      if (added) list.scrollTop = list.scrollHeight - before; // stay where the reader was
    });
    replace(pane, header, list, typing, composer.el);
    view = { chat, list, header, typing, composer, nodes: new Map(), highlight: null }; // highlight: {seq, until}
    drawHeader();
    drawMessages(true);
    composer.focus();
  }

  function drawHeader() {
    const { chat, header } = view;
    const title = conversationTitle(chat.chatType, chat.targetId);
    const conversation = findConversation(chat.key);
    const friend = chat.chatType === PRIVATE ? state.friends.get(chat.targetId) : null;
    const online = friend ? state.presence.get(chat.targetId) || 0 : null;
    replace(header,
      h("button", { class: "icon back", title: "Back", onclick: closeChat }, "←"),
      avatar(conversation ? conversation.target_avatar : friend && friend.avatar, title, online),
      h("div", { class: "grow" },
        h("div", { class: "name", testid: "chat-title" }, title),
        h("small", { class: "sub" }, chat.chatType === GROUP ? "group" : online ? "online" : online === 0 ? "offline" : "")),
      h("button", { class: "icon", testid: "chat-search", title: "Search this conversation", onclick: () => searchIn(chat) }, "🔍"),
      chat.chatType === GROUP
        ? h("button", { class: "secondary", testid: "group-details", onclick: () => showGroupDetails(chat.targetId) }, "Members")
        : null);
  }

  /** The message search of the Chats tab, limited to this conversation, with the cursor in it. */
  function searchIn(chat) {
    setSearchScope(chat.key).catch((error) => toast(error.message, "error"));
    emit("tab", "chats");
    if (window.matchMedia("(max-width: 760px)").matches) closeChat(); // the sidebar shows instead
    const field = document.querySelector('[data-testid="message-search-input"]');
    if (field) field.focus();
  }

  function drawTyping() {
    const { chat, typing } = view;
    const active = chat.typing && chat.typing.until > Date.now();
    typing.hidden = !active;
    typing.textContent = active ? `${chat.typing.name} is typing…` : "";
  }

  function flags(chat, m) {
    const mine = m.from === state.me.id;
    const recalled = m.status === RECALLED;
    const read = mine && chat.chatType === PRIVATE && m.seq <= chat.peerReadSeq;
    const canRecall = mine && !recalled && Date.now() - m.time < RECALL_WINDOW_MS;
    const canEdit = mine && !recalled && m.type === TYPE.text && Date.now() - m.time < EDIT_WINDOW_MS;
    const readers = mine && !recalled && chat.chatType === GROUP ? state.readers.get(m.id) || null : null;
    const picker = pickerSeq === m.seq;
    // Everything drawn from the message: a node is drawn anew when any of it changes.
    const sig = JSON.stringify([m.status, m.content, m.editedAt, m.reactions, m.replyTo, read, canRecall, canEdit, readers && readers.read_count, picker]);
    return { mine, recalled, read, canRecall, canEdit, readers, picker, sig };
  }

  function messageNode(chat, m, { mine, recalled, read, canRecall, canEdit, readers, picker }) {
    let body;
    if (recalled) body = h("em", { testid: "recalled" }, mine ? "You recalled a message" : "This message was recalled");
    else if (m.type === TYPE.image && m.file) body = imageBody(m.file);
    else if (m.type !== TYPE.text && m.file) body = fileBody(m.file);
    else body = h("span", { class: "text", testid: "message-text" }, m.content);
    const mentioned = mentionsMe(m);
    const highlighted = view.highlight && view.highlight.seq === m.seq && view.highlight.until > Date.now();
    const el = h("li", {
      class: `msg ${mine ? "mine" : "theirs"} ${recalled ? "recalled" : ""} ${mentioned ? "mentioned" : ""} ${highlighted ? "flash" : ""}`,
      testid: "message",
      dataset: {
        seq: m.seq, id: m.id, status: m.status, mine: mine ? "1" : "0", mentionsMe: mentioned ? "1" : "0",
        ...(highlighted ? { highlighted: "1" } : {}),
      },
    },
    !mine && chat.chatType === GROUP ? h("div", { class: "from" }, m.fromNickname || `User ${m.from}`) : null,
    h("div", { class: "line" },
      h("div", { class: "bubble" },
        m.forwarded && !recalled ? h("div", { class: "forwarded", testid: "forwarded" }, "Forwarded") : null,
        m.replyTo ? quoteNode(chat, m.replyTo, showMessage) : null,
        body),
      recalled ? null : actions(chat, m, canEdit)),
    picker && !recalled ? reactionPicker(chat, m) : null,
    m.reactions.length && !recalled ? reactionChips(chat, m) : null,
    h("div", { class: "meta" },
      h("time", {}, formatTime(m.time)),
      m.editedAt && !recalled ? h("span", { class: "edited", testid: "edited", title: `Edited ${formatTime(m.editedAt * 1000)}` }, "edited") : null,
      read ? h("span", { class: "read", testid: "read-receipt" }, "Read") : null,
      mine && !recalled && chat.chatType === GROUP ? h("button", {
        class: "link", testid: "read-by", dataset: { count: readers ? readers.read_count : "" },
        title: "Who has read it", onclick: () => showReaders(chat, m),
      }, readers ? `Read by ${readers.read_count}` : "Read by …") : null,
      canRecall ? h("button", {
        class: "link", testid: "recall",
        onclick: () => recall(chat, m).catch((error) => toast(error.message, "error")),
      }, "Recall") : null));
    return el;
  }

  /** The hover toolbar of a message. */
  function actions(chat, m, canEdit) {
    const button = (testid, title, text, onclick) => h("button", { type: "button", class: "icon", testid, title, onclick }, text);
    return h("div", { class: "actions", testid: "message-actions" },
      button("action-reply", "Reply", "↩", () => view.composer.startReply(m)),
      button("action-react", "React", "☺", () => { pickerSeq = pickerSeq === m.seq ? null : m.seq; drawMessages(); }),
      canEdit ? button("action-edit", "Edit", "✎", () => view.composer.startEdit(m)) : null,
      button("action-forward", "Forward", "↪", () => showForwardPicker(m)));
  }

  function reactionPicker(chat, m) {
    return h("div", { class: "picker", testid: "reaction-picker" },
      REACTION_CHOICES.map((emoji) => h("button", {
        type: "button", class: "icon", testid: "reaction-option", dataset: { emoji },
        onclick: () => { pickerSeq = null; toggleReaction(chat, m, emoji, true); },
      }, emoji)));
  }

  function reactionChips(chat, m) {
    return h("div", { class: "reactions", testid: "reactions" }, m.reactions.map((r) => {
      const mineToo = r.user_ids.includes(state.me.id);
      const who = r.user_ids.map((id) => personName(chat, id)).join(", ");
      return h("button", {
        type: "button", class: `chip ${mineToo ? "mine" : ""}`, testid: "reaction-chip",
        dataset: { emoji: r.emoji, count: r.count, mine: mineToo ? "1" : "0" },
        title: r.count > r.user_ids.length ? `${who} and others` : who,
        onclick: () => toggleReaction(chat, m, r.emoji, !mineToo),
      }, h("span", {}, r.emoji), h("b", {}, r.count));
    }));
  }

  function toggleReaction(chat, m, emoji, add) {
    react(chat, m, emoji, add).catch((error) => { toast(error.message, "error"); drawMessages(); });
  }

  /** Scroll to a message (loaded first if need be: see store.loadMessage) and make it flash. */
  async function showMessage(seq, { flash = true } = {}) {
    const { chat } = view;
    try {
      await loadMessage(chat, seq);
    } catch (error) {
      return toast(error.message, "error");
    }
    if (!view || view.chat !== chat) return;
    const el = view.list.querySelector(`[data-testid="message"][data-seq="${Number(seq)}"]`);
    if (!el) return toast("The message is not in your history", "error");
    el.scrollIntoView({ block: "center" });
    if (!flash) return;
    // Kept in the view, so a message drawn anew meanwhile (a receipt, an edit) stays marked.
    const highlight = view.highlight = { seq, until: Date.now() + HIGHLIGHT_MS };
    el.classList.remove("flash");
    void el.offsetWidth; // restart the animation
    el.classList.add("flash");
    el.dataset.highlighted = "1";
    setTimeout(() => {
      if (!view || view.highlight !== highlight) return;
      view.highlight = null;
      for (const node of view.list.querySelectorAll('[data-highlighted="1"]')) {
        node.classList.remove("flash");
        delete node.dataset.highlighted;
      }
    }, HIGHLIGHT_MS);
  }

  /** "Read by N" on my latest group messages: counted once when drawn, again on every tick. */
  function countReaders(chat, { again = false } = {}) {
    if (chat.chatType !== GROUP) return;
    const mine = sortedMessages(chat).filter((m) => m.from === state.me.id && m.status !== RECALLED).slice(-READERS_SHOWN);
    for (const m of mine) {
      if (again || !state.readers.has(m.id)) {
        state.readers.set(m.id, state.readers.get(m.id) || null); // asked once at a time
        loadReaders(chat, m).catch(() => {});
      }
    }
  }

  function imageBody(file) {
    const img = h("img", { alt: file.file_name, testid: "message-image", class: "preview" });
    fileUrl(file.file_id).then((url) => {
      img.addEventListener("load", () => stickToBottom(), { once: true });
      img.src = url;
    }, () => { img.alt = `${file.file_name} (unavailable)`; });
    return h("a", { href: "#", title: "Download", onclick: (e) => { e.preventDefault(); download(file); } }, img);
  }

  function fileBody(file) {
    return h("button", { class: "file", testid: "message-file", onclick: () => download(file) },
      h("span", { class: "file-icon" }, "📄"),
      h("span", {}, h("b", {}, file.file_name), h("small", {}, ` ${formatSize(file.file_size)}`)));
  }

  async function download(file) {
    try {
      const url = await fileUrl(file.file_id);
      const a = h("a", { href: url, download: file.file_name });
      document.body.append(a);
      a.click();
      a.remove();
    } catch (error) {
      toast(error.message, "error");
    }
  }

  let nearBottom = true;
  function stickToBottom() {
    if (view && nearBottom) view.list.scrollTop = view.list.scrollHeight;
  }

  /** Names (group nicknames) appear in quotes and chips: every node is drawn anew. */
  function redrawAll() {
    view.nodes.clear();
    drawMessages();
  }

  /** The first message at least partly in view, and how far below the list's top it starts. */
  function topMessage() {
    const { list } = view;
    for (const el of list.children) {
      if (el.dataset.seq && el.offsetTop + el.offsetHeight > list.scrollTop) {
        return { seq: Number(el.dataset.seq), offset: el.offsetTop - list.scrollTop };
      }
    }
    return null;
  }

  function drawMessages(initial = false) {
    const { chat, list, nodes } = view;
    // Stuck to the bottom only where the bottom is the latest message.
    nearBottom = !chat.hasNewer && (initial || list.scrollHeight - list.scrollTop - list.clientHeight < 80);
    const anchor = nearBottom || initial ? null : topMessage();
    const elements = [];
    if (chat.hasOlder) elements.push(h("li", { class: "older", testid: "older-marker" }, chat.loadingOlder ? "Loading…" : "Scroll up for older messages"));
    else if (chat.loaded) elements.push(h("li", { class: "older", testid: "history-start" }, "Beginning of the conversation"));
    for (const m of sortedMessages(chat)) {
      const f = flags(chat, m);
      const old = nodes.get(m.seq);
      if (old && old.sig === f.sig) {
        elements.push(old.el);
      } else {
        const el = messageNode(chat, m, f);
        nodes.set(m.seq, { el, sig: f.sig });
        elements.push(el);
      }
    }
    if (chat.hasNewer) {
      elements.push(h("li", {
        class: "older newer", testid: "newer-marker", onclick: () => loadNewer(chat).catch((error) => toast(error.message, "error")),
      }, chat.loadingNewer ? "Loading…" : "Scroll down for newer messages"));
    }
    const fromBottom = list.scrollHeight - list.scrollTop;
    list.replaceChildren(...elements);
    const kept = anchor && nodes.get(anchor.seq);
    if (nearBottom) list.scrollTop = list.scrollHeight;
    else if (kept && kept.el.isConnected) list.scrollTop = kept.el.offsetTop - anchor.offset; // what was in view stays there
    else list.scrollTop = list.scrollHeight - fromBottom;
    drawTyping();
    // Someone who writes has read what came before: a new message from another member counts
    // my messages' readers again (others' reads are not pushed to me).
    const latestOther = Math.max(0, ...[...chat.messages.values()].filter((m) => m.from !== state.me.id).map((m) => m.seq));
    const someoneWrote = view.latestOther !== undefined && latestOther > view.latestOther;
    view.latestOther = latestOther;
    countReaders(chat, { again: someoneWrote });
  }

  on("open", mount);
  on("chat", (key) => { if (view && key === view.chat.key) drawMessages(); });
  on("reveal", ({ key, seq, flash }) => { if (view && key === view.chat.key) showMessage(seq, { flash }); });
  on("friends", () => { if (view) drawHeader(); });
  on("conversations", () => { if (view) drawHeader(); });
  on("members", (groupId) => { if (view && view.chat.chatType === GROUP && view.chat.targetId === groupId) redrawAll(); });
  // The recall and edit buttons disappear when their windows close; read counts move on.
  setInterval(() => {
    if (!view) return;
    drawMessages();
    if (document.visibilityState === "visible") countReaders(view.chat, { again: true });
  }, 15_000);
  empty();
}
