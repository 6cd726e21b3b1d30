// Client state and the actions that change it. Views subscribe with on(event, fn) and re-render;
// nothing here touches the DOM.
//
// Events: "me", "conversations", "friends", "groups", "notices", "chat" (detail: key),
// "open" (the open conversation changed), "connection".

import { api, get, post, upload } from "./api.js";

export const PRIVATE = 0;
export const GROUP = 1;
export const TYPE = { text: 0, image: 1, file: 2, audio: 3, video: 4 };
const TYPE_BY_NAME = TYPE;
export const RECALLED = 2;
export const RECALL_WINDOW_MS = 120_000; // IM_RECALL_WINDOW_S default; the server has the last word
const PAGE = 20;

export const state = {
  me: null,
  conversations: [], // 8.6 items
  friends: new Map(), // friend user id -> 4.3 item
  blocked: [],
  presence: new Map(), // user id -> 1/0
  groups: [], // 5.3 items
  chats: new Map(), // key -> chat (below)
  openKey: null,
  connection: "offline",
  unseen: { friendRequests: 0, groupApplications: 0, groupNotifications: 0 },
  groupNotifications: [],
};

const bus = new EventTarget();
export const on = (event, fn) => bus.addEventListener(event, (e) => fn(e.detail));
export const emit = (event, detail) => bus.dispatchEvent(new CustomEvent(event, { detail }));

export const keyOf = (chatType, targetId) => `${chatType}:${targetId}`;

// --- socket wiring (set by app.js) ----------------------------------------------------------
let socket = null;
export function useSocket(s) { socket = s; }

// --- messages -------------------------------------------------------------------------------

function fromHistory(m) {
  return {
    id: m.id, seq: m.seq, from: m.from_user_id, type: m.type, content: m.content,
    status: m.status, time: m.create_at * 1000, file: m.file, fromNickname: m.from_nickname,
  };
}

function fromPush(d) {
  return {
    id: d.message_id, seq: d.seq, from: d.sender_id, type: TYPE_BY_NAME[d.message_type] ?? 0,
    content: d.content, status: d.status, time: Date.parse(d.timestamp), file: d.file,
    fromNickname: d.from_nickname,
  };
}

function chatFor(chatType, targetId) {
  const key = keyOf(chatType, targetId);
  if (!state.chats.has(key)) {
    state.chats.set(key, {
      key, chatType, targetId,
      messages: new Map(), // seq -> message
      loaded: false, hasOlder: false, loadingOlder: false,
      peerReadSeq: 0, typing: null, // {name, until}
    });
  }
  return state.chats.get(key);
}

export const chatByKey = (key) => state.chats.get(key);

export function sortedMessages(chat) {
  return [...chat.messages.values()].sort((a, b) => a.seq - b.seq);
}

const maxSeq = (chat) => Math.max(0, ...chat.messages.keys());
const minSeq = (chat) => Math.min(...chat.messages.keys());

function addMessages(chat, messages) {
  for (const m of messages) chat.messages.set(m.seq, m);
}

function historyQuery(chat, extra) {
  return { target_id: chat.targetId, chat_type: chat.chatType, limit: PAGE, ...extra };
}

export async function openChat(chatType, targetId) {
  const chat = chatFor(chatType, Number(targetId));
  state.openKey = chat.key;
  emit("open", chat.key);
  if (!chat.loaded) {
    const page = await get("/chat/history", historyQuery(chat));
    addMessages(chat, page.messages.map(fromHistory));
    chat.hasOlder = page.hasMore;
    chat.loaded = true;
    emit("chat", chat.key);
  }
  markRead(chat);
  return chat;
}

export function closeChat() {
  state.openKey = null;
  emit("open", null);
}

export async function loadOlder(chat) {
  if (!chat.hasOlder || chat.loadingOlder || chat.messages.size === 0) return 0;
  chat.loadingOlder = true;
  try {
    const page = await get("/chat/history", historyQuery(chat, { before_seq: minSeq(chat) }));
    addMessages(chat, page.messages.map(fromHistory));
    chat.hasOlder = page.hasMore;
    emit("chat", chat.key);
    return page.messages.length;
  } finally {
    chat.loadingOlder = false;
  }
}

/** Fill the gap after a reconnect: every loaded conversation asks for what follows its last seq. */
export async function catchUp() {
  for (const chat of state.chats.values()) {
    if (!chat.loaded) continue;
    let more = true;
    while (more) {
      const page = await get("/chat/history", historyQuery(chat, { after_seq: maxSeq(chat), limit: 100 }));
      addMessages(chat, page.messages.map(fromHistory));
      more = page.hasMore && page.messages.length > 0;
    }
    emit("chat", chat.key);
    if (chat.key === state.openKey) markRead(chat);
  }
  await loadConversations();
}

