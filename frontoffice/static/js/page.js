// What every page gets from data attributes instead of inline event handlers, which the
// Content-Security-Policy does not run (frontoffice/csp.py); loaded by base.html:
//   <form data-confirm="Delete this condition?">   asks before the form is sent;
//   <select data-autosubmit>                       sends its form when the choice changes.

document.addEventListener("submit", (ev) => {
  const form = ev.target;
  if (form instanceof HTMLFormElement && form.dataset.confirm && !window.confirm(form.dataset.confirm)) {
    ev.preventDefault();
  }
});

document.addEventListener("change", (ev) => {
  const field = ev.target;
  if (field instanceof HTMLSelectElement && "autosubmit" in field.dataset && field.form) field.form.requestSubmit();
});
