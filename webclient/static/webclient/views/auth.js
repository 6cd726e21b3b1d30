// Log in, or create an account (then log in with it).

import { api, login } from "../api.js";
import { h, replace } from "../dom.js";

export function renderAuth(root, onLoggedIn) {
  let mode = "login";
  const error = h("p", { class: "error", testid: "auth-error", role: "alert" });
  const field = (name, label, type = "text", extra = {}) =>
    h("label", {}, label, h("input", { name, type, testid: `auth-${name}`, autocomplete: "off", ...extra }));

  const draw = () => {
    const registering = mode === "register";
    const form = h("form", { class: "auth-form", testid: `${mode}-form`, onsubmit: submit },
      h("h1", {}, registering ? "Create an account" : "Sign in"),
      field("username", "Username", "text", { required: true, minLength: 3, maxLength: 20 }),
      field("password", "Password", "password", { required: true, minLength: 6, maxLength: 50 }),
      registering ? field("email", "Email", "email", { required: true }) : null,
      registering ? field("nickname", "Nickname (optional)") : null,
      error,
      h("button", { type: "submit", class: "primary", testid: "auth-submit" }, registering ? "Create account" : "Sign in"),
      h("button", {
        type: "button", class: "link", testid: "auth-switch",
        onclick: () => { mode = registering ? "login" : "register"; error.textContent = ""; draw(); },
      }, registering ? "I already have an account" : "Create an account"));
    replace(root, h("div", { class: "auth", testid: "auth" },
      h("div", { class: "brand" }, h("span", { class: "logo" }, "im"), "imserver"), form));
    form.querySelector("input").focus();
  };

  async function submit(event) {
    event.preventDefault();
    const values = Object.fromEntries(new FormData(event.target));
    const button = event.target.querySelector("[type=submit]");
    button.disabled = true;
    error.textContent = "";
    try {
      if (mode === "register") {
        const body = { username: values.username, password: values.password, email: values.email };
        if (values.nickname) body.nickname = values.nickname;
        await api("POST", "/register", { body, auth: false });
      }
      await login(values.username, values.password);
      await onLoggedIn();
    } catch (e) {
      error.textContent = e.message;
      button.disabled = false;
    }
  }

  draw();
}
