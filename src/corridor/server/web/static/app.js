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
