// corridor: behaviour shared by every page. Kept tiny: pages must load on a 2G link.
"use strict";
(function () {
  if (window.htmx) {
    // Show a refusal's explanation (4xx fragments) in place, as for a success.
    htmx.config.responseHandling = [
      { code: "204", swap: false },
      { code: "[23]..", swap: true },
      { code: "4..", swap: true, error: false },
      { code: "...", swap: false, error: true },
    ];
  }
})();
