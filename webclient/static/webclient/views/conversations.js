// The conversation list: pinned first, unread badges (grey when muted), "@N" when someone
// mentioned me, presence dots for private chats, and pin / mute toggles. Above it the message
// search, whose results take the list's place while they are shown.

import { avatar, formatTime, h, replace, toast } from "../dom.js";
import { GROUP, PRIVATE, keyOf, previewText, setMuted, setPinned, state } from "../store.js";
import { createSearch } from "./search.js";
import { defineView } from "./view.js";

export const renderConversations = defineView("chats", ["conversations", "open", "search"], {
  mount(panel, { openChat, openMessage }) {
    const list = h("ul", { class: "list", testid: "conversation-list" });
    const search = createSearch({ openMessage });
    replace(panel, search.el, search.results, list);
    return { list, openChat, search };
  },
  update({ list, openChat, search }) {
    search.draw();
    list.hidden = state.search.active;
    if (state.search.active) return;
    if (state.conversations.length === 0) {
      return replace(list, h("li", { class: "empty" }, "No conversations yet. Find people under Contacts."));
    }
    replace(list, state.conversations.map((c) => {
      const key = keyOf(c.type, c.target_id);
      const online = c.type === PRIVATE && state.friends.has(c.target_id) ? state.presence.get(c.target_id) || 0 : null;
      const pin = h("button", {
        class: "icon", title: c.is_pinned ? "Unpin" : "Pin", testid: "conversation-pin",
        onclick: (e) => { e.stopPropagation(); setPinned(c, !c.is_pinned).catch((err) => toast(err.message, "error")); },
      }, c.is_pinned ? "★" : "☆");
      const mute = h("button", {
        class: "icon", title: c.is_muted ? "Unmute notifications" : "Mute notifications", testid: "conversation-mute",
        dataset: { muted: c.is_muted ? "1" : "0" },
        onclick: (e) => { e.stopPropagation(); setMuted(c, !c.is_muted).catch((err) => toast(err.message, "error")); },
      }, c.is_muted ? "🔕" : "🔔");
      return h("li", {
        class: `item conv ${key === state.openKey ? "active" : ""} ${c.is_pinned ? "pinned" : ""} ${c.is_muted ? "muted" : ""}`,
        testid: "conversation", dataset: { key, pinned: c.is_pinned ? "1" : "0", muted: c.is_muted ? "1" : "0" },
        onclick: () => openChat(c.type, c.target_id),
      },
      avatar(c.target_avatar, c.target_name, online),
      h("div", { class: "grow" },
        h("div", { class: "row" },
          h("span", { class: "name", testid: "conversation-name" }, c.target_name, c.type === GROUP ? h("small", {}, " · group") : null),
          h("span", { class: "time" }, formatTime((c.last_message_time || 0) * 1000))),
        h("div", { class: "row" },
          h("span", { class: "preview", testid: "conversation-preview" }, previewText(c.last_message || "")),
          c.mention_count ? h("b", { class: "badge mention", testid: "mention-badge", title: "You were mentioned" }, `@${c.mention_count}`) : null,
          c.unread_count ? h("b", { class: `badge ${c.is_muted ? "quiet" : ""}`, testid: "unread-badge" }, c.unread_count) : null)),
      h("div", { class: "toggles" }, pin, mute));
    }));
  },
});
