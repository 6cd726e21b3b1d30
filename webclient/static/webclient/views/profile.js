// My profile: nickname, email, avatar (uploaded through /file/upload), password.

import { api, upload } from "../api.js";
import { avatar, h, replace, toast } from "../dom.js";
import { state, updateProfile } from "../store.js";
import { defineView } from "./view.js";

export const renderProfile = defineView("me", ["me"], {
  mount(panel) {
    const picture = h("div", { class: "profile-avatar", testid: "profile-avatar" });
    const username = h("div", { class: "sub" });
    const nickname = h("input", { name: "nickname", maxLength: 50, testid: "profile-nickname" });
    const email = h("input", { name: "email", type: "email", testid: "profile-email" });
    const file = h("input", {
      type: "file", accept: "image/*", hidden: true, testid: "profile-avatar-file",
      onchange: async () => {
        const chosen = file.files[0];
        file.value = "";
        if (!chosen) return;
        try {
          const info = await upload(chosen);
          if (info.file_type !== "image") throw new Error("Please choose an image");
          await updateProfile({ avatar: `${location.origin}/file/download?file_id=${info.file_id}` });
          toast("Avatar updated");
        } catch (error) {
          toast(error.message, "error");
        }
      },
    });
    const save = async (event) => {
      event.preventDefault();
      try {
        await updateProfile({ nickname: nickname.value.trim(), email: email.value.trim() });
        toast("Profile saved");
      } catch (error) {
        toast(error.message, "error");
      }
    };
    const oldPassword = h("input", { type: "password", placeholder: "Current password", required: true });
    const newPassword = h("input", { type: "password", placeholder: "New password (6-50)", required: true, minLength: 6 });
    const changePassword = async (event) => {
      event.preventDefault();
      try {
        await api("PUT", "/user/update/password", { body: { old_password: oldPassword.value, new_password: newPassword.value } });
        toast("Password changed: please sign in again");
        setTimeout(() => document.querySelector("[data-testid=logout]").click(), 1500);
      } catch (error) {
        toast(error.message, "error");
      }
    };
    replace(panel,
      h("div", { class: "profile-head" }, picture, h("div", {}, username,
        h("button", { class: "secondary", testid: "profile-avatar-change", onclick: () => file.click() }, "Change avatar"), file)),
      h("form", { class: "stack", onsubmit: save },
        h("label", {}, "Nickname", nickname),
        h("label", {}, "Email", email),
        h("button", { class: "primary", testid: "profile-save" }, "Save")),
      h("h3", {}, "Password"),
      h("form", { class: "stack", onsubmit: changePassword }, oldPassword, newPassword,
        h("button", { class: "secondary" }, "Change password")));
    return { picture, username, nickname, email };
  },
  update({ picture, username, nickname, email }) {
    const me = state.me;
    replace(picture, avatar(me.avatar, me.nickname || me.username));
    username.textContent = `@${me.username} · id ${me.id}`;
    nickname.value = me.nickname || "";
    email.value = me.email || "";
  },
});
