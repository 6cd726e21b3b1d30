// Friend requests to me (accept/reject), join applications for groups I manage
// (approve/reject) and my group notifications. Listing them marks them read on the server.

import { get, post } from "../api.js";
import { avatar, formatTime, h, replace, toast } from "../dom.js";
import { emit, loadFriends, loadGroups, loadConversations, state } from "../store.js";
import { defineView } from "./view.js";

const REQUEST_STATUS = { 1: "pending", 2: "accepted", 3: "rejected" };

export const renderNotices = defineView("notices", ["notices"], {
  mount(panel) {
    const friendRequests = h("ul", { class: "list", testid: "friend-requests" });
    const applications = h("ul", { class: "list", testid: "group-applications" });
    const notifications = h("ul", { class: "list", testid: "group-notifications" });
    replace(panel,
      h("h3", {}, "Friend requests"), friendRequests,
      h("h3", {}, "Join applications"), applications,
      h("h3", {}, "Group notifications"), notifications);
    return { friendRequests, applications, notifications };
  },

  async update(parts) {
    let data;
    try {
      data = await Promise.all([
        get("/notification/request/friend"),
        get("/notification/request/group"),
        get("/notification/group/notifications"),
      ]);
    } catch (error) {
      return toast(error.message, "error");
    }
    const [requests, applications, notifications] = data;
    state.unseen = { friendRequests: 0, groupApplications: 0, groupNotifications: 0 };
    emit("badges");
    const reload = () => emit("notices");

    replace(parts.friendRequests, requests.requests.length === 0 ? h("li", { class: "empty" }, "None.") :
      requests.requests.map((r) => h("li", { class: "item", testid: "friend-request", dataset: { id: r.id, status: r.status, fromUserId: r.from_user_id } },
        avatar(r.from_avatar, r.from_nickname),
        h("div", { class: "grow" }, h("div", { class: "name" }, r.from_nickname), h("small", {}, r.message || "")),
        r.status === 1 ? [
          h("button", { class: "primary", testid: "accept-request", onclick: () => handle(r.id, 2) }, "Accept"),
          h("button", { class: "secondary", testid: "reject-request", onclick: () => handle(r.id, 3) }, "Reject"),
        ] : h("small", { class: "status" }, REQUEST_STATUS[r.status]))));

    async function handle(id, action) {
      try {
        await post("/friend/request/handle", { request_id: id, action });
        toast(action === 2 ? "Friend added" : "Request rejected");
        await loadFriends();
        await loadConversations();
      } catch (error) {
        toast(error.message, "error");
      }
      reload();
    }

    replace(parts.applications, applications.applications.length === 0 ? h("li", { class: "empty" }, "None.") :
      applications.applications.map((a) => h("li", { class: "item", testid: "group-application", dataset: { id: a.id } },
        avatar(a.user_avatar, a.user_nickname),
        h("div", { class: "grow" }, h("div", { class: "name" }, `${a.user_nickname} → ${a.group_name}`), h("small", {}, a.reason || "")),
        h("button", { class: "primary", testid: "approve-application", onclick: () => decide(a.id, true) }, "Approve"),
        h("button", { class: "secondary", testid: "reject-application", onclick: () => decide(a.id, false) }, "Reject"))));

    async function decide(id, approve) {
      try {
        await post("/group/request/handle", { application_id: id, approve });
        toast(approve ? "Approved" : "Rejected");
        await loadGroups();
      } catch (error) {
        toast(error.message, "error");
      }
      reload();
    }

    replace(parts.notifications, notifications.notifications.length === 0 ? h("li", { class: "empty" }, "None.") :
      notifications.notifications.map((n) => h("li", { class: `item notice ${n.is_read ? "" : "unread"}`, testid: "group-notification", dataset: { type: n.type } },
        h("div", { class: "grow" }, h("div", {}, n.message), h("small", {}, formatTime(n.timestamp * 1000))))));
  },
});
