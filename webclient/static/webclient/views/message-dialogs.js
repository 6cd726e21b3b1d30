// Dialogs about one message: the conversation picker of a forward, and who has read one of my
// group messages.

import { avatar, h, replace, toast } from "../dom.js";
import { GROUP, forwardMessage, groupMembers, keyOf, loadReaders, state } from "../store.js";

function dialogShell(testid, title) {
  const dialog = h("dialog", { class: "dialog", testid });
  const close = () => { dialog.close(); dialog.remove(); };
  dialog.addEventListener("close", () => dialog.remove());
  const body = h("div", {});
  dialog.append(
    h("header", { class: "row" }, h("h2", {}, title), h("button", { class: "icon", testid: "dialog-close", onclick: close }, "✕")),
    body);
  document.body.append(dialog);
  dialog.showModal();
  return { dialog, body, close };
}

/** Pick a conversation (my list, filtered by name) and forward the message there. */
export function showForwardPicker(message) {
  const { body, close } = dialogShell("forward-dialog", "Forward to…");
  const filter = h("input", { placeholder: "Search conversations", testid: "forward-filter", oninput: draw });
  const list = h("ul", { class: "list" });
  replace(body, h("div", { class: "stack" }, filter), list);
  let sending = false;

  async function forward(conversation) {
    if (sending) return;
    sending = true;
    try {
      await forwardMessage(message, conversation.type, conversation.target_id);
      toast(`Forwarded to ${conversation.target_name}`);
      close();
    } catch (error) {
      toast(error.message, "error");
    } finally {
      sending = false;
    }
  }

  function draw() {
    const words = filter.value.trim().toLowerCase();
    const matching = state.conversations.filter((c) => (c.target_name || "").toLowerCase().includes(words));
    replace(list, matching.length === 0 ? h("li", { class: "empty" }, "No conversation matches.") : matching.map((c) =>
      h("li", {
        class: "item conv", testid: "forward-target", dataset: { key: keyOf(c.type, c.target_id) },
        onclick: () => forward(c),
      },
      avatar(c.target_avatar, c.target_name),
      h("div", { class: "grow" }, h("div", { class: "name" }, c.target_name, c.type === GROUP ? h("small", {}, " · group") : null)))));
  }
  draw();
  filter.focus();
}

/** The members who have read one of my group messages, and those who have not yet. */
export async function showReaders(chat, message) {
  let readers;
  let members;
  try {
    [readers, members] = await Promise.all([loadReaders(chat, message), groupMembers(chat.targetId, { fresh: true })]);
  } catch (error) {
    return toast(error.message, "error");
  }
  const byId = new Map(members.map((m) => [m.user_id, m]));
  const row = (userId, read) => {
    const member = byId.get(userId);
    const name = member ? member.nickname : `User ${userId}`;
    return h("li", { class: "item", testid: "reader", dataset: { userId, read: read ? "1" : "0" } },
      avatar(member && member.avatar, name), h("div", { class: "grow name" }, name));
  };
  const { body } = dialogShell("readers-dialog", "Message read by");
  replace(body,
    h("h3", { testid: "readers-read-title" }, `Read (${readers.read_count})`),
    h("ul", { class: "list" }, readers.read_user_ids.length ? readers.read_user_ids.map((id) => row(id, true)) : h("li", { class: "empty" }, "Nobody yet.")),
    h("h3", { testid: "readers-unread-title" }, `Not yet (${readers.unread_count})`),
    h("ul", { class: "list" }, readers.unread_user_ids.length ? readers.unread_user_ids.map((id) => row(id, false)) : h("li", { class: "empty" }, "Everyone has read it.")));
}
