// Proofs of delivery made on the phone: a photo from the camera shrunk on a canvas until it fits
// the API's limit (512 KiB decoded), and a signature drawn with a finger on a canvas.

const SIDES = [1600, 1280, 1024, 800, 640];
const QUALITIES = [0.82, 0.7, 0.6, 0.5];

// createImageBitmap needs no URL (the Content-Security-Policy admits no blob: images); older
// browsers read the file as a data: URL, which it admits.
async function loadImage(file) {
  if (typeof createImageBitmap === "function") {
    try {
      return await createImageBitmap(file);
    } catch {
      throw new Error("not a picture");
    }
  }
  const url = await new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(reader.result);
    reader.onerror = () => reject(new Error("not a picture"));
    reader.readAsDataURL(file);
  });
  return new Promise((resolve, reject) => {
    const img = new Image();
    img.onload = () => resolve(img);
    img.onerror = () => reject(new Error("not a picture"));
    img.src = url;
  });
}

function toBlob(canvas, type, quality) {
  return new Promise((resolve) => canvas.toBlob(resolve, type, quality));
}

/** A Blob → its base64 text (without the data: prefix). */
export function base64Of(blob) {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(String(reader.result).split(",", 2)[1]);
    reader.onerror = () => reject(reader.error);
    reader.readAsDataURL(blob);
  });
}

/**
 * A picture file → a JPEG proof within ``maxBytes``: {kind, content_type, data_base64, bytes,
 * width, height}. Smaller sides and lower qualities are tried until it fits; throws
 * Error("not a picture") or Error("too big").
 */
export async function photoProof(file, maxBytes) {
  const img = await loadImage(file);
  const width = img.naturalWidth ?? img.width;
  const height = img.naturalHeight ?? img.height;
  for (const side of SIDES) {
    const scale = Math.min(1, side / Math.max(width, height));
    const canvas = document.createElement("canvas");
    canvas.width = Math.max(1, Math.round(width * scale));
    canvas.height = Math.max(1, Math.round(height * scale));
    canvas.getContext("2d").drawImage(img, 0, 0, canvas.width, canvas.height);
    for (const quality of QUALITIES) {
      const blob = await toBlob(canvas, "image/jpeg", quality);
      if (blob && blob.size <= maxBytes) {
        return {
          kind: "photo",
          content_type: "image/jpeg",
          data_base64: await base64Of(blob),
          bytes: blob.size,
          width: canvas.width,
          height: canvas.height,
        };
      }
    }
  }
  throw new Error("too big");
}

/** Make ``canvas`` a signature pad; returns {clear(), isEmpty(), proof()}. */
export function signaturePad(canvas) {
  const ctx = canvas.getContext("2d");
  let drawn = false;
  let last = null;
  const reset = () => {
    ctx.fillStyle = "#ffffff";
    ctx.fillRect(0, 0, canvas.width, canvas.height);
    ctx.lineWidth = 4;
    ctx.lineCap = "round";
    ctx.strokeStyle = "#000000";
    drawn = false;
  };
  const point = (ev) => {
    const r = canvas.getBoundingClientRect();
    return [((ev.clientX - r.left) * canvas.width) / r.width, ((ev.clientY - r.top) * canvas.height) / r.height];
  };
  canvas.addEventListener("pointerdown", (ev) => {
    canvas.setPointerCapture(ev.pointerId);
    last = point(ev);
  });
  canvas.addEventListener("pointermove", (ev) => {
    if (!last) return;
    const next = point(ev);
    ctx.beginPath();
    ctx.moveTo(...last);
    ctx.lineTo(...next);
    ctx.stroke();
    last = next;
    drawn = true;
  });
  const stop = () => {
    last = null;
  };
  canvas.addEventListener("pointerup", stop);
  canvas.addEventListener("pointercancel", stop);
  reset();
  return {
    clear: reset,
    isEmpty: () => !drawn,
    async proof() {
      const blob = await toBlob(canvas, "image/png");
      return { kind: "signature", content_type: "image/png", data_base64: await base64Of(blob) };
    },
  };
}
