// The matching review in the admin: follow a run's progress, and small conveniences.
// Everything works without it (the progress page then refreshes itself every 3 s).
(function () {
  "use strict";

  function followProgress(panel) {
    var url = panel.getAttribute("data-progress-url");
    var bar = document.getElementById("run-progress");
    var percent = document.getElementById("run-percent");
    var stage = document.getElementById("run-stage");
    var failures = 0;

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
          var text = data.stage || data.status_display;
          if (stage.textContent !== text) { stage.textContent = text; }
          if (data.finished) {
            window.location.reload();
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