function newClientMsgId() {
  return crypto.randomUUID ? crypto.randomUUID() : `${Date.now()}-${Math.random().toString(16).slice(2)}`;
}

export async function sendMessage(chat, type, content) {
  const target = chat.chatType === GROUP ? { group_id: chat.targetId } : { to_user_id: chat.targetId };
  const body = { ...target, chat_type: chat.chatType, type, content, client_msg_id: newClientMsgId() };
  const message = fromHistory(await post("/chat/send", body));
  addMessages(chat, [message]);
  emit("chat", chat.key);
  noteLastMessage(chat.key, message, { mine: true });
  return message;
}

export async function sendFile(chat, file) {
  const info = await upload(file);
  const type = info.file_type === "image" ? TYPE.image : TYPE.file;
  return sendMessage(chat, type, info.file_id);
}

export async function recall(chat, message) {
  await post("/chat/message/recall", { message_id: message.id });
  applyRecall(chat, message.seq);
}

function applyRecall(chat, seq) {
  const message = chat.messages.get(seq);
  if (message) {
    message.status = RECALLED;
    message.content = "";
    message.file = null;
  }
  emit("chat", chat.key);
}

let readTimers = new Map();

/** Tell the server (and the peer: read receipt) that I have seen this conversation. */
export function markRead(chat) {
  if (chat.key !== state.openKey || document.visibilityState !== "visible") return;
  clearTimeout(readTimers.get(chat.key));
  readTimers.set(chat.key, setTimeout(() => {
    const data = { target_id: chat.targetId, chat_type: chat.chatType };
    if (!(socket && socket.send("read", data))) post("/chat/read", data).catch(() => {});
    const conversation = findConversation(chat.key);
    if (conversation && conversation.unread_count) {
      conversation.unread_count = 0;
      emit("conversations");
    }
  }, 150));
}

let lastTyping = 0;

export function sendTyping(chat) {
  const now = Date.now();
  if (now - lastTyping < 2000) return; // at most one frame every 2 s
  lastTyping = now;
  if (socket) socket.send("typing", { target_id: chat.targetId, chat_type: chat.chatType });
}

// --- conversations --------------------------------------------------------------------------

const PREVIEWS = { "[图片]": "[Image]", "[文件]": "[File]", "[语音]": "[Audio]", "[视频]": "[Video]", "[消息已撤回]": "[Recalled]" };
export const previewText = (text) => PREVIEWS[text] ?? text;

function previewOf(message) {
  if (message.status === RECALLED) return "[Recalled]";
  return ["", "[Image]", "[File]", "[Audio]", "[Video]"][message.type] || message.content;
}

export function findConversation(key) {
  return state.conversations.find((c) => keyOf(c.type, c.target_id) === key);
}

function sortConversations() {
  state.conversations.sort((a, b) => (b.is_pinned - a.is_pinned) || ((b.last_message_time || 0) - (a.last_message_time || 0)));
}

export async function loadConversations() {
  state.conversations = await get("/chat/conversation/list");
  sortConversations();
  emit("conversations");
}

let listRefresh = null;
function refreshConversationsSoon() {
  clearTimeout(listRefresh);
  listRefresh = setTimeout(() => loadConversations().catch(() => {}), 200);
}

function noteLastMessage(key, message, { mine }) {
  const conversation = findConversation(key);
  if (!conversation) return refreshConversationsSoon();
  if (message.seq < (conversation.last_seq || 0)) return;
  conversation.last_seq = message.seq;
  conversation.last_message_id = message.id;
  conversation.last_message = previewOf(message);
  conversation.last_message_time = Math.floor(message.time / 1000);
  const viewing = key === state.openKey && document.visibilityState === "visible";
  if (!mine && !viewing) conversation.unread_count = (conversation.unread_count || 0) + 1;
  sortConversations();
  emit("conversations");
}

export async function setPinned(conversation, pinned) {
  await post("/chat/conversation/pin", { target_id: conversation.target_id, chat_type: conversation.type, is_pinned: pinned });
  await loadConversations();
}

