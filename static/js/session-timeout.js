/*
 * Idle time-out warning (WCAG 2.2.1 Timing Adjustable).
 *
 * The server ends a session after 30 minutes without a request. Two minutes
 * before that, this opens the layout's <dialog>: showModal() moves focus to
 * "Stay signed in", and screen readers read the dialog's title and text.
 * "Stay signed in" posts to the server (fetch, or the plain form without
 * this script) and the countdown starts again. When the time is up, the page
 * goes to the sign-in page, which says why.
 */
(function () {
  "use strict";

  var dialog = document.getElementById("session-timeout");
  if (!dialog || typeof dialog.showModal !== "function" || !window.fetch) {
    return;
  }
  var WARN_MS = 120 * 1000;
  // The server's clock decides: leave a second after its deadline, never before, or the
  // sign-in page would still see a live session and send the citizen back here.
  var GRACE_MS = 1000;
  var deadline = Date.now() + parseInt(dialog.dataset.secondsLeft, 10) * 1000;
  var countdown = dialog.querySelector("[data-countdown]");
  var stayForm = dialog.querySelector("[data-stay]").form;
  var warnTimer = null;
  var tickTimer = null;

  function remainingText(ms) {
    var minutes = Math.ceil(ms / 60000);
    if (ms < 60000) {
      return dialog.dataset.secondsText;
    }
    if (minutes === 1) {
      return dialog.dataset.minuteText;
    }
    return dialog.dataset.minutesText.replace("{n}", String(minutes));
  }

  function tick() {
    var ms = deadline - Date.now();
    if (ms <= -GRACE_MS) {
      window.location.assign(dialog.dataset.signedOutUrl);
      return;
    }
    var text = remainingText(Math.max(ms, 0));
    // Changed only when the wording changes, so assistive technology is not flooded.
    if (countdown.textContent !== text) {
      countdown.textContent = text;
    }
  }

  function warn() {
    if (!dialog.open) {
      tick();
      dialog.showModal();
    }
    clearInterval(tickTimer);
    tickTimer = setInterval(tick, 1000);
  }

  function schedule() {
    clearTimeout(warnTimer);
    clearInterval(tickTimer);
    warnTimer = setTimeout(warn, Math.max(0, deadline - Date.now() - WARN_MS));
  }

  stayForm.addEventListener("submit", function (event) {
    event.preventDefault();
    fetch(dialog.dataset.extendUrl, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Accept": "application/json" },
      body: new FormData(stayForm)
    }).then(function (response) {
      if (!response.ok) {
        throw new Error(String(response.status));
      }
      return response.json();
    }).then(function (data) {
      deadline = Date.now() + data.seconds_left * 1000;
      dialog.close();
      schedule();
    }).catch(function () {
      stayForm.submit();
    });
  });

  // Escape means "I am here": it keeps the citizen signed in, as GOV.UK's pattern does.
  dialog.addEventListener("cancel", function (event) {
    event.preventDefault();
    stayForm.requestSubmit();
  });

  schedule();
}());
