// The customer's tracking page: draws the order's view from the page config, then keeps it live
// over the /track namespace (the link's token is the only key). The courier and the map show only
// while the order is on its way: the server sends no courier otherwise.

import { clock, config, el, fill, label, liveSocket, t } from "frontoffice/shared.js";
import { zoneMap } from "frontoffice/zonemap.js";

const cfg = config();
const $ = (id) => document.getElementById(id);

let current = cfg.view;
let map = null;
let courierMarker = null;
let homeMarker = null;

function minutesLeft(eta) {
  return Math.max(0, Math.round((new Date(eta.arrive_at).getTime() - Date.now()) / 60000));
}

function renderSteps(view) {
  fill(
    $("tr-steps"),
    view.steps.map((s) =>
      el("li", { class: s.state, "data-step": s.code, "aria-current": s.state === "current" ? "step" : null }, t(`step_${s.code}`)),
    ),
  );
}

function renderWhen(view) {
  const eta = view.eta;
  let text = "";
  if (view.status === "delivered") text = t("delivered");
  else if (eta) {
    const n = minutesLeft(eta);
    text = n <= 1 ? t("eta_soon") : t("eta", { n, time: clock(eta.arrive_at) });
  }
  $("tr-eta").textContent = text;
  $("tr-after").textContent = eta && eta.stops_before > 0 ? t("eta_after", { n: eta.stops_before }) : "";
  const ended = ["failed", "cancelled", "rejected"].includes(view.status);
  const promised = $("tr-promised");
  promised.classList.toggle("ended", ended);
  if (ended) promised.textContent = t("ended", { status: label("order_status", view.status) });
  else if (view.status === "delivered") promised.textContent = "";
  else promised.textContent = view.promised_at ? t("promised", { time: clock(view.promised_at) }) : t("no_promise");
}

function renderCourier(view) {
  const card = $("tr-courier-card");
  const courier = view.courier;
  const placed = courier && courier.lat !== null && courier.lon !== null;
  card.hidden = !courier;
  $("tr-map").hidden = !placed;
  if (!courier) {
    delete card.dataset.lat;
    delete card.dataset.lon;
    return;
  }
  $("tr-courier").textContent = t(placed ? "courier" : "courier_no_position", { name: courier.first_name });
  $("tr-position-at").textContent = placed && courier.position_at ? t("position_at", { time: clock(courier.position_at, { seconds: true }) }) : "";
  if (!placed) return;
  card.dataset.lat = String(courier.lat);
  card.dataset.lon = String(courier.lon);
  drawMap(view);
}

function drawMap(view) {
  const L = window.L;
  if (!L) return;
  const at = [view.courier.lat, view.courier.lon];
  if (!map) {
    map = zoneMap("tr-map", { tilesUrl: cfg.tiles_url, zoomControl: true });
    courierMarker = L.circleMarker(at, { radius: 9, color: "#fff", weight: 3, fillColor: "#0b63ce", fillOpacity: 1 }).addTo(map);
    if (view.destination) {
      const home = [view.destination.lat, view.destination.lon];
      homeMarker = L.circleMarker(home, { radius: 8, color: "#15803d", weight: 3, fillColor: "#fff", fillOpacity: 1 })
        .bindTooltip(el("span", {}, t("you")))
        .addTo(map);
      map.fitBounds(L.latLngBounds([at, home]).pad(0.3), { maxZoom: 16 });
    } else {
      map.setView(at, 15);
    }
  } else {
    courierMarker.setLatLng(at);
    const bounds = homeMarker ? L.latLngBounds([at, homeMarker.getLatLng()]) : L.latLngBounds([at, at]);
    if (!map.getBounds().contains(bounds)) map.fitBounds(bounds.pad(0.3), { maxZoom: 16 });
  }
  // The map was hidden until now: Leaflet measures its box again.
  map.invalidateSize();
}

function render(view) {
  current = view;
  $("tr-status").textContent = label("order_status", view.status);
  renderSteps(view);
  renderWhen(view);
  renderCourier(view);
}

function connectionState(up, why) {
  const live = $("tr-live");
  live.textContent = up ? t("live") : t("offline");
  live.classList.toggle("on", up);
  const notice = $("tr-notice");
  notice.hidden = why !== "expired";
  if (why === "expired") {
    notice.textContent = t("expired");
    live.textContent = "";
  }
}

render(current);
const socket = liveSocket(cfg.namespace, connectionState, { auth: { token: cfg.token }, retryAfterMs: 5000 });
if (socket) socket.on("tracking_updated", render);
// The minutes left count down between the server's updates.
setInterval(() => renderWhen(current), 30000);
