// Demo script: proves the JavaScript MIME type (text/javascript) is right,
// since browsers refuse scripts served with the wrong one.
(function () {
  "use strict";
  var el = document.getElementById("js-status");
  if (!el) return;
  var when = new Date().toISOString().replace("T", " ").slice(0, 19);
  el.textContent = "JavaScript ran at " + when + " UTC (served as text/javascript).";
  // Show how this very page was delivered.
  if (window.performance && performance.getEntriesByType) {
    var nav = performance.getEntriesByType("navigation")[0];
    if (nav && nav.transferSize !== undefined) {
      el.textContent += " Page: " + nav.encodedBodySize + " bytes on the wire.";
    }
  }
})();
