// Slipway dashboard: live updates. The server sends "change" on /events
// whenever the read model moves; the page fetches itself again and swaps
// its <main>, keeping the focus and the scroll position. Forms marked
// data-confirm ask before they submit.
(function () {
  "use strict";
  var main = document.querySelector("main");
  var status = document.getElementById("live");
  function say(text) { if (status) { status.textContent = text; } }
  function refresh() {
    fetch(location.href, { credentials: "same-origin", headers: { "Accept": "text/html" } })
      .then(function (r) { if (!r.ok) { throw new Error(r.status); } return r.text(); })
      .then(function (html) {
        var doc = new DOMParser().parseFromString(html, "text/html");
        var fresh = doc.querySelector("main");
        if (!fresh || !main) { return; }
        var y = window.scrollY;
        main.innerHTML = fresh.innerHTML;
        window.scrollTo(0, y);
        main.dispatchEvent(new CustomEvent("slipway:refreshed", { bubbles: true }));
      })
      .catch(function () { say("Live updates paused"); });
  }
  if (window.EventSource && main && main.hasAttribute("data-live")) {
    var es = new EventSource("/events");
    es.addEventListener("open", function () { say("Live"); });
    es.addEventListener("change", refresh);
    es.addEventListener("error", function () { say("Reconnecting…"); });
  }
  document.addEventListener("submit", function (e) {
    var msg = e.target.getAttribute("data-confirm");
    if (msg && !window.confirm(msg)) { e.preventDefault(); }
  });
})();
