// The telephone in the workspace: when the operator's own phone rings (``incoming_call`` on the
// /callcentre socket, sent to this operator alone), the caller's number is looked up as if typed and
// the line the client called is shown; the dossier's ☎ button calls the client back from the
// operator's extension. Without a telephone exchange (or a socket) the workspace works by hand.

import { call, config, displayPhone, liveSocket, problemText, t, url } from "frontoffice/shared.js";
import { lookup } from "./dossier.js";
import { isDirty, state } from "./state.js";

const $ = (id) => document.getElementById(id);

/** Listen for the operator's calls; ``startOver`` clears a finished order before a new caller. */
export function initPhone(say, startOver) {
  const dialButton = $("dial-client");
  if (config().api.dial) {
    dialButton.hidden = false;
    dialButton.addEventListener("click", async () => {
      const phone = state.lookup?.phone || state.phone || $("phone").value.trim();
      if (!phone) return;
      const res = await call("POST", url("dial"), { phone });
      say(res.ok ? t("dialing", { phone: displayPhone(res.data.phone) }) : problemText(res), !res.ok);
    });
  }
  const socket = liveSocket("/callcentre", () => {});
  if (!socket) return;
  socket.on("incoming_call", (ring) => {
    const line = ring.line_name || ring.line || "";
    $("call-line").textContent = line ? t("call_on_line", { line }) : "";
    $("call-line").hidden = !line;
    if (!ring.phone) {
      say(ring.anonymous ? t("call_withheld") : t("call_not_a_number", { number: ring.display || "" }), true);
      return;
    }
    if (isDirty()) {
      say(t("call_waiting", { phone: ring.display || ring.phone }), true);
      return;
    }
    if (state.placed) startOver();
    $("phone").value = ring.phone;
    lookup();
  });
}
