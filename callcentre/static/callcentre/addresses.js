// The address directory page: upload a file with a progress bar, try a search.

import { call, config, debounce, el, fill, problemText, t, url } from "frontoffice/shared.js";

const $ = (id) => document.getElementById(id);

function csrf() {
  const meta = document.querySelector('meta[name="csrf-token"]');
  return meta ? meta.content : "";
}

function upload(ev) {
  ev.preventDefault();
  const file = $("dir-file").files[0];
  const error = $("dir-file-error");
  const result = $("dir-result");
  error.textContent = "";
  result.textContent = "";
  if (!file) {
    error.textContent = t("choose_file");
    return;
  }
  const bar = $("dir-progress");
  bar.hidden = false;
  bar.value = 0;
  const xhr = new XMLHttpRequest();
  xhr.open("POST", url("import", {}, { name: file.name }));
  xhr.setRequestHeader("X-CSRFToken", csrf());
  xhr.setRequestHeader("Accept", "application/json");
  xhr.setRequestHeader("Content-Type", "application/octet-stream");
  xhr.upload.onprogress = (e) => {
    if (!e.lengthComputable) return;
    bar.value = Math.round((e.loaded / e.total) * 100);
    result.textContent = t("uploading", { percent: bar.value });
  };
  xhr.upload.onload = () => {
    bar.removeAttribute("value");
    result.textContent = t("importing");
  };
  xhr.onerror = () => {
    bar.hidden = true;
    error.textContent = t("network_error");
  };
  xhr.onload = () => {
    bar.hidden = true;
    let data = null;
    try {
      data = JSON.parse(xhr.responseText);
    } catch {
      data = { detail: xhr.statusText };
    }
    if (xhr.status >= 200 && xhr.status < 300) {
      result.textContent = t("imported", data);
      $("dir-stats").textContent = t("stats", data);
    } else {
      error.textContent = t("failed", { detail: problemText({ data }) });
    }
  };
  xhr.send(file);
}

async function search() {
  const q = $("dir-search").value.trim();
  const list = $("dir-found");
  if (q.length < 2) {
    fill(list);
    return;
  }
  const res = await call("GET", url("suggest", {}, { q }));
  const found = res.ok ? res.data.candidates : [];
  fill(list, found.length ? found.map((c) => el("li", {}, `${c.text} — ${c.lat.toFixed(5)}, ${c.lon.toFixed(5)}`)) : [el("li", { class: "muted" }, t("no_match"))]);
}

config();
$("dir-import").addEventListener("submit", upload);
$("dir-search").addEventListener("input", debounce(search, 150));
