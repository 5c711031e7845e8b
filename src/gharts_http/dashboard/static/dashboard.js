// gharts dashboard: small enhancements over pages that work without JavaScript.
// Live updates: the service pushes an event (server-sent events) when a runner changes; the
// page then re-reads its own table. Copy buttons copy the text of the element they name.
(function () {
  "use strict";

  function refresh(container) {
    var fragment = container.id === "runners" ? "runners" : "page";
    fetch(window.location.href, {
      headers: { "X-Dashboard-Fragment": fragment },
      credentials: "same-origin",
      cache: "no-store",
    })
      .then(function (response) {
        if (!response.ok) { throw new Error("status " + response.status); }
        return response.text();
      })
      .then(function (html) {
        var parsed = new DOMParser().parseFromString(html, "text/html");
        var fresh = parsed.getElementById(container.id);
        if (fresh) {
          // Keep the runners chosen for a batch deprovision across the refresh.
          container.querySelectorAll("input[type=checkbox][name=runner]:checked").forEach(function (box) {
            var same = fresh.querySelector('input[name=runner][value="' + box.value + '"]');
            if (same) { same.checked = true; }
          });
          container.replaceWith(fresh);
        }
        document.body.dataset.liveUpdates = String(Number(document.body.dataset.liveUpdates || 0) + 1);
      })
      .catch(function () { /* the next event tries again */ });
  }

  function listen() {
    var container = document.querySelector("[data-live]");
    if (!container || !window.EventSource) { return; }
    var source = new EventSource(container.dataset.live);
    source.addEventListener("open", function () { document.body.dataset.live = "connected"; });
    source.addEventListener("runners", function () {
      var current = document.getElementById(container.id);
      if (current) { refresh(current); }
    });
  }

  function copyButtons() {
    document.querySelectorAll("button[data-copy]").forEach(function (button) {
      button.hidden = false;
      button.addEventListener("click", function () {
        var target = document.getElementById(button.dataset.copy);
        if (!target) { return; }
        var text = target.value || target.textContent;
        navigator.clipboard.writeText(text).then(function () {
          button.textContent = "Copied";
        }, function () {
          target.select();
          button.textContent = "Press Ctrl+C to copy";
        });
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    listen();
    copyButtons();
  });
})();
