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

  // Live conversation: the server says "changed" over Server-Sent Events and the message
  // list is fetched again (the server renders it, so escaping stays on the server).
  var conversation = document.getElementById("conversation");
  if (conversation && window.EventSource) {
    var refreshing = false;
    // A change announced while a fetch is under way may not be in that fetch's answer, so it
    // is remembered and fetched again afterwards (never dropped).
    var again = false;
    var refresh = function () {
      if (refreshing) { again = true; return; }
      refreshing = true;
      again = false;
      fetch(conversation.dataset.messagesUrl, { credentials: "same-origin", headers: { "Accept": "text/html" } })
        .then(function (response) { return response.ok ? response.text() : null; })
        .then(function (html) {
          if (html !== null) {
            var list = document.getElementById("message-list");
            var template = document.createElement("template");
            template.innerHTML = html.trim();
            var fresh = template.content.getElementById("message-list");
            if (list && fresh) { list.replaceWith(fresh); }
          }
        })
        .finally(function () {
          refreshing = false;
          if (again) { refresh(); }
        });
    };
    var source = new EventSource(conversation.dataset.eventsUrl);
    source.addEventListener("changed", refresh);
  }
})();
