/*
 * "Copy the codes" and "Print the codes" on the page that shows recovery codes once.
 *
 * Both buttons stay hidden without this script (the page then offers the
 * download, and the browser's own Print command prints only the codes).
 * Copying puts one code per line on the clipboard and says so in a status
 * region, so a screen reader user hears that it worked.
 */
(function () {
  "use strict";

  var copy = document.querySelector("[data-copy-codes]");
  var print = document.querySelector("[data-print-codes]");
  var status = document.getElementById("copy-status");
  if (copy && navigator.clipboard && window.isSecureContext) {
    copy.hidden = false;
    copy.addEventListener("click", function () {
      var list = document.getElementById(copy.dataset.copyCodes);
      var codes = Array.prototype.map.call(list.querySelectorAll("code"), function (code) {
        return code.textContent;
      });
      navigator.clipboard.writeText(codes.join("\n")).then(function () {
        status.textContent = copy.dataset.copiedText;
      });
    });
  }
  if (print && typeof window.print === "function") {
    print.hidden = false;
    print.addEventListener("click", function () {
      window.print();
    });
  }
}());
