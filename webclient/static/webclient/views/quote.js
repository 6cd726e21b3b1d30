// A quoted message as replies show it: who wrote it and a one-line preview of what it says now.

import { h } from "../dom.js";
import { RECALLED, personName } from "../store.js";

const FILE_PREVIEWS = ["", "[Image]", "[File]", "[Audio]", "[Video]"];

/** The preview of a quote ({type, status, content}); a file quote's content is a file id. */
export function quoteText(quote) {
  if (quote.status === RECALLED) return "[Recalled]";
  return FILE_PREVIEWS[quote.type] || quote.content;
}

/** The quote above a reply's text; a click shows the quoted message. */
export function quoteNode(chat, quote, onShow) {
  return h("button", {
    type: "button", class: "quote", testid: "message-quote", title: "Show the quoted message",
    dataset: { quoteSeq: quote.seq, quoteId: quote.message_id },
    onclick: (e) => { e.stopPropagation(); onShow(quote.seq); },
  },
  h("b", {}, personName(chat, quote.sender_id)),
  h("span", { class: "quote-text" }, quoteText(quote)));
}
