// Manifests: the print button of a vehicle's manifest (no inline handler: the page's
// Content-Security-Policy runs only this site's script files).
"use strict";
(function () {
  const print = document.getElementById("print-manifest");
  if (print) print.addEventListener("click", () => window.print());
})();
