// Training mode (a trainee's workspace only): each call is measured — from the first key to the
// order placed or the next call — with its keystrokes and the refusals the quote and the placement
// gave, and sent to the training API; a scripted call waiting for the trainee is shown as its brief.

import { call, config, el, fill, t, url } from "frontoffice/shared.js";
import { on } from "./state.js";

const $ = (id) => document.getElementById(id);
let session = null; // {startedAt, started, keys, refusals}
let assignment = null; // the scripted call being played, if any

function begin() {
  if (!session) session = { startedAt: new Date().toISOString(), started: performance.now(), keys: 0, refusals: [] };
  return session;
}

function noteRefusals(errors) {
  if (!errors?.length) return;
  const s = begin();
  for (const e of errors) s.refusals.push({ type: String(e.type || e.code || ""), field: String(e.field || ""), message: String(e.message || "") });
}

async function finish(order) {
  const s = session;
  session = null;
  if (!s || (!order && !s.keys)) return;
  const body = {
    started_at: s.startedAt,
    duration_s: Math.round((performance.now() - s.started) / 100) / 10,
    keystrokes: s.keys,
    refusals: s.refusals.slice(0, 500),
    order_id: order?.id ?? null,
    assignment_id: assignment?.id ?? null,
  };
  const res = await call("POST", url("training_calls"), body);
  if (res.ok && assignment) {
    const differences = res.data.differences || [];
    fill($("training-result"), differences.length ? t("training_differences", { n: differences.length }) : t("training_matches"));
  }
  await loadAssignment();
}

async function loadAssignment() {
  const res = await call("GET", url("training_assignment"));
  assignment = res.ok ? res.data.assignment : null;
  const box = $("training-brief");
  if (!assignment) {
    box.hidden = true;
    return;
  }
  fill(
    box,
    el("strong", {}, t("training_scenario", { title: assignment.title })),
    " ",
    el("span", {}, `${assignment.caller_name} ${assignment.caller_phone}`.trim()),
    el("p", { class: "small" }, assignment.request_text),
  );
  box.hidden = false;
}

/** Measure the trainee's calls; nothing at all for an operator who is not a trainee. */
export function initTraining() {
  if (!config().training) return;
  document.addEventListener("keydown", () => {
    begin().keys += 1;
  }, true);
  on("quote", (detail) => noteRefusals(detail?.errors));
  on("refused", (errors) => noteRefusals(errors));
  on("placed", (order) => finish(order));
  on("next_call", () => finish(null));
  loadAssignment();
}
