// Tally's only script: behaviours htmx has no attribute for. No inline scripts anywhere (CSP).
(function () {
  "use strict";

  // --- Selection -----------------------------------------------------------------------

  // A checkbox with data-select-all="NAME" ticks every checkbox named NAME in its form.
  document.addEventListener("change", function (e) {
    var name = e.target.getAttribute && e.target.getAttribute("data-select-all");
    if (name) {
      var boxes = e.target.form.querySelectorAll('input[type=checkbox][name="' + name + '"]');
      for (var i = 0; i < boxes.length; i++) boxes[i].checked = e.target.checked;
    }
    if (e.target.form) updateSelection(e.target.form);
  });

  // updateSelection says how many rows a form with data-needs-selection has ticked, and keeps
  // its select-all box true to them.
  function updateSelection(form) {
    var name = form.getAttribute && form.getAttribute("data-needs-selection");
    if (!name) return;
    var boxes = form.querySelectorAll('input[type=checkbox][name="' + name + '"]');
    var ticked = form.querySelectorAll('input[type=checkbox][name="' + name + '"]:checked').length;
    var all = form.querySelector("input[data-select-all]");
    if (all) {
      all.checked = boxes.length > 0 && ticked === boxes.length;
      all.indeterminate = ticked > 0 && ticked < boxes.length;
    }
    var out = form.querySelector("[data-selection-count]");
    if (out) out.textContent = ticked ? ticked + " selected" : "";
  }

  function selectedCount(form) {
    var name = form.getAttribute("data-needs-selection");
    return form.querySelectorAll('input[type=checkbox][name="' + name + '"]:checked').length;
  }

  // A bulk form sent with nothing ticked says so at once, before any confirm dialog; with
  // rows ticked, its question says how many.
  document.addEventListener("htmx:confirm", function (e) {
    var form = e.detail.elt;
    if (!form.hasAttribute || !form.hasAttribute("data-needs-selection")) return;
    var n = selectedCount(form);
    e.preventDefault();
    if (n === 0) {
      toast("error", "Nothing is selected: tick the approved reservations to settle first.");
      return;
    }
    var question = (e.detail.question || "").replace("the selected reservations", n === 1 ? "the selected reservation" : "the " + n + " selected reservations");
    if (!question || window.confirm(question)) e.detail.issueRequest(true);
  });

  // A question with "{name}" in it names the value the form is about to send under name
  // (the role chosen in a role change); cancelling it puts the form back as it was.
  document.addEventListener("htmx:confirm", function (e) {
    var form = e.detail.elt, question = e.detail.question || "";
    if (!form.elements || question.indexOf("{") < 0) return;
    e.preventDefault();
    question = question.replace(/\{(\w+)\}/g, function (all, name) {
      var field = form.elements[name];
      return field ? field.value : all;
    });
    if (window.confirm(question)) e.detail.issueRequest(true);
    else if (form.reset) form.reset();
  });

  // --- Plain forms -----------------------------------------------------------------------

  // A plain form with data-confirm="question" asks before it is sent; a form that is sent
  // disables its buttons, so a double click sends it once (the server would answer the second
  // with "already being processed").
  document.addEventListener("submit", function (e) {
    var form = e.target;
    var question = form.getAttribute && form.getAttribute("data-confirm");
    if (question && !window.confirm(question)) {
      e.preventDefault();
      return;
    }
    if (form.hasAttribute("hx-post") || form.hasAttribute("hx-get")) return; // htmx has hx-disabled-elt
    setTimeout(function () {
      var buttons = form.querySelectorAll("button[type=submit], button:not([type])");
      for (var i = 0; i < buttons.length; i++) buttons[i].disabled = true;
    }, 0);
  });

  // Coming back to a page from the history: its buttons work again.
  window.addEventListener("pageshow", function (e) {
    if (!e.persisted) return;
    var buttons = document.querySelectorAll("button[disabled]");
    for (var i = 0; i < buttons.length; i++) buttons[i].disabled = false;
  });

  // --- Toasts ----------------------------------------------------------------------------

  // #flash is a fixed region: outcomes show there wherever the page is scrolled. Errors stay
  // until dismissed; the others leave after a while, unless the pointer or focus is on them.
  var toastLife = 8000;

  function toast(kind, message) {
    var region = document.getElementById("flash");
    if (!region) return;
    var box = document.createElement("div");
    box.className = "flash flash-" + kind + " toast";
    box.setAttribute("data-toast", kind);
    box.setAttribute("data-testid", "flash");
    box.textContent = message;
    region.replaceChildren(box);
    armToasts(region);
  }

  // armToasts gives each new toast its close button and, unless it is an error, its timer.
  function armToasts(root) {
    var boxes = root.querySelectorAll ? root.querySelectorAll("[data-toast]") : [];
    for (var i = 0; i < boxes.length; i++) {
      var box = boxes[i];
      if (box.hasAttribute("data-armed")) continue;
      box.setAttribute("data-armed", "");
      var close = document.createElement("button");
      close.type = "button";
      close.className = "toast-close";
      close.setAttribute("data-dismiss-toast", "");
      close.setAttribute("aria-label", "Dismiss");
      close.textContent = "×";
      box.appendChild(close);
      if (box.getAttribute("data-toast") === "error") continue;
      (function (box) {
        var timer = setTimeout(function go() {
          if (box.matches(":hover, :focus-within")) {
            timer = setTimeout(go, 1000);
            return;
          }
          box.remove();
        }, toastLife);
      })(box);
    }
  }

  document.addEventListener("click", function (e) {
    var close = e.target.closest && e.target.closest("[data-dismiss-toast]");
    if (close) close.closest("[data-toast]").remove();
  });

  document.addEventListener("DOMContentLoaded", function () {
    armToasts(document);
    var form = document.querySelector("form[data-needs-selection]");
    if (form) updateSelection(form);
  });

  // --- After htmx swaps --------------------------------------------------------------------

  document.addEventListener("htmx:afterSwap", function (e) {
    var region = document.getElementById("flash");
    if (region) armToasts(region);
    var form = document.querySelector("form[data-needs-selection]");
    if (form) updateSelection(form);
  });
  document.addEventListener("htmx:oobAfterSwap", function () {
    var region = document.getElementById("flash");
    if (region) armToasts(region);
  });

  // A row action changed a reservation (or found it changed): the counts per status are read
  // again, under the list's filters, by whatever listens for tally:reservations-changed.
  document.addEventListener("htmx:afterRequest", function (e) {
    // The button that asked (requestConfig.elt): once its row is swapped out, htmx tells the
    // row's nearest ancestor still in the page, as e.detail.elt.
    var elt = (e.detail.requestConfig && e.detail.requestConfig.elt) || e.detail.elt;
    if (!elt || !elt.hasAttribute || !elt.hasAttribute("data-changes-reservations")) return;
    var status = e.detail.xhr ? e.detail.xhr.status : 0;
    if ((status >= 200 && status < 300) || status === 409) {
      if (window.htmx) window.htmx.trigger(document.body, "tally:reservations-changed");
    }
  });

  // The row acted on stays the current one (once htmx has settled its attributes, class too).
  document.addEventListener("htmx:afterSettle", function (e) {
    var elt = e.detail.requestConfig && e.detail.requestConfig.elt;
    if (!elt || !elt.hasAttribute || !elt.hasAttribute("data-changes-reservations")) return;
    var row = document.querySelector(elt.getAttribute("hx-target"));
    if (row) setCurrent(row, false);
  });

  // --- Keyboard ------------------------------------------------------------------------------

  function rows() {
    return Array.prototype.slice.call(document.querySelectorAll("tr[data-href]"));
  }

  function currentRow() {
    return document.querySelector("tr[data-href].current");
  }

  function setCurrent(row, focus) {
    var old = document.querySelectorAll("tr[data-href].current");
    for (var i = 0; i < old.length; i++) if (old[i] !== row) old[i].classList.remove("current");
    row.classList.add("current");
    if (focus) {
      row.focus({ preventScroll: true });
      row.scrollIntoView({ block: "nearest" });
    }
  }

  // Clicking or tabbing into a row makes it the current one, so j and k go on from there.
  document.addEventListener("focusin", function (e) {
    var row = e.target.closest && e.target.closest("tr[data-href]");
    if (row) setCurrent(row, false);
  });

  function typing(el) {
    if (!el || !el.tagName) return false;
    var tag = el.tagName.toLowerCase();
    return tag === "input" || tag === "textarea" || tag === "select" || el.isContentEditable;
  }

  // The key that moved the focus into a field is not typed into it (some browsers send its
  // character after the keydown that was handled).
  var swallow = "";
  document.addEventListener("keypress", function (e) {
    if (swallow && e.key === swallow) e.preventDefault();
    swallow = "";
  }, true);
  document.addEventListener("keyup", function () { swallow = ""; });

  document.addEventListener("keydown", function (e) {
    if (e.defaultPrevented || e.ctrlKey || e.metaKey || e.altKey) return;
    var help = document.getElementById("keyboard-help");
    if (help && help.open) return; // the dialog has the keys (Esc closes it)
    if (typing(e.target)) {
      if (e.key === "Escape" && e.target.type === "search") e.target.blur();
      return;
    }
    var list = rows();
    var cur = currentRow();
    switch (e.key) {
      case "/":
        var search = document.querySelector("input[type=search]");
        if (!search) return;
        e.preventDefault();
        swallow = "/";
        search.focus();
        search.select();
        return;
      case "?":
        if (!help) return;
        e.preventDefault();
        help.showModal();
        return;
      case "j":
      case "k":
        if (list.length === 0) return;
        e.preventDefault();
        var i = cur ? list.indexOf(cur) : -1;
        i = e.key === "j" ? Math.min(i + 1, list.length - 1) : Math.max(i - 1, 0);
        setCurrent(list[i], true);
        return;
      case "x":
        if (!cur) return;
        var box = cur.querySelector("input[type=checkbox]");
        if (!box) return;
        e.preventDefault();
        box.checked = !box.checked;
        box.dispatchEvent(new Event("change", { bubbles: true }));
        return;
      case "Enter":
        // On the row itself (not a button or link in it, which Enter works already).
        if (!cur || (e.target !== cur && e.target !== document.body)) return;
        e.preventDefault();
        window.location.assign(cur.getAttribute("data-href"));
        return;
    }
  });
})();
