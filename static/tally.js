// Tally's only script: behaviours htmx has no attribute for. No inline scripts anywhere (CSP).
document.addEventListener("change", function (e) {
  // A checkbox with data-select-all="NAME" ticks every checkbox named NAME in its form.
  var name = e.target.getAttribute && e.target.getAttribute("data-select-all");
  if (!name) return;
  var boxes = e.target.form.querySelectorAll('input[type=checkbox][name="' + name + '"]');
  for (var i = 0; i < boxes.length; i++) boxes[i].checked = e.target.checked;
});

// A plain form with data-confirm="question" asks before it is sent.
document.addEventListener("submit", function (e) {
  var question = e.target.getAttribute && e.target.getAttribute("data-confirm");
  if (question && !window.confirm(question)) e.preventDefault();
});
