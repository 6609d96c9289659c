// Tally's only script: behaviours htmx has no attribute for. No inline scripts anywhere (CSP).
document.addEventListener("change", function (e) {
  // A checkbox with data-select-all="NAME" ticks every checkbox named NAME in its form.
  var name = e.target.getAttribute && e.target.getAttribute("data-select-all");
  if (!name) return;
  var boxes = e.target.form.querySelectorAll('input[type=checkbox][name="' + name + '"]');
  for (var i = 0; i < boxes.length; i++) boxes[i].checked = e.target.checked;
});

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
