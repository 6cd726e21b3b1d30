// Entry point: the login screen, or the main layout (sidebar tabs + chat pane) with a live socket.

import { setSessionLostHandler, tokens, logout } from "./api.js";
import { h, replace, toast } from "./dom.js";
import { Socket } from "./socket.js";
import * as store from "./store.js";
import { renderAuth } from "./views/auth.js";
import { renderChatPane } from "./views/chat.js";
import { renderContacts } from "./views/contacts.js";
import { renderConversations } from "./views/conversations.js";
import { renderGroups } from "./views/groups.js";
import { renderNotices } from "./views/notices.js";
import { renderProfile } from "./views/profile.js";

const root = document.getElementById("app");
let socket = null;
let lastSocket = null; // for the test hooks, after the session is over

const TABS = [
  ["chats", "Chats", renderConversations],
  ["contacts", "Contacts", renderContacts],
  ["groups", "Groups", renderGroups],
  ["notices", "Notices", renderNotices],
  ["me", "Me", renderProfile],
];

function showLogin() {
  if (socket) socket.stop();
  socket = null;
  // Several paths may find the session over at once (a REST call, the socket, the proactive
  // refresh): the form is drawn once and keeps what the user has typed.
  if (root.querySelector('[data-testid="auth"]')) return;
  renderAuth(root, startSession);
}

async function signOut() {
  if (socket) socket.stop();
  socket = null;
  await logout();
  location.reload(); // drop every piece of the previous user's state
}

async function startSession() {
  try {
    await store.loadMe();
  } catch {
    tokens.clear();
    return showLogin();
  }
  renderMain();
  socket = lastSocket = new Socket();
  store.useSocket(socket);
  socket.addEventListener("frame", (e) => store.handleFrame(e.detail));
  socket.addEventListener("state", (e) => {
    store.state.connection = e.detail;
    store.emit("connection");
  });
  socket.addEventListener("open", () => {
    // Every (re)connection fills whatever the socket may have missed, and the list.
    store.catchUp().catch((error) => toast(`Sync failed: ${error.message}`, "error"));
  });
  socket.addEventListener("unauthorized", () => showLogin());
  socket.start();
  await Promise.all([
    store.loadConversations(), store.loadFriends(), store.loadGroups(), store.loadUnseen(),
  ]).catch((error) => toast(error.message, "error"));
}

function renderMain() {
  const tabBar = h("nav", { class: "tabs" });
  const panel = h("div", { class: "panel" });
  const chatPane = h("main", { class: "chat-pane", testid: "chat-pane" });
  const status = h("span", { class: "conn", testid: "connection-state" });
  const who = h("span", { class: "who", testid: "me-name" });
  let current = "chats";

  const noticeCount = () => {
    const u = store.state.unseen;
    return u.friendRequests + u.groupApplications + u.groupNotifications;
  };

  // Chats: the unread total of unmuted conversations, that of muted ones as a grey count beside
  // it, and "@N" for the messages that mention me.
  const chatBadges = () => {
    const { unread_count: unread, muted_unread_count: muted, mention_count: mentions } = store.state.badge;
    return [
      mentions ? h("b", { class: "badge mention", testid: "tab-chats-mentions" }, `@${mentions}`) : null,
      unread ? h("b", { class: "badge", testid: "tab-chats-badge" }, unread) : null,
      muted ? h("b", { class: "badge quiet", testid: "tab-chats-muted", title: "Unread in muted conversations" }, muted) : null,
    ];
  };
  const drawTabs = () => replace(tabBar, TABS.map(([id, label]) => {
    const count = id === "notices" ? noticeCount() : 0;
    return h("button", {
      class: id === current ? "tab active" : "tab", testid: `tab-${id}`,
      onclick: () => { current = id; drawTabs(); drawPanel(); },
    }, label, id === "chats" ? chatBadges() : count ? h("b", { class: "badge", testid: `tab-${id}-badge` }, count) : null);
  }));
  const drawPanel = () => TABS.find(([id]) => id === current)[2](panel, { openChat, openMessage });
  const drawStatus = () => {
    status.dataset.state = store.state.connection;
    status.textContent = { open: "online", connecting: "connecting…", offline: "offline" }[store.state.connection];
  };
  const drawMe = () => { who.textContent = store.state.me ? store.state.me.nickname || store.state.me.username : ""; };

  async function openChat(chatType, targetId) {
    try {
      await store.openChat(chatType, targetId);
    } catch (error) {
      toast(error.message, "error");
    }
  }

  async function openMessage(chatType, targetId, seq) {
    try {
      await store.openChatAt(chatType, targetId, seq);
    } catch (error) {
      toast(error.message, "error");
    }
  }

  replace(root,
    h("div", { class: "layout", testid: "main" },
      h("aside", { class: "sidebar" },
        h("header", { class: "top" }, who, status,
          h("button", { class: "link", testid: "logout", onclick: signOut }, "Log out")),
        tabBar, panel),
      chatPane));
  drawTabs(); drawPanel(); drawStatus(); drawMe();
  renderChatPane(chatPane);

  store.on("me", drawMe);
  store.on("connection", drawStatus);
  store.on("notices", drawTabs);
  store.on("badges", drawTabs);
  store.on("conversations", drawTabs);
  store.on("tab", (id) => { current = id; drawTabs(); drawPanel(); });
}

document.addEventListener("visibilitychange", () => {
  const chat = store.state.openKey && store.chatByKey(store.state.openKey);
  if (chat) store.markRead(chat);
});

// Test hooks (used by the browser tests; harmless otherwise).
window.__imTest = {
  dropSocket: () => socket && socket.drop(),
  socketState: () => (socket ? socket.state : "none"),
  socketStats: () => (lastSocket ? lastSocket.stats : null),
};

setSessionLostHandler(showLogin);
if (tokens.access) startSession();
else showLogin();
