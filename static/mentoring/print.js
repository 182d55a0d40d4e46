// Buttons marked data-print print the page (the sponsor status, the seven-day diagnosis): an
// event listener here rather than an onclick attribute, which the Content-Security-Policy
// refuses.
document.addEventListener("DOMContentLoaded", () => {
  for (const button of document.querySelectorAll("[data-print]")) {
    button.addEventListener("click", () => window.print());
  }
});
