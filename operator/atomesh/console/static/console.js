// Live updates: the server sends `change` over Server-Sent Events when its watch-fed cache changed; the page
// fetches itself again and swaps its #live region, keeping what the person had ticked.
(function () {
  "use strict";
  var live = document.getElementById("live");
  var state = document.getElementById("live-state");
  var refreshes = 0;
  var busy = false;
  var again = false;

  function ticked(root) {
    var names = {};
    root.querySelectorAll("input[type=checkbox]:checked").forEach(function (box) {
      names[box.name + "=" + box.value] = true;
    });
    return names;
  }

  function refresh() {
    if (!live) return;
    if (busy) { again = true; return; }
    busy = true;
    fetch(window.location.href, { headers: { "Accept": "text/html" }, credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.text() : Promise.reject(response.status); })
      .then(function (html) {
        var fresh = new DOMParser().parseFromString(html, "text/html").getElementById("live");
        if (!fresh) return;
        var keep = ticked(live);  // as ticked at the moment of the swap, not when the fetch began
        live.innerHTML = fresh.innerHTML;
        live.querySelectorAll("input[type=checkbox]").forEach(function (box) {
          if (keep[box.name + "=" + box.value]) box.checked = true;
        });
        refreshes += 1;
        document.body.dataset.refreshes = String(refreshes);
      })
      .catch(function () { if (state) state.classList.add("stale"); })
      .then(function () {
        busy = false;
        if (again) { again = false; refresh(); }
      });
  }

  if (window.EventSource && live) {
    var source = new EventSource("/events");
    source.addEventListener("change", refresh);
    source.onopen = function () { if (state) state.classList.remove("stale"); };
    source.onerror = function () { if (state) state.classList.add("stale"); };
  }

  document.addEventListener("change", function (event) {
    var target = event.target;
    if (target.matches && target.matches("[data-select-all]")) {
      var form = target.closest("form");
      form.querySelectorAll("input[type=checkbox][name=" + target.dataset.selectAll + "]").forEach(function (box) {
        box.checked = target.checked;
      });
    }
  });

  // A runner step's log is read from its pod only when a person opens it.
  document.addEventListener("toggle", function (event) {
    var details = event.target;
    if (!details.dataset || !details.dataset.log || !details.open || details.dataset.loaded) return;
    details.dataset.loaded = "1";
    fetch(details.dataset.log, { credentials: "same-origin" })
      .then(function (response) { return response.text(); })
      .then(function (text) { details.querySelector("pre").textContent = text; });
  }, true);

  document.addEventListener("submit", function (event) {
    var button = event.submitter;
    if (button && button.dataset.confirm && !window.confirm(button.dataset.confirm)) event.preventDefault();
  });
})();
