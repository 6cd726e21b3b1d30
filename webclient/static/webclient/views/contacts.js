// Search users and groups, send friend requests, join groups; my friends (presence, chat,
// block, remove) and the people I blocked.

import { api, get, post } from "../api.js";
import { avatar, h, replace, toast } from "../dom.js";
import { GROUP, PRIVATE, loadFriends, state } from "../store.js";
import { defineView } from "./view.js";

const act = (promise, done) => promise.then((r) => { if (done) toast(done); return r; }, (error) => toast(error.message, "error"));

const names = new Map();

function userName(id) {
  const el = h("span", {}, `User #${id}`);
  if (!names.has(id)) {
    names.set(id, get("/user/info", { user_id: id }).then((u) => u.nickname || u.username, () => `User #${id}`));
  }
  names.get(id).then((name) => { el.textContent = name; });
  return el;
}

export const renderContacts = defineView("contacts", ["friends", "groups"], {
  mount(panel, { openChat }) {
    const results = h("div", { class: "results", testid: "search-results" });
    const input = h("input", { type: "search", placeholder: "Search people and groups", testid: "search-input", required: true });
    const friends = h("ul", { class: "list", testid: "friend-list" });
    const blocked = h("div", { testid: "blocked-list" });
    let lastResult = null;

    async function search(event) {
      event.preventDefault();
      const keyword = input.value.trim();
      if (!keyword) return;
      try {
        lastResult = await get("/search", { keyword });
        drawResults();
      } catch (error) {
        toast(error.message, "error");
      }
    }

    function drawResults() {
      if (!lastResult) return;
      const { users, groups } = lastResult;
      const mine = new Set(state.groups.map((g) => g.id));
      replace(results,
        users.length + groups.length === 0 ? h("p", { class: "empty" }, "Nobody found.") : null,
        h("ul", { class: "list" }, users.filter((u) => u.id !== state.me.id).map((u) => h("li", { class: "item", testid: "search-user", dataset: { userId: u.id, username: u.username } },
          avatar(u.avatar, u.nickname || u.username),
          h("div", { class: "grow" }, h("div", { class: "name" }, u.nickname || u.username), h("small", {}, `@${u.username}`)),
          state.friends.has(u.id)
            ? h("button", { class: "secondary", testid: "search-chat", onclick: () => openChat(PRIVATE, u.id) }, "Chat")
            : h("button", { class: "primary", testid: "add-friend", onclick: () => act(post("/friend/request/send", { to_user_id: u.id, message: `Hi, I am ${state.me.nickname || state.me.username}` }), "Friend request sent").then(loadFriends) }, "Add"),
          h("button", { class: "link danger", testid: "block-user", onclick: () => act(post("/friend/block", { friend_id: u.id }), "Blocked").then(loadFriends) }, "Block")))),
        h("ul", { class: "list" }, groups.map((g) => h("li", { class: "item", testid: "search-group", dataset: { groupId: g.id } },
          avatar(g.avatar, g.name),
          h("div", { class: "grow" }, h("div", { class: "name" }, g.name), h("small", {}, `${g.member_count} members`)),
          mine.has(g.id)
            ? h("button", { class: "secondary", onclick: () => openChat(GROUP, g.id) }, "Open")
            : h("button", { class: "primary", testid: "join-group", onclick: () => act(post("/group/join", { group_id: g.id, reason: "" }), "Request sent to the group's admins") }, "Join")))));
    }

    replace(panel,
      h("form", { class: "search", onsubmit: search }, input, h("button", { class: "primary", testid: "search-submit" }, "Search")),
      results,
      h("h3", {}, "Friends"), friends,
      blocked);
    return { friends, blocked, drawResults, openChat };
  },

  update({ friends, blocked, drawResults, openChat }) {
    drawResults();
    const list = [...state.friends.values()];
    replace(friends, list.length === 0 ? h("li", { class: "empty" }, "No friends yet: search for someone above.") : list.map((f) => {
      const name = f.remark || f.nickname;
      return h("li", { class: "item", testid: "friend", dataset: { userId: f.friend_id } },
        avatar(f.avatar, name, state.presence.get(f.friend_id) || 0),
        h("div", { class: "grow" }, h("div", { class: "name", testid: "friend-name" }, name)),
        h("button", { class: "secondary", testid: "friend-chat", onclick: () => openChat(PRIVATE, f.friend_id) }, "Chat"),
        h("details", { class: "more" }, h("summary", { title: "More" }, "⋯"),
          h("button", { class: "link", onclick: () => { const remark = prompt("Remark", f.remark || ""); if (remark !== null) act(api("PUT", "/friend/remark", { body: { user_id: f.friend_id, remark } })).then(loadFriends); } }, "Remark"),
          h("button", { class: "link danger", testid: "friend-block", onclick: () => act(post("/friend/block", { friend_id: f.friend_id }), "Blocked").then(loadFriends) }, "Block"),
          h("button", { class: "link danger", onclick: () => confirm(`Remove ${name}?`) && act(api("DELETE", "/friend/delete", { body: { friend_id: f.friend_id } }), "Removed").then(loadFriends) }, "Remove")));
    }));
    replace(blocked, state.blocked.length === 0 ? null : [
      h("h3", {}, "Blocked"),
      h("ul", { class: "list" }, state.blocked.map((b) => h("li", { class: "item", testid: "blocked", dataset: { userId: b.friend_id } },
        h("div", { class: "grow" }, userName(b.friend_id), b.remark ? ` (${b.remark})` : ""),
        h("button", { class: "link", testid: "unblock", onclick: () => act(post("/friend/unblock", { friend_id: b.friend_id }), "Unblocked").then(loadFriends) }, "Unblock")))),
    ]);
  },
});
