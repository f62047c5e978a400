// suiji workbench: small progressive enhancements; every page works without this file.
"use strict";
(function () {
  // Progress of a background job: poll its JSON and reload when it ends.
  var bar = document.querySelector("[data-job]");
  if (bar) {
    var id = bar.getAttribute("data-job");
    var fill = bar.querySelector("div");
    var step = document.getElementById("job-step");
    var tick = function () {
      fetch("/jobs/" + id + ".json", {cache: "no-store"}).then(function (r) { return r.json(); })
        .then(function (j) {
          if (j.state !== "running") { window.location.reload(); return; }
          if (j.percent === null) { bar.classList.add("indeterminate"); }
          else { bar.classList.remove("indeterminate"); fill.style.width = j.percent + "%"; }
          if (step) {
            step.textContent = j.step + (j.total ? "：" + j.done.toLocaleString() + " / " +
              j.total.toLocaleString() : "") + "（已用 " + j.elapsed + " 秒）";
          }
          setTimeout(tick, 500);
        }).catch(function () { setTimeout(tick, 1500); });
    };
    var meta = document.querySelector("meta[http-equiv=refresh]");
    if (meta) { meta.parentNode.removeChild(meta); }
    tick();
  }
  // Copy buttons for the texts to publish.
  document.querySelectorAll("[data-copy]").forEach(function (button) {
    button.hidden = false;
    button.addEventListener("click", function () {
      var source = document.getElementById(button.getAttribute("data-copy"));
      var text = source.value !== undefined ? source.value : source.textContent;
      navigator.clipboard.writeText(text).then(function () { button.textContent = "已复制"; });
    });
  });
  document.querySelectorAll("[data-print]").forEach(function (button) {
    button.hidden = false;
    button.addEventListener("click", function () { window.print(); });
  });
  // The seed: count the digits as they are typed, for the witnesses.
  var seed = document.getElementById("seed");
  var count = document.getElementById("seed-count");
  if (seed && count) {
    var show = function () {
      var digits = (seed.value.match(/[0-9０-９]/g) || []).length;
      count.textContent = "已输入 " + digits + " 位数字";
    };
    seed.addEventListener("input", show);
    show();
  }
  // Choosing the OS source disables the typed seed.
  document.querySelectorAll("input[name=seed_source]").forEach(function (radio) {
    radio.addEventListener("change", function () {
      if (seed) { seed.disabled = (radio.value === "os" && radio.checked); }
    });
  });
})();
