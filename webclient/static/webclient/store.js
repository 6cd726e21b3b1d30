// Client state and the actions that change it. Views subscribe with on(event, fn) and re-render;
// nothing here touches the DOM.
//
// Events: "me", "conversations", "friends", "groups", "notices", "chat" (detail: key),
// "open" (the open conversation changed), "connection", "badges" (the unread totals),
// "members" (detail: group id), "reveal" (detail: {key, seq, flash}: the open conversation should
// scroll to that message), "search" (state.search changed).

import { api, get, post, upload } from "./api.js";

export const PRIVATE = 0;
export const GROUP = 1;
export const TYPE = { text: 0, image: 1, file: 2, audio: 3, video: 4 };
const TYPE_BY_NAME = TYPE;
export const RECALLED = 2;
export const RECALL_WINDOW_MS = 120_000; // IM_RECALL_WINDOW_S default; the server has the last word
export const EDIT_WINDOW_MS = 900_000; // IM_EDIT_WINDOW_S default; the server has the last word
export const ROLE = { member: 0, admin: 1, owner: 2 };
const QUOTE_TEXT_LENGTH = 200; // code points of a quoted text (the server cuts quotes the same way)
const PAGE = 20;
const NEAR_PAGES = 3; // a message at most this many pages older than those loaded is reached by paging back

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
  badge: { unread_count: 0, muted_unread_count: 0, mention_count: 0 }, // GET /chat/unread-count
  members: new Map(), // group id -> 5.x members (GET /group/members), loaded when first needed
  readers: new Map(), // message id -> {read_user_ids, unread_user_ids, read_count, unread_count}
  groupNotifications: [],
  search: {
    keyword: "", // what the shown results were searched for
    scopeKey: null, // one conversation's key, or null: all of them
    results: [], // message objects with `conversation` (CONTRACT 11), newest first
    hasMore: false, loading: false, active: false, error: null,
  },
};

const bus = new EventTarget();
export const on = (event, fn) => bus.addEventListener(event, (e) => fn(e.detail));
export const emit = (event, detail) => bus.dispatchEvent(new CustomEvent(event, { detail }));

export const keyOf = (chatType, targetId) => `${chatType}:${targetId}`;

// --- socket wiring (set by app.js) ----------------------------------------------------------
let socket = null;
export function useSocket(s) { socket = s; }

// --- messages -------------------------------------------------------------------------------

// The fields of CONTRACT 10, alike in message objects and `message` pushes.
function features(m) {
  return {
    replyTo: m.reply_to || null, // {message_id, seq, sender_id, type, content, status}
    mentions: m.mentions || [], mentionAll: Boolean(m.mention_all),
    reactions: m.reactions || [], // [{emoji, count, user_ids}]
    editedAt: m.edited_at || null, forwarded: Boolean(m.forwarded),
  };
}

function fromHistory(m) {
  return {
    id: m.id, seq: m.seq, from: m.from_user_id, type: m.type, content: m.content,
    status: m.status, time: m.create_at * 1000, file: m.file, fromNickname: m.from_nickname,
    ...features(m),
  };
}

function fromPush(d) {
  return {
    id: d.message_id, seq: d.seq, from: d.sender_id, type: TYPE_BY_NAME[d.message_type] ?? 0,
    content: d.content, status: d.status, time: Date.parse(d.timestamp), file: d.file,
    fromNickname: d.from_nickname, ...features(d),
  };
}

/** Whether a message from someone else mentions me, by name or as everyone. */
export function mentionsMe(message) {
  return message.from !== state.me.id && (message.mentionAll || message.mentions.includes(state.me.id));
}

