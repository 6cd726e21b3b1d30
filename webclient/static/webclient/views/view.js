// A sidebar tab: mount() builds it (forms keep their focus and text), update() redraws the parts
// that follow the listed store events, only while the tab is the one shown.

import { on } from "../store.js";

export function defineView(id, events, { mount, update = () => {} }) {
  let panel = null;
  let parts = null;
  for (const event of events) {
    on(event, () => {
      if (panel && panel.dataset.view === id) update(parts);
    });
  }
  return (target, context) => {
    panel = target;
    panel.dataset.view = id;
    parts = mount(panel, context) || {};
    update(parts);
  };
}