export function conversationTitle(chatType, targetId) {
  const conversation = findConversation(keyOf(chatType, targetId));
  if (conversation) return conversation.target_name;
  if (chatType === PRIVATE) {
    const friend = state.friends.get(Number(targetId));
    return friend ? friend.remark || friend.nickname : `User ${targetId}`;
  }
  const group = state.groups.find((g) => g.id === Number(targetId));
  return group ? group.name : `Group ${targetId}`;
}

// --- people and groups ----------------------------------------------------------------------

export async function loadMe() {
  state.me = await get("/user/profile");
  emit("me");
}

export async function loadFriends() {
  const [friends, blocked] = await Promise.all([get("/friend/list"), get("/friend/blocked/list")]);
  state.friends = new Map(friends.friends.map((f) => [f.friend_id, f]));
  for (const f of friends.friends) state.presence.set(f.friend_id, f.online_status);
  state.blocked = blocked.friends;
  emit("friends");
  emit("conversations");
}

export async function loadGroups() {
  state.groups = (await get("/group/list")).groups;
  emit("groups");
}

export async function loadUnseen() {
  const [friendCount, groupCount] = await Promise.all([
    get("/notification/request/friend/unread-count"),
    get("/notification/request/group/unread-count"),
  ]);
  state.unseen.friendRequests = friendCount.count;
  state.unseen.groupApplications = groupCount.total_unread_count;
  emit("notices");
}

export const updateProfile = async (fields) => {
  await api("PUT", "/user/update/info", { body: fields });
  await loadMe();
};

// --- pushes ---------------------------------------------------------------------------------

function otherParty(senderId, receiverId) {
  return senderId === state.me.id ? receiverId : senderId;
}

const handlers = {
  message(d) {
    const chatType = d.chat_type;
    const targetId = chatType === GROUP ? d.group_id : otherParty(d.sender_id, d.receiver_id);
    const key = keyOf(chatType, targetId);
    const message = fromPush(d);
    const chat = state.chats.get(key);
    if (chat && chat.loaded) {
      addMessages(chat, [message]);
      if (chat.typing && message.from !== state.me.id) chat.typing = null;
      emit("chat", key);
      if (message.from !== state.me.id) markRead(chat);
    }
    noteLastMessage(key, message, { mine: message.from === state.me.id });
  },
  recall(d) {
    const targetId = d.chat_type === GROUP ? d.group_id : otherParty(d.sender_id, d.receiver_id);
    const key = keyOf(d.chat_type, targetId);
    const chat = state.chats.get(key);
    if (chat) applyRecall(chat, d.seq);
    const conversation = findConversation(key);
    if (conversation && conversation.last_message_id === d.message_id) {
      conversation.last_message = "[Recalled]";
      emit("conversations");
    }
  },
  read(d) {
    if (d.user_id === state.me.id) { // one of my devices read it
      const conversation = findConversation(keyOf(d.chat_type, d.target_id));
      if (conversation) { conversation.unread_count = 0; conversation.read_seq = d.read_seq; emit("conversations"); }
      return;
    }
    if (d.chat_type !== PRIVATE) return;
    const chat = chatFor(PRIVATE, d.user_id); // the reader is my peer
    chat.peerReadSeq = Math.max(chat.peerReadSeq, d.read_seq);
    emit("chat", chat.key);
  },
  typing(d) {
    const key = d.chat_type === GROUP ? keyOf(GROUP, d.target_id) : keyOf(PRIVATE, d.user_id);
    const chat = state.chats.get(key);
    if (!chat) return;
    const friend = state.friends.get(d.user_id);
    chat.typing = { name: friend ? friend.remark || friend.nickname : "Someone", until: Date.now() + 4000 };
    emit("chat", key);
    setTimeout(() => emit("chat", key), 4100);
  },
  presence(d) {
    state.presence.set(d.user_id, d.online_status);
    emit("friends");
    emit("conversations");
  },
  friend_request() {
    state.unseen.friendRequests += 1;
    emit("notices", "friend_request");
  },
  friend_request_handled(d) {
    if (d.status === 2) loadFriends().then(refreshConversationsSoon).catch(() => {});
    emit("notices", "friend_request_handled");
  },
  group_notification(d) {
    state.groupNotifications.unshift(d);
    state.unseen.groupNotifications += 1;
    if (d.type === 1) state.unseen.groupApplications += 1;
    if ([2, 4, 6, 8, 10, 11].includes(d.type)) {
      loadGroups().catch(() => {});
      refreshConversationsSoon();
    }
    emit("notices", "group_notification");
  },
};

export function handleFrame(frame) {
  const handler = handlers[frame.type];
  if (handler && frame.data) handler(frame.data);
}