function chatFor(chatType, targetId) {
  const key = keyOf(chatType, targetId);
  if (!state.chats.has(key)) {
    state.chats.set(key, {
      key, chatType, targetId,
      messages: new Map(), // seq -> message: one unbroken run of the conversation's history
      loaded: false, hasOlder: false, loadingOlder: false,
      // A run opened at an older message (a search result, a far quote) may end before the latest
      // message: then hasNewer, and pushed messages wait until scrolling down reaches them.
      hasNewer: false, loadingNewer: false, missed: false,
      epoch: 0, // counts replaced runs: a page asked for an earlier run is dropped
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

/** Replace what is loaded of a conversation with these history pages (one unbroken run). */
function replaceRun(chat, pages, { hasOlder, hasNewer }) {
  chat.messages = new Map();
  for (const page of pages) addMessages(chat, page.messages.map(fromHistory));
  Object.assign(chat, { hasOlder, hasNewer, loaded: true, missed: false });
  emit("chat", chat.key);
}

/** The newest page, in place of whatever was loaded. */
async function loadLatest(chat) {
  const epoch = ++chat.epoch;
  const page = await get("/chat/history", historyQuery(chat));
  if (epoch === chat.epoch) replaceRun(chat, [page], { hasOlder: page.hasMore, hasNewer: false });
}

/** A page on either side of `seq` (the message itself among the older), in place of what was loaded. */
async function loadAround(chat, seq) {
  const epoch = ++chat.epoch;
  const [older, newer] = await Promise.all([
    get("/chat/history", historyQuery(chat, { before_seq: seq + 1 })),
    get("/chat/history", historyQuery(chat, { after_seq: seq })),
  ]);
  if (epoch === chat.epoch) replaceRun(chat, [older, newer], { hasOlder: older.hasMore, hasNewer: newer.hasMore });
}

export async function openChat(chatType, targetId) {
  const chat = chatFor(chatType, Number(targetId));
  state.openKey = chat.key;
  emit("open", chat.key);
  if (!chat.loaded || chat.hasNewer) await loadLatest(chat); // a conversation opens at its end
  markRead(chat);
  return chat;
}

/**
 * Make sure message `seq` is loaded if I can see it: a message a few pages older than those
 * loaded is reached by paging back (the run stays joined to the latest message); a farther one,
 * or one in a conversation not loaded yet, gets a run of its own around it.
 */
export async function loadMessage(chat, seq) {
  if (chat.messages.has(seq)) return;
  if (chat.loaded && chat.messages.size) {
    const low = minSeq(chat);
    if (seq > low && (seq < maxSeq(chat) || !chat.hasNewer)) return; // in the run: not mine to see
    if (seq < low && (!chat.hasOlder || low - seq <= NEAR_PAGES * PAGE)) {
      while (!chat.messages.has(seq) && chat.hasOlder && seq < minSeq(chat)) {
        if (!(await loadOlder(chat))) break;
      }
      return;
    }
  } else if (!chat.loaded) {
    const conversation = findConversation(chat.key);
    if (conversation && seq > (conversation.last_seq || 0) - PAGE) return loadLatest(chat);
  }
  await loadAround(chat, seq);
}

/** Open a conversation at one of its messages (a search result): the view scrolls to it and flashes it. */
export async function openChatAt(chatType, targetId, seq) {
  const chat = chatFor(chatType, Number(targetId));
  state.openKey = chat.key;
  emit("open", chat.key);
  await loadMessage(chat, seq);
  markRead(chat);
  emit("reveal", { key: chat.key, seq, flash: true });
  return chat;
}

export function closeChat() {
  state.openKey = null;
  emit("open", null);
}

export async function loadOlder(chat) {
  if (!chat.hasOlder || chat.loadingOlder || chat.messages.size === 0) return 0;
  chat.loadingOlder = true;
  const epoch = chat.epoch;
  try {
    const page = await get("/chat/history", historyQuery(chat, { before_seq: minSeq(chat) }));
    if (epoch !== chat.epoch) return 0; // the run was replaced meanwhile
    addMessages(chat, page.messages.map(fromHistory));
    chat.hasOlder = page.hasMore;
    emit("chat", chat.key);
    return page.messages.length;
  } finally {
    chat.loadingOlder = false;
  }
}

/** The page after the loaded run (scrolling down a run that ends before the latest message). */
export async function loadNewer(chat) {
  if (!chat.hasNewer || chat.loadingNewer || chat.messages.size === 0) return 0;
  chat.loadingNewer = true;
  const epoch = chat.epoch;
  let added = 0;
  try {
    for (;;) {
      chat.missed = false;
      const page = await get("/chat/history", historyQuery(chat, { after_seq: maxSeq(chat) }));
      if (epoch !== chat.epoch) return 0;
      addMessages(chat, page.messages.map(fromHistory));
      added += page.messages.length;
      chat.hasNewer = page.hasMore;
      // The end is reached: a message pushed while the page was asked for may not be in it.
      if (chat.hasNewer || !chat.missed || page.messages.length === 0) break;
    }
    emit("chat", chat.key);
    return added;
  } finally {
    chat.loadingNewer = false;
  }
}

/** Fill the gap after a reconnect: every loaded conversation asks for what follows its last seq
 * (a run that ends before the latest message gets the rest when scrolled down). */
export async function catchUp() {
  for (const chat of state.chats.values()) {
    if (!chat.loaded || chat.hasNewer) continue;
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

/** Send; `replyTo` is a quoted message id, `mentions` user ids and `mentionAll` (groups only). */
export async function sendMessage(chat, type, content, { replyTo = null, mentions = [], mentionAll = false } = {}) {
  const target = chat.chatType === GROUP ? { group_id: chat.targetId } : { to_user_id: chat.targetId };
  const body = { ...target, chat_type: chat.chatType, type, content, client_msg_id: newClientMsgId() };
  if (replyTo) body.reply_to = replyTo;
  if (chat.chatType === GROUP && mentions.length) body.mentions = mentions;
  if (chat.chatType === GROUP && mentionAll) body.mention_all = true;
  const message = fromHistory(await post("/chat/send", body));
  if (chat.hasNewer) { // the run ends earlier: show the end of the conversation, where it is
    await loadLatest(chat);
    addMessages(chat, [message]);
    emit("chat", chat.key);
    emit("reveal", { key: chat.key, seq: message.seq, flash: false });
  } else {
    addMessages(chat, [message]);
    emit("chat", chat.key);
  }
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
    message.reactions = [];
    updateQuotes(chat, message.id, { status: RECALLED, content: "" });
  }
  emit("chat", chat.key);
}

/** Replies quote a message as it is now: its edits and its recall reach their quotes. */
function updateQuotes(chat, messageId, change) {
  for (const m of chat.messages.values()) {
    if (m.replyTo && m.replyTo.message_id === messageId) m.replyTo = { ...m.replyTo, ...change };
  }
}

// --- replies, reactions, edits, forwarding, readers ------------------------------------------

/** React (add) or take my reaction back; the answer is the message's whole `reactions`. */
export async function react(chat, message, emoji, add) {
  const path = add ? "/chat/message/react" : "/chat/message/unreact";
  const reactions = await post(path, { message_id: message.id, emoji });
  const current = chat.messages.get(message.seq);
  if (current) current.reactions = reactions;
  emit("chat", chat.key);
}

function applyReaction(message, { user_id: userId, emoji, action, count }) {
  const reactions = message.reactions.map((r) => ({ ...r, user_ids: [...r.user_ids] }));
  let entry = reactions.find((r) => r.emoji === emoji);
  if (!entry && count > 0) reactions.push(entry = { emoji, count, user_ids: [] });
  if (!entry) return;
  entry.count = count;
  const at = entry.user_ids.indexOf(userId);
  if (action === "add" && at < 0 && entry.user_ids.length < 20) entry.user_ids.push(userId);
  if (action === "remove" && at >= 0) entry.user_ids.splice(at, 1);
  message.reactions = reactions.filter((r) => r.count > 0);
}

export async function editMessage(chat, message, content) {
  const edited = fromHistory(await post("/chat/message/edit", { message_id: message.id, content }));
  applyEdit(chat, edited.seq, edited.id, edited.content, edited.editedAt);
}

function applyEdit(chat, seq, messageId, content, editedAt) {
  const message = chat.messages.get(seq);
  if (message) {
    message.content = content;
    message.editedAt = editedAt;
  }
  updateQuotes(chat, messageId, { content: [...content].slice(0, QUOTE_TEXT_LENGTH).join("") });
  emit("chat", chat.key);
}

/** Forward a message into another conversation (a new message of mine there). */
export async function forwardMessage(message, chatType, targetId) {
  const body = { message_id: message.id, chat_type: chatType, target_id: Number(targetId), client_msg_id: newClientMsgId() };
  const forwarded = fromHistory(await post("/chat/message/forward", body));
  const key = keyOf(chatType, Number(targetId));
  const chat = state.chats.get(key);
  if (chat && chat.loaded && !chat.hasNewer) {
    addMessages(chat, [forwarded]);
    emit("chat", key);
  }
  noteLastMessage(key, forwarded, { mine: true });
  return forwarded;
}

/** Who has read one of my group messages (kept in state.readers for the "read by N" link). */
export async function loadReaders(chat, message) {
  const readers = await get("/chat/message/readers", { message_id: message.id });
  state.readers.set(message.id, readers);
  emit("chat", chat.key);
  return readers;
}

const pendingMembers = new Map(); // group id -> the request for its members

/** A group's members (also kept in state.members), fetched once until membership may have changed. */
export function groupMembers(groupId, { fresh = false } = {}) {
  if (!fresh && state.members.has(groupId)) return Promise.resolve(state.members.get(groupId));
  if (!pendingMembers.has(groupId)) {
    const pending = get("/group/members", { group_id: groupId }).then((data) => {
      state.members.set(groupId, data.members);
      emit("members", groupId);
      return data.members;
    }).finally(() => pendingMembers.delete(groupId));
    pendingMembers.set(groupId, pending);
  }
  return pendingMembers.get(groupId);
}

/** My role in a group (ROLE), or -1 while its members are not known. */
export function myRole(groupId) {
  const me = (state.members.get(groupId) || []).find((m) => m.user_id === state.me.id);
  return me ? me.role : -1;
}

/** How a person is named in a conversation: "You", the peer's name, or the group nickname. */
export function personName(chat, userId) {
  if (userId === state.me.id) return "You";
  if (chat.chatType === PRIVATE) return conversationTitle(PRIVATE, chat.targetId);
  const member = (state.members.get(chat.targetId) || []).find((m) => m.user_id === userId);
  if (member) return member.nickname;
  const message = [...chat.messages.values()].find((m) => m.from === userId && m.fromNickname);
  return message ? message.fromNickname : `User ${userId}`;
}

let readTimers = new Map();

/** Tell the server (and the peer: read receipt) that I have seen this conversation. */
export function markRead(chat) {
  if (chat.key !== state.openKey || document.visibilityState !== "visible") return;
  clearTimeout(readTimers.get(chat.key));
  readTimers.set(chat.key, setTimeout(() => {
    const data = { target_id: chat.targetId, chat_type: chat.chatType };
    if (!(socket && socket.send("read", data))) {
      post("/chat/read", data).then(refreshBadgeSoon, () => {});
    }
    const conversation = findConversation(chat.key);
    if (conversation && (conversation.unread_count || conversation.mention_count)) clearUnread(conversation);
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

let listAsked = 0; // as for the badge: an older answer never overwrites a newer one
let listShown = 0;

export async function loadConversations() {
  const asked = ++listAsked;
  const [conversations] = await Promise.all([get("/chat/conversation/list"), loadBadge().catch(() => {})]);
  if (asked < listShown) return;
  listShown = asked;
  state.conversations = conversations;
  sortConversations();
  emit("conversations");
}

// --- unread totals ----------------------------------------------------------------------------
// The server's totals (GET /chat/unread-count), moved along locally by pushes and reads and asked
// for again shortly after each, so a count the client cannot work out (a conversation it has not
// listed yet, a read on another device) is right a moment later.

let badgeAsked = 0; // answers can come out of order: an older one never overwrites a newer one
let badgeShown = 0;

export async function loadBadge() {
  const asked = ++badgeAsked;
  const badge = await get("/chat/unread-count");
  if (asked < badgeShown) return;
  badgeShown = asked;
  state.badge = badge;
  emit("badges");
  document.title = state.badge.unread_count ? `(${state.badge.unread_count}) imserver chat` : "imserver chat";
}

let badgeRefresh = null;
function refreshBadgeSoon() {
  clearTimeout(badgeRefresh);
  badgeRefresh = setTimeout(() => loadBadge().catch(() => {}), 300);
}

function countUnread(conversation, message) {
  const part = conversation.is_muted ? "muted_unread_count" : "unread_count";
  conversation.unread_count = (conversation.unread_count || 0) + 1;
  state.badge[part] += 1;
  if (mentionsMe(message)) {
    conversation.mention_count = (conversation.mention_count || 0) + 1;
    state.badge.mention_count += 1;
  }
  emit("badges");
  refreshBadgeSoon();
}

function clearUnread(conversation) {
  const part = conversation.is_muted ? "muted_unread_count" : "unread_count";
  state.badge[part] = Math.max(0, state.badge[part] - (conversation.unread_count || 0));
  state.badge.mention_count = Math.max(0, state.badge.mention_count - (conversation.mention_count || 0));
  conversation.unread_count = 0;
  conversation.mention_count = 0;
  emit("conversations");
  emit("badges");
}

/** Mute or unmute a conversation: its unread messages move to the badge's muted part. */
export async function setMuted(conversation, muted) {
  await post("/chat/conversation/mute", { target_id: conversation.target_id, chat_type: conversation.type, is_muted: muted });
  await loadConversations();
}

let listRefresh = null;
function refreshConversationsSoon() {
  clearTimeout(listRefresh);
  listRefresh = setTimeout(() => loadConversations().catch(() => {}), 200);
}

function noteLastMessage(key, message, { mine }) {
  const conversation = findConversation(key);
  if (!conversation) return refreshConversationsSoon(); // the list refresh brings the badge too
  if (message.seq < (conversation.last_seq || 0)) return;
  conversation.last_seq = message.seq;
  conversation.last_message_id = message.id;
  conversation.last_message = previewOf(message);
  conversation.last_message_time = Math.floor(message.time / 1000);
  const viewing = key === state.openKey && document.visibilityState === "visible";
  if (!mine && !viewing) countUnread(conversation, message);
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

// --- message search (CONTRACT 11) ---------------------------------------------------------------

let searchAsked = 0; // a newer search (or its end) makes the answers to older ones stale

function searchQuery(keyword, scopeKey, extra) {
  const query = { keyword, limit: PAGE, ...extra };
  if (scopeKey) {
    const [chatType, targetId] = scopeKey.split(":");
    Object.assign(query, { chat_type: chatType, target_id: targetId });
  }
  return query;
}

async function runSearch(extra, keep) {
  const search = state.search;
  const asked = ++searchAsked;
  Object.assign(search, { loading: true, error: null, active: true });
  if (!keep) Object.assign(search, { results: [], hasMore: false });
  emit("search");
  try {
    const page = await get("/chat/search", searchQuery(search.keyword, search.scopeKey, extra));
    if (asked !== searchAsked) return;
    Object.assign(search, { results: [...search.results, ...page.messages], hasMore: page.hasMore });
  } catch (error) {
    if (asked !== searchAsked) return;
    search.error = error.message;
    throw error;
  } finally {
    if (asked === searchAsked) {
      search.loading = false;
      emit("search");
    }
  }
}

/** Search my messages for `keyword` (in state.search.scopeKey's conversation, or in all). */
export function searchMessages(keyword) {
  state.search.keyword = keyword.trim();
  if (!state.search.keyword) return endSearch();
  return runSearch({}, false);
}

/** The next (older) page of the shown results. */
export function searchMore() {
  const { results, hasMore, loading } = state.search;
  if (!hasMore || loading || !results.length) return Promise.resolve();
  return runSearch({ before_id: results[results.length - 1].id }, true);
}

/** Search one conversation (a key) or all (null); the shown search is asked again. */
export function setSearchScope(scopeKey) {
  state.search.scopeKey = scopeKey;
  if (state.search.active && state.search.keyword) return runSearch({}, false);
  emit("search");
  return Promise.resolve();
}

export function endSearch() {
  searchAsked += 1;
  Object.assign(state.search, { keyword: "", results: [], hasMore: false, loading: false, active: false, error: null });
  emit("search");
  return Promise.resolve();
}

// --- pushes ---------------------------------------------------------------------------------

function otherParty(senderId, receiverId) {
  return senderId === state.me.id ? receiverId : senderId;
}

/** The conversation a message-related push ({chat_type, sender_id, receiver_id, group_id}) is about. */
function pushKey(d) {
  return keyOf(d.chat_type, d.chat_type === GROUP ? d.group_id : otherParty(d.sender_id, d.receiver_id));
}

const handlers = {
  message(d) {
    const chatType = d.chat_type;
    const targetId = chatType === GROUP ? d.group_id : otherParty(d.sender_id, d.receiver_id);
    const key = keyOf(chatType, targetId);
    const message = fromPush(d);
    const chat = state.chats.get(key);
    if (chat && chat.loaded && chat.hasNewer) {
      chat.missed = true; // not joined to the run: loaded when scrolling down reaches it
      if (message.from !== state.me.id) markRead(chat);
    } else if (chat && chat.loaded) {
      addMessages(chat, [message]);
      if (chat.typing && message.from !== state.me.id) chat.typing = null;
      emit("chat", key);
      if (message.from !== state.me.id) markRead(chat);
    }
    noteLastMessage(key, message, { mine: message.from === state.me.id });
  },
  recall(d) {
    const key = pushKey(d);
    const chat = state.chats.get(key);
    if (chat) applyRecall(chat, d.seq);
    const conversation = findConversation(key);
    if (conversation && conversation.last_message_id === d.message_id) {
      conversation.last_message = "[Recalled]";
      emit("conversations");
    }
    refreshBadgeSoon(); // a recalled mention no longer counts
  },
  reaction(d) {
    const chat = state.chats.get(pushKey(d));
    const message = chat && chat.messages.get(d.seq);
    if (!message || message.id !== d.message_id) return;
    applyReaction(message, d);
    emit("chat", chat.key);
  },
  edit(d) {
    const key = pushKey(d);
    const chat = state.chats.get(key);
    if (chat) applyEdit(chat, d.seq, d.message_id, d.content, d.edited_at);
    const conversation = findConversation(key);
    if (conversation && conversation.last_message_id === d.message_id) {
      conversation.last_message = d.content;
      emit("conversations");
    }
  },
  read(d) {
    if (d.user_id === state.me.id) { // one of my devices read it
      const conversation = findConversation(keyOf(d.chat_type, d.target_id));
      if (conversation) { conversation.read_seq = d.read_seq; clearUnread(conversation); }
      refreshBadgeSoon();
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
    state.members.clear(); // members or roles may have changed: fetched again when next needed
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
