// The intake form: keeps a draft as the person types, and lets arrow keys move around the
// availability grid. Without JavaScript the form still works ("Save and finish later").
(function () {
  "use strict";

  var form = document.getElementById("intake-form");
  if (!form) return;
  var status = document.getElementById("draft-status");
  var url = form.dataset.draftUrl;
  var timer = null;
  var dirty = false;
  var submitting = false;

  function time(date) {
    return date.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  }

  function payload() {
    return new FormData(form);
  }

  function save() {
    clearTimeout(timer);
    if (!dirty || submitting) return;
    dirty = false;
    var data = payload();
    fetch(url, {
      method: "POST",
      body: data,
      credentials: "same-origin",
      headers: { "X-CSRFToken": data.get("csrfmiddlewaretoken"), Accept: "application/json" },
    })
      .then(function (response) {
        return response.json().then(function (body) {
          return { ok: response.ok, body: body };
        });
      })
      .then(function (result) {
        if (result.ok) {
          status.textContent = "Saved at " + time(new Date(result.body.saved_at)) + ".";
        } else {
          status.textContent = result.body.message || "Could not save just now.";
        }
      })
      .catch(function () {
        dirty = true;
        status.textContent = "Could not save just now; we will try again as you go on.";
      });
  }

  function changed() {
    if (submitting) return;
    dirty = true;
    clearTimeout(timer);
    timer = setTimeout(save, 1000);
  }

  form.addEventListener("input", changed);
  form.addEventListener("change", changed);

  // Leaving a section saves at once.
  form.addEventListener("focusout", function (event) {
    var section = event.target.closest(".intake-section");
    if (section && !(event.relatedTarget && section.contains(event.relatedTarget))) save();
  });

  form.addEventListener("submit", function () {
    submitting = true;
    clearTimeout(timer);
  });

  // Closing the tab, reloading or switching away on a phone: send what is left.
  function flush() {
    if (dirty && !submitting && navigator.sendBeacon) {
      dirty = false;
      clearTimeout(timer);
      navigator.sendBeacon(url, payload());
    }
  }
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "hidden") flush();
  });
  window.addEventListener("pagehide", flush);

  // Arrow keys move between cells of the grid; Tab and Space work without this.
  var grid = form.querySelector("[data-slot-grid]");
  if (grid) {
    var moves = { ArrowUp: [-1, 0], ArrowDown: [1, 0], ArrowLeft: [0, -1], ArrowRight: [0, 1] };
    grid.addEventListener("keydown", function (event) {
      var move = moves[event.key];
      var cell = event.target;
      if (!move || !cell.classList.contains("slot-input")) return;
      var row = Number(cell.dataset.row) + move[0];
      var column = Number(cell.dataset.column) + move[1];
      var next = grid.querySelector(
        '.slot-input[data-row="' + row + '"][data-column="' + column + '"]'
      );
      if (next) {
        event.preventDefault();
        next.focus();
      }
    });
  }
})();
