// Live updates: elements with data-poll fetch their URL every few seconds. The server renders the rows
// (escaped by Jinja); nothing here builds markup from message text. Served from /dashboard/static only.
"use strict";
(function () {
  var EVERY_MS = 3000;

  function poll(element) {
    var append = element.dataset.mode === "append";
    var url = element.dataset.poll;
    if (append) {
      url += (url.indexOf("?") < 0 ? "?" : "&") + "after=" + encodeURIComponent(element.dataset.lastSeq || "0");
    }
    fetch(url, { credentials: "same-origin", headers: { "X-Requested-With": "fetch" } })
      .then(function (response) {
        if (response.status === 401 || response.redirected) {
          window.location.reload(); // the session ended: back to the sign-in page
          return null;
        }
        if (!response.ok) { return null; }
        return response.text().then(function (html) {
          if (append) {
            var last = response.headers.get("X-Last-Seq");
            if (html.trim()) { element.insertAdjacentHTML("beforeend", html); }
            if (last) { element.dataset.lastSeq = last; }
          } else if (html !== element.dataset.shown) {
            element.innerHTML = html;
            element.dataset.shown = html;
          }
        });
      })
      .catch(function () { /* offline for a moment: try again next time */ })
      .then(function () { window.setTimeout(function () { poll(element); }, EVERY_MS); });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-poll]").forEach(function (element) {
      window.setTimeout(function () { poll(element); }, EVERY_MS);
    });
  });
})();
