// The open conversation: history (scroll up for older pages), live messages, typing indicator,
// read receipts on my messages, recall, and image/file messages with previews and downloads.

import { fileUrl } from "../api.js";
import { avatar, formatSize, formatTime, h, replace, toast } from "../dom.js";
import {
  GROUP, PRIVATE, RECALLED, RECALL_WINDOW_MS, TYPE, chatByKey, closeChat, conversationTitle,
  findConversation, loadOlder, on, recall, sendFile, sendMessage, sendTyping, sortedMessages, state,
} from "../store.js";
import { showGroupDetails } from "./groups.js";

export function renderChatPane(pane) {
  let view = null; // {chat, list, header, typing, nodes: Map seq -> {el, sig}}

  const empty = () => replace(pane, h("div", { class: "empty-pane", testid: "no-chat" },
    h("p", {}, "Select a conversation, or start one from Contacts or Groups.")));

  function mount(key) {
    if (!key) { view = null; return empty(); }
    const chat = chatByKey(key);
    const list = h("ol", { class: "messages", testid: "message-list" });
    const typing = h("div", { class: "typing", testid: "typing-indicator", hidden: true });
    const header = h("header", { class: "chat-head" });
    const input = h("textarea", {
      rows: 1, placeholder: "Write a message", testid: "composer-input",
      oninput: () => sendTyping(chat),
      onkeydown: (e) => { if (e.key === "Enter" && !e.shiftKey) { e.preventDefault(); submit(); } },
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
    async function submit() {
      const text = input.value.trim();
      if (!text) return;
      input.value = "";
      try { await sendMessage(chat, TYPE.text, text); } catch (error) { input.value = text; toast(error.message, "error"); }
    }
    list.addEventListener("scroll", async () => {
      if (list.scrollTop > 40 || !chat.hasOlder || chat.loadingOlder) return;
      const before = list.scrollHeight - list.scrollTop;
      const added = await loadOlder(chat).catch(() => 0);
      if (added) list.scrollTop = list.scrollHeight - before; // stay where the reader was
    });
    replace(pane,
      header,
      list,
      typing,
      h("form", { class: "composer", onsubmit: (e) => { e.preventDefault(); submit(); } },
        h("button", { type: "button", class: "icon", title: "Send an image or a file", testid: "composer-attach", onclick: () => fileInput.click() }, "Attach"),
        fileInput, input,
        h("button", { type: "submit", class: "primary", testid: "composer-send" }, "Send")));
    view = { chat, list, header, typing, nodes: new Map() };
    drawHeader();
    drawMessages(true);
    input.focus();
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
      chat.chatType === GROUP
        ? h("button", { class: "secondary", testid: "group-details", onclick: () => showGroupDetails(chat.targetId) }, "Members")
        : null);
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
    return { mine, recalled, read, canRecall, sig: `${m.status}|${read}|${canRecall}` };
  }

  function messageNode(chat, m, { mine, recalled, read, canRecall }) {
    let body;
    if (recalled) body = h("em", { testid: "recalled" }, mine ? "You recalled a message" : "This message was recalled");
    else if (m.type === TYPE.image && m.file) body = imageBody(m.file);
    else if (m.type !== TYPE.text && m.file) body = fileBody(m.file);
    else body = h("span", { class: "text", testid: "message-text" }, m.content);
    const el = h("li", {
      class: `msg ${mine ? "mine" : "theirs"} ${recalled ? "recalled" : ""}`,
      testid: "message", dataset: { seq: m.seq, id: m.id, status: m.status, mine: mine ? "1" : "0" },
    },
    !mine && chat.chatType === GROUP ? h("div", { class: "from" }, m.fromNickname || `User ${m.from}`) : null,
    h("div", { class: "bubble" }, body),
    h("div", { class: "meta" },
      h("time", {}, formatTime(m.time)),
      read ? h("span", { class: "read", testid: "read-receipt" }, "Read") : null,
      canRecall ? h("button", {
        class: "link", testid: "recall",
        onclick: () => recall(chat, m).catch((error) => toast(error.message, "error")),
      }, "Recall") : null));
    return el;
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

  function drawMessages(initial = false) {
    const { chat, list, nodes } = view;
    nearBottom = initial || list.scrollHeight - list.scrollTop - list.clientHeight < 80;
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
    const fromBottom = list.scrollHeight - list.scrollTop;
    list.replaceChildren(...elements);
    if (nearBottom) list.scrollTop = list.scrollHeight;
    else list.scrollTop = list.scrollHeight - fromBottom;
    drawTyping();
  }

  on("open", mount);
  on("chat", (key) => { if (view && key === view.chat.key) drawMessages(); });
  on("friends", () => { if (view) drawHeader(); });
  on("conversations", () => { if (view) drawHeader(); });
  // The recall buttons disappear when the window closes.
  setInterval(() => { if (view) drawMessages(); }, 15_000);
  empty();
}
