// Trellis: small progressive enhancements only; every page works without script.
(function () {
  "use strict";
  // Stop double submission of forms (e.g. a second click while a slow request runs).
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form.dataset.submitted === "true") {
      event.preventDefault();
      return;
    }
    form.dataset.submitted = "true";
    var buttons = form.querySelectorAll("button[type=submit]");
    for (var i = 0; i < buttons.length; i++) { buttons[i].setAttribute("aria-disabled", "true"); }
  });
})();
