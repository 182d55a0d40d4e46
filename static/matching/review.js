// The matching review in the admin: follow a run's progress, and small conveniences.
// Everything works without it (the progress page then refreshes itself every 3 s).
(function () {
  "use strict";

  function followProgress(panel) {
    var url = panel.getAttribute("data-progress-url");
    var bar = document.getElementById("run-progress");
    var percent = document.getElementById("run-percent");
    var stage = document.getElementById("run-stage");
    var stages = document.getElementById("run-stages");
    var failures = 0;

    // Tick off the stages the run has passed: a quick run still shows every step it took.
    function showStages(list) {
      if (!stages || !list) { return; }
      var items = stages.querySelectorAll("li");
      list.forEach(function (item, index) {
        var li = items[index];
        if (!li) { return; }
        var state = item.state.replace(/ /g, "-");
        li.className = "stage-" + state;
        li.setAttribute("data-state", state);
        var hidden = li.querySelector(".visually-hidden");
        if (hidden) { hidden.textContent = " (" + item.state + ")"; }
      });
    }

    function poll() {
      fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
        .then(function (response) {
          if (!response.ok) { throw new Error("HTTP " + response.status); }
          return response.json();
        })
        .then(function (data) {
          failures = 0;
          bar.value = data.progress;
          bar.textContent = data.progress + " %";
          percent.textContent = data.progress + " %";
          var text = data.situation || data.stage || data.status_display;
          if (stage.textContent !== text) { stage.textContent = text; }
          showStages(data.stages);
          if (data.finished) {
            // Let the last ticks show for a moment before the result replaces them.
            window.setTimeout(function () { window.location.reload(); }, 600);
          } else {
            window.setTimeout(poll, 1000);
          }
        })
        .catch(function () {
          failures += 1;
          if (failures >= 5) {
            stage.textContent = "Lost contact with the server: reload the page to see how the run is doing.";
          } else {
            window.setTimeout(poll, 2000);
          }
        });
    }
    window.setTimeout(poll, 1000);
  }

  // On the start page, the checkbox follows the chosen cohort's policy until it is touched.
  function followPolicy(form) {
    var defaults = document.getElementById("protect-defaults");
    var cohort = form.querySelector("select[name=cohort]");
    var protect = form.querySelector("input[name=protect_worst_off]");
    if (!defaults || !cohort || !protect) { return; }
    var byCohort = JSON.parse(defaults.textContent);
    var touched = false;
    protect.addEventListener("change", function () { touched = true; });
    cohort.addEventListener("change", function () {
      if (!touched && Object.prototype.hasOwnProperty.call(byCohort, cohort.value)) {
        protect.checked = byCohort[cohort.value];
      }
    });
  }

  // A double click on Approve or Rerun sends one request (the server copes with two anyway).
  function submitOnce(form) {
    form.addEventListener("submit", function (event) {
      if (form.dataset.submitted) { event.preventDefault(); return; }
      form.dataset.submitted = "yes";
      window.setTimeout(function () {
        form.querySelectorAll("[type=submit]").forEach(function (b) { b.disabled = true; });
      }, 0);
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var panel = document.querySelector("[data-progress-url]");
    if (panel) { followProgress(panel); }
    document.querySelectorAll("form").forEach(function (form) {
      if (form.querySelector("select[name=cohort]")) { followPolicy(form); }
    });
    document.querySelectorAll("form[data-submit-once]").forEach(submitOnce);
  });
})();
