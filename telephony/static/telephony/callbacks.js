// The call-back list: the digit of a row (1–9) calls that client back, as its button does.

document.addEventListener("keydown", (ev) => {
  if (ev.ctrlKey || ev.altKey || ev.metaKey) return;
  if (/^(INPUT|TEXTAREA|SELECT)$/.test(ev.target.tagName)) return;
  if (!/^[1-9]$/.test(ev.key)) return;
  const form = document.querySelector(`form[data-dial-key="${ev.key}"]`);
  if (!form) return;
  ev.preventDefault();
  form.requestSubmit();
});
