// The phone's position while the app is open: Geolocation API fixes kept on the phone
// (localStorage, so a lost network loses none) and sent in batches to POST /locations. Background
// tracking is Traccar Client's job (docs/courier-api.md).

import { config } from "frontoffice/shared.js";
import * as outbox from "./outbox.js";

const POSITIONS_KEY = "courierapp.positions";

let positions = [];
let fix = null;
let accepted = () => {};

/** The last position of the phone ({lat, lon}), or null before the first fix. */
export function lastFix() {
  return fix ? { lat: fix.lat, lon: fix.lon } : null;
}

function loadPositions() {
  try {
    positions = JSON.parse(localStorage.getItem(POSITIONS_KEY)) || [];
  } catch {
    positions = [];
  }
}

async function sendPositions() {
  if (!positions.length || !outbox.session()) return;
  const batch = positions.slice(0, 1000);
  const res = await outbox.api("POST", config().api.locations, { points: batch });
  if (res.status === 0 || res.status >= 500 || res.status === 401) return; // kept for the next try
  positions = positions.slice(batch.length); // stored, or refused for good (never resent)
  localStorage.setItem(POSITIONS_KEY, JSON.stringify(positions));
  if (res.ok && res.data.accepted) accepted();
}

/**
 * Watch the phone's position while the app is open and send the fixes in batches (the first at
 * once, then every 15 s); ``onAccepted()`` hears every batch the server stored.
 */
export function trackPositions(onAccepted = () => {}) {
  loadPositions();
  accepted = onAccepted;
  if (!navigator.geolocation) return;
  let first = true;
  navigator.geolocation.watchPosition(
    (pos) => {
      const c = pos.coords;
      fix = { lat: c.latitude, lon: c.longitude };
      const point = { recorded_at: new Date(pos.timestamp).toISOString(), lat: c.latitude, lon: c.longitude };
      if (Number.isFinite(c.accuracy)) point.accuracy = c.accuracy;
      if (Number.isFinite(c.speed) && c.speed >= 0) point.speed = c.speed;
      if (Number.isFinite(c.heading) && c.heading >= 0 && c.heading <= 360) point.bearing = c.heading;
      positions = [...positions, point].slice(-5000);
      localStorage.setItem(POSITIONS_KEY, JSON.stringify(positions));
      if (first) sendPositions();
      first = false;
    },
    () => {},
    { enableHighAccuracy: true, maximumAge: 10000 },
  );
  setInterval(sendPositions, 15000);
}
