// A tiny DOM builder and formatting helpers shared by the views.

import { fileUrl, ownFileId } from "./api.js";

/** h("button", {class: "x", onclick, dataset: {testid: "send"}}, "Send") */
export function h(tag, props = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(props || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "dataset") Object.assign(el.dataset, value);
    else if (key === "testid") el.dataset.testid = value;
    else if (key.startsWith("on")) el.addEventListener(key.slice(2), value);
    else if (key === "class") el.className = value;
    else if (key in el && typeof value !== "string") el[key] = value;
    else el.setAttribute(key, value === true ? "" : value);
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : String(child));
  }
}

export function replace(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

export function formatTime(ms) {
  if (!ms) return "";
  const date = new Date(ms);
  const now = new Date();
  const sameDay = date.toDateString() === now.toDateString();
  return sameDay
    ? date.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" })
    : date.toLocaleDateString([], { month: "short", day: "numeric" });
}

export function formatSize(bytes) {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

/** An avatar: the image when it loads, else the initial of the name on a coloured disc. */
export function avatar(url, name, online = null) {
  const initial = (name || "?").trim().charAt(0).toUpperCase() || "?";
  const hue = [...(name || "?")].reduce((sum, ch) => sum + ch.charCodeAt(0), 0) % 360;
  const el = h("span", { class: "avatar", style: `--hue:${hue}` }, initial);
  const show = (src) => {
    const img = h("img", { alt: "", src });
    img.addEventListener("load", () => el.replaceChildren(img));
  };
  const fileId = ownFileId(url);
  if (fileId) fileUrl(fileId).then(show, () => {});
  else if (url && /^https?:\/\//.test(url)) show(url);
  if (online !== null) {
    el.append(h("i", { class: `dot ${online ? "on" : "off"}`, testid: "presence", dataset: { online: online ? "1" : "0" } }));
  }
  return el;
}

let toastTimer = null;

export function toast(text, kind = "info") {
  const el = document.querySelector("#toast") || document.body.appendChild(h("div", { id: "toast", testid: "toast", role: "status" }));
  el.textContent = text;
  el.className = `toast ${kind} show`;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => el.classList.remove("show"), 4000);
}

export function errorText(error) {
  return error && error.message ? error.message : String(error);
}
