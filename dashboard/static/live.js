// Slipway dashboard: live updates. The server sends "change" on /events
// whenever the read model moves; the page fetches itself again and swaps
// its <main>, keeping the focus, the scroll position and the build logs
// it is following. A <pre data-follow> streams its build's log from its
// address ("line" per record, "end" once the build ended). Forms marked
// data-confirm ask before they submit.
(function () {
  "use strict";
  var main = document.querySelector("main");
  var status = document.getElementById("live");
  var follows = {}; // id of a followed <pre> -> its EventSource
  function say(text) { if (status) { status.textContent = text; } }
  function follow(pre) {
    if (!window.EventSource || !pre.id || follows[pre.id]) { return; }
    var es = new EventSource(pre.getAttribute("data-follow"));
    var started = false;
    follows[pre.id] = es;
    es.addEventListener("line", function (e) {
      if (!started) { pre.textContent = ""; started = true; }
      var atEnd = pre.scrollTop + pre.clientHeight >= pre.scrollHeight - 4;
      pre.appendChild(document.createTextNode(JSON.parse(e.data) + "\n"));
      if (atEnd) { pre.scrollTop = pre.scrollHeight; }
    });
    es.addEventListener("end", function () {
      es.close();
      delete follows[pre.id];
      pre.removeAttribute("data-follow");
      pre.setAttribute("data-ended", "");
    });
  }
  function followAll() {
    Array.prototype.forEach.call(document.querySelectorAll("pre[data-follow]"), follow);
  }
  function refresh() {
    fetch(location.href, { credentials: "same-origin", headers: { "Accept": "text/html" } })
      .then(function (r) { if (!r.ok) { throw new Error(r.status); } return r.text(); })
      .then(function (html) {
        var doc = new DOMParser().parseFromString(html, "text/html");
        var fresh = doc.querySelector("main");
        if (!fresh || !main) { return; }
        // A log followed here stays as it is while its build runs.
        Object.keys(follows).forEach(function (id) {
          var old = document.getElementById(id), next = fresh.querySelector("#" + CSS.escape(id));
          if (old && next && next.hasAttribute("data-follow")) { next.replaceWith(old); }
        });
        var y = window.scrollY;
        main.replaceChildren.apply(main, Array.prototype.slice.call(fresh.childNodes));
        window.scrollTo(0, y);
        Object.keys(follows).forEach(function (id) {
          if (!document.getElementById(id)) { follows[id].close(); delete follows[id]; }
        });
        followAll();
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
  followAll();
  document.addEventListener("submit", function (e) {
    var msg = e.target.getAttribute("data-confirm");
    if (msg && !window.confirm(msg)) { e.preventDefault(); }
  });
})();
