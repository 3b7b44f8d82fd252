// corridor: behaviour shared by every page. Kept tiny: pages must load on a 2G link.
"use strict";
(function () {
  if (window.htmx) {
    // The Content-Security-Policy refuses inline styles and eval: htmx's own indicator rules are
    // in app.css, and no attribute may carry script (hx-on, "js:" values). Script elements in
    // swapped fragments stay (JSON data blocks are read from them); the policy refuses any
    // inline script among them.
    htmx.config.includeIndicatorStyles = false;
    htmx.config.allowEval = false;
    // Show a refusal's explanation (4xx fragments) in place, as for a success.
    htmx.config.responseHandling = [
      { code: "204", swap: false },
      { code: "[23]..", swap: true },
      { code: "4..", swap: true, error: false },
      { code: "...", swap: false, error: true },
    ];
  }
})();

// Forms whose refusals come back as messages next to their fields (".field-error" elements whose
// id is the field's id + "-error"): clear them before sending, mark and focus the fields after.
window.corridorForms = {
  clear(form) {
    form.querySelectorAll(".field-error").forEach((e) => { e.textContent = ""; });
    form.querySelectorAll("[aria-invalid]").forEach((e) => e.removeAttribute("aria-invalid"));
  },
  mark(form) {
    let first = null;
    form.querySelectorAll(".field-error").forEach((e) => {
      if (!e.textContent.trim()) return;
      const field = document.getElementById(e.id.replace(/-error$/, ""));
      const fieldset = e.closest("fieldset");
      const target = field && field.matches("input, select, textarea") ? field
        : fieldset && fieldset.querySelector("input");
      if (!target) return;
      target.setAttribute("aria-invalid", "true");
      if (!first) first = target;
    });
    if (first) first.focus();
  },
};
