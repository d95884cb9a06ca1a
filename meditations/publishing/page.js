(function () {
  "use strict";
  var players = Array.prototype.slice.call(document.querySelectorAll("article audio"));
  function stamp(s) {
    var ms = Math.round(s * 1000), h = Math.floor(ms / 3600000), m = Math.floor(ms / 60000) % 60,
        sec = Math.floor(ms / 1000) % 60, f = ms % 1000;
    function p(n, w) { n = String(n); while (n.length < w) n = "0" + n; return n; }
    return p(h, 2) + ":" + p(m, 2) + ":" + p(sec, 2) + "." + p(f, 3);
  }
  players.forEach(function (audio) {
    var article = audio.closest("article");
    var buttons = Array.prototype.slice.call(article.querySelectorAll("button.chapter"));
    var cues = Array.prototype.slice.call(article.querySelectorAll("ol.cues li"));
    var track = audio.querySelector("track");
    if (track && location.protocol === "file:" && cues.length) {
      /* a page opened from disk may not fetch the .vtt: give the player the same cues, from the page */
      var text = "WEBVTT\n\n" + cues.map(function (li) {
        var words = li.querySelector(".text").textContent.replace(/&/g, "&amp;").replace(/</g, "&lt;")
          .replace(/-->/g, "--&gt;");
        return stamp(+li.dataset.start) + " --> " + stamp(+li.dataset.end) + "\n" + words + "\n";
      }).join("\n");
      track.src = "data:text/vtt;charset=utf-8," + encodeURIComponent(text);
    }
    if (track) { track.track.mode = "hidden"; }
    buttons.forEach(function (button) {
      button.addEventListener("click", function () {
        audio.currentTime = parseFloat(button.dataset.start);
        var playing = audio.play();
        if (playing && playing.catch) { playing.catch(function () {}); }
      });
    });
    audio.addEventListener("play", function () {
      players.forEach(function (other) { if (other !== audio) { other.pause(); } });
    });
    audio.addEventListener("timeupdate", function () {
      var t = audio.currentTime;
      buttons.forEach(function (button, i) {
        var next = buttons[i + 1];
        var here = t >= parseFloat(button.dataset.start) && (!next || t < parseFloat(next.dataset.start));
        if (here) { button.setAttribute("aria-current", "true"); } else { button.removeAttribute("aria-current"); }
      });
      cues.forEach(function (li) {
        li.classList.toggle("current", t >= +li.dataset.start && t < +li.dataset.end);
      });
    });
  });
})();
