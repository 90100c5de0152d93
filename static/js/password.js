/*
 * "Show password" for every [data-password-toggle] wrapper, after GOV.UK's password input.
 *
 * The button is added by this script, so without JavaScript there is no
 * button that does nothing. It flips the input between type=password and
 * type=text, says the new state through a visually hidden live region, and
 * turns the field back into a password field before the form is sent, so
 * password managers still recognise it and offer to save it.
 */
(function () {
  "use strict";

  Array.prototype.forEach.call(document.querySelectorAll("[data-password-toggle]"), function (wrapper) {
    var input = wrapper.querySelector("input[type=password]");
    if (!input) {
      return;
    }
    var button = document.createElement("button");
    button.type = "button";
    button.className = "button button--secondary password-toggle";
    button.setAttribute("aria-controls", input.id);
    button.textContent = wrapper.dataset.showText;
    var status = document.createElement("span");
    status.className = "visually-hidden";
    status.setAttribute("aria-live", "polite");
    input.insertAdjacentElement("afterend", button);
    button.insertAdjacentElement("afterend", status);

    function show(visible) {
      input.type = visible ? "text" : "password";
      button.textContent = visible ? wrapper.dataset.hideText : wrapper.dataset.showText;
      button.setAttribute("aria-pressed", visible ? "true" : "false");
    }

    button.setAttribute("aria-pressed", "false");
    button.addEventListener("click", function () {
      var visible = input.type === "password";
      show(visible);
      status.textContent = visible ? wrapper.dataset.shownStatus : wrapper.dataset.hiddenStatus;
    });
    if (input.form) {
      input.form.addEventListener("submit", function () {
        show(false);
      });
    }
  });
}());
