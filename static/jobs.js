// The jobs console's script: behaviours htmx has no attribute for. No inline scripts (CSP).
(function () {
  "use strict";

  // --- Polling only while the tab is visible ------------------------------------------------

  // A fragment marked data-poll asks nothing while its tab is hidden (htmx's "every 5s" keeps
  // ticking; the requests are dropped here), and asks at once when the tab is shown again:
  // its hx-trigger also listens for tally:visible.
  document.addEventListener("htmx:beforeRequest", function (e) {
    var elt = e.detail && e.detail.elt;
    if (document.hidden && elt && elt.hasAttribute && elt.hasAttribute("data-poll")) e.preventDefault();
  });
  document.addEventListener("visibilitychange", function () {
    if (document.hidden || !window.htmx) return;
    var els = document.querySelectorAll("[data-poll]");
    for (var i = 0; i < els.length; i++) window.htmx.trigger(els[i], "tally:visible");
  });

  // --- The action panel -----------------------------------------------------------------------

  // "Never mind" empties the confirmation it is in.
  document.addEventListener("click", function (e) {
    var button = e.target.closest && e.target.closest("[data-job-dismiss]");
    if (!button) return;
    var panel = button.closest("#job-action");
    if (panel) panel.replaceChildren();
  });

  // --- Selection ------------------------------------------------------------------------------

  function ticked(form) {
    return form.querySelectorAll('input[type=checkbox][name="id"]:checked').length;
  }

  function updateCount(form) {
    var out = form.querySelector("[data-job-selection-count]");
    if (!out) return;
    var n = ticked(form);
    out.textContent = n ? n + " selected" : "";
  }

  document.addEventListener("change", function (e) {
    var form = e.target.form;
    if (form && form.hasAttribute("data-job-selection")) updateCount(form);
  });
  document.addEventListener("htmx:afterSwap", function () {
    var form = document.querySelector("form[data-job-selection]");
    if (form) updateCount(form);
  });

  // A selection action with nothing ticked says so at once; with jobs ticked, its question
  // says how many.
  document.addEventListener("htmx:confirm", function (e) {
    var button = e.detail.elt;
    var form = button && button.form;
    if (!form || !form.hasAttribute("data-job-selection")) return;
    e.preventDefault();
    var n = ticked(form);
    if (n === 0) {
      var region = document.getElementById("flash");
      if (region) {
        var box = document.createElement("div");
        box.className = "flash flash-error toast";
        box.setAttribute("data-toast", "error");
        box.setAttribute("data-testid", "flash");
        box.textContent = "Nothing is selected: tick the jobs first.";
        region.replaceChildren(box);
      }
      return;
    }
    var question = (e.detail.question || "").replace("the selected jobs", n === 1 ? "the selected job" : "the " + n + " selected jobs");
    if (window.confirm(question)) e.detail.issueRequest(true);
  });
})();
