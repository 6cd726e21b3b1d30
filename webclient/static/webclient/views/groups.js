// Create a group, my groups, and a group's details: members and roles, invite friends,
// moderation for owner/admins (set admin, mute, kick), leave and dismiss.

import { get, post } from "../api.js";
import { avatar, h, replace, toast } from "../dom.js";
import { GROUP, closeChat, loadConversations, loadGroups, state } from "../store.js";
import { defineView } from "./view.js";

const ROLE = { 0: "member", 1: "admin", 2: "owner" };

export const renderGroups = defineView("groups", ["groups"], {
  mount(panel, { openChat }) {
    const list = h("ul", { class: "list", testid: "group-list" });
    const name = h("input", { name: "group_name", placeholder: "New group name", required: true, maxLength: 50, testid: "group-name" });
    const description = h("input", { name: "description", placeholder: "Description (optional)", maxLength: 500, testid: "group-description" });
    async function create(event) {
      event.preventDefault();
      try {
        const data = await post("/group/create", { group_name: name.value.trim(), description: description.value.trim() });
        name.value = "";
        description.value = "";
        await loadGroups();
        await loadConversations();
        openChat(GROUP, data.group_id);
      } catch (error) {
        toast(error.message, "error");
      }
    }
    replace(panel,
      h("form", { class: "stack", onsubmit: create }, name, description,
        h("button", { class: "primary", testid: "group-create" }, "Create group")),
      h("h3", {}, "My groups"), list);
    return { list, openChat };
  },
  update({ list, openChat }) {
    replace(list, state.groups.length === 0 ? h("li", { class: "empty" }, "No groups yet.") : state.groups.map((g) =>
      h("li", { class: "item", testid: "group", dataset: { groupId: g.id } },
        avatar(g.avatar, g.name),
        h("div", { class: "grow" }, h("div", { class: "name" }, g.name), h("small", {}, `${g.member_count} members`)),
        h("button", { class: "secondary", testid: "group-open", onclick: () => openChat(GROUP, g.id) }, "Open"),
        h("button", { class: "link", onclick: () => showGroupDetails(g.id) }, "Details"))));
  },
});

/** A dialog with the group's members and the actions my role allows. */
export async function showGroupDetails(groupId) {
  let info;
  let members;
  try {
    [info, members] = await Promise.all([get("/group/info", { group_id: groupId }), get("/group/members", { group_id: groupId })]);
  } catch (error) {
    return toast(error.message, "error");
  }
  const group = info.group_info;
  const me = members.members.find((m) => m.user_id === state.me.id);
  const myRole = me ? me.role : -1;
  const dialog = h("dialog", { class: "dialog", testid: "group-dialog" });
  const close = () => { dialog.close(); dialog.remove(); };
  const refresh = () => { close(); showGroupDetails(groupId); };
  const run = (promise, done, reopen = true) => promise.then(() => { toast(done); loadGroups(); if (reopen) refresh(); else close(); }, (error) => toast(error.message, "error"));

  const memberIds = new Set(members.members.map((m) => m.user_id));
  const invitable = [...state.friends.values()].filter((f) => !memberIds.has(f.friend_id));
  const inviteForm = h("form", {
    class: "stack", testid: "invite-form",
    onsubmit: (e) => {
      e.preventDefault();
      const ids = [...e.target.querySelectorAll("input:checked")].map((c) => Number(c.value));
      if (ids.length) run(post("/group/invite", { group_id: groupId, user_ids: ids }), "Invited");
    },
  },
  invitable.length === 0 ? h("small", {}, "All your friends are here.") : [
    invitable.map((f) => h("label", { class: "check" }, h("input", { type: "checkbox", value: f.friend_id, testid: "invite-friend" }), f.remark || f.nickname)),
    h("button", { class: "primary", testid: "invite-submit" }, "Invite"),
  ]);

  const memberRow = (m) => {
    const actions = [];
    if (m.user_id !== state.me.id) {
      if (myRole === 2) {
        actions.push(h("button", { class: "link", onclick: () => run(post("/group/set/role", { group_id: groupId, user_id: m.user_id, role: m.role === 1 ? 0 : 1 }), "Role changed") }, m.role === 1 ? "Remove admin" : "Make admin"));
      }
      if (myRole > m.role && myRole >= 1) {
        actions.push(h("button", { class: "link", onclick: () => run(post("/group/mute/member", { group_id: groupId, user_id: m.user_id, duration: m.muted_until ? 0 : 600 }), m.muted_until ? "Unmuted" : "Muted for 10 minutes") }, m.muted_until ? "Unmute" : "Mute 10 min"));
        actions.push(h("button", { class: "link danger", onclick: () => run(post("/group/kick", { group_id: groupId, user_id: m.user_id }), "Removed") }, "Kick"));
      }
    }
    return h("li", { class: "item", testid: "group-member", dataset: { userId: m.user_id, role: m.role } },
      avatar(m.avatar, m.nickname, state.friends.has(m.user_id) ? state.presence.get(m.user_id) || 0 : null),
      h("div", { class: "grow" }, h("div", { class: "name" }, m.nickname), h("small", {}, ROLE[m.role], m.muted_until ? " · muted" : "")),
      actions);
  };

  replace(dialog,
    h("header", { class: "row" }, h("h2", {}, group.name), h("button", { class: "icon", testid: "dialog-close", onclick: close }, "✕")),
    group.description ? h("p", {}, group.description) : null,
    h("h3", {}, `Members (${members.total})`),
    h("ul", { class: "list" }, members.members.map(memberRow)),
    me ? [h("h3", {}, "Invite friends"), inviteForm] : null,
    h("footer", { class: "row" },
      myRole === 2
        ? h("button", { class: "danger", onclick: () => confirm("Dismiss this group for everyone?") && run(post("/group/dismiss", { group_id: groupId }).then(closeChat), "Group dismissed", false) }, "Dismiss group")
        : myRole >= 0
          ? h("button", { class: "danger", onclick: () => run(post("/group/leave", { group_id: groupId }).then(() => { closeChat(); loadConversations(); }), "You left the group", false) }, "Leave group")
          : null));
  document.body.append(dialog);
  dialog.showModal();
}
