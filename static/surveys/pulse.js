// The pulse shows the questions that follow from "Was the session held?" and "What
// happened?" only once they apply. Without JavaScript every question shows, and the server
// ignores the ones that do not apply.
(function () {
  "use strict";
  const form = document.getElementById("pulse-form");
  if (!form) return;

  function value(name) {
    const checked = form.querySelector(`input[name="${name}"]:checked`);
    return checked ? checked.value : "";
  }

  function toggle(selector, attribute, current) {
    form.querySelectorAll(selector).forEach((element) => {
      const show = element.getAttribute(attribute) === current;
      element.toggleAttribute("data-pulse-hidden", !show);
    });
  }

  function update() {
    const held = value("held");
    // Before the first answer, show what follows a "yes" (the usual case), so the page
    // looks like the short form it is.
    toggle("[data-when-held]", "data-when-held", held || "yes");
    toggle("[data-when-not-held]", "data-when-not-held", value("not_held"));
  }

  form.addEventListener("change", update);
  update();
})();
