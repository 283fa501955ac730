// Page behaviours, attached by ids and data attributes. No page carries an inline script or an
// event-handler attribute: the Content-Security-Policy allows scripts from this site only.
(function () {
  "use strict";

  // Close an open drop-down menu when clicking anywhere else.
  document.addEventListener("click", (e) => {
    document.querySelectorAll("details.menu[open]").forEach((d) => {
      if (!d.contains(e.target)) d.removeAttribute("open");
    });
  });

  // Copy buttons: data-copy="text", or data-copy-from="<id of an input>". The Clipboard API
  // needs a secure context, so fall back to a selection. data-copied-text relabels the button.
  document.addEventListener("click", (e) => {
    const btn = e.target.closest("[data-copy], [data-copy-from]");
    if (!btn) return;
    const source = btn.dataset.copyFrom && document.getElementById(btn.dataset.copyFrom);
    const text = source ? source.value : btn.dataset.copy;
    const done = () => {
      if (btn.dataset.copiedText) btn.textContent = btn.dataset.copiedText;
      btn.classList.add("copied");
      setTimeout(() => btn.classList.remove("copied"), 1200);
    };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(done);
    } else {
      const area = document.createElement("textarea");
      area.value = text;
      document.body.appendChild(area);
      area.select();
      document.execCommand("copy");
      area.remove();
      done();
    }
  });

  // A read-only field whose whole value is selected on click (a key shown once).
  document.addEventListener("click", (e) => {
    const input = e.target.closest("input[data-select-on-click]");
    if (input) input.select();
  });

  // Forms that ask first: <form data-confirm="Question?">.
  document.addEventListener("submit", (e) => {
    const form = e.target.closest("form[data-confirm]");
    if (form && !window.confirm(form.dataset.confirm)) e.preventDefault();
  });

  // Feed form: show only the fields of the chosen feed type.
  function feedTypeToggle(form) {
    const type = document.getElementById(form.dataset.typeSelect);
    if (!type) return;
    const show = () =>
      form.querySelectorAll(".feed-type-fields").forEach((el) => {
        el.hidden = el.dataset.feedType !== type.value;
      });
    type.addEventListener("change", show);
    show();
  }

  // Lifecycle phase editor: add, remove and move phases; ORDER and DELETE tell the server the
  // result.
  function phaseEditor(list) {
    const total = document.getElementById("id_phases-TOTAL_FORMS");
    const template = document.getElementById("phase-template");
    const none = document.getElementById("no-phases");
    const shown = () => [...list.querySelectorAll(".phase")].filter((p) => !p.hidden);
    const renumber = () => {
      shown().forEach((phase, i) => {
        phase.querySelector(".phase-number").textContent = `Phase ${i + 1}`;
        phase.querySelector("[name$='-ORDER']").value = i + 1;
      });
      if (none) none.hidden = shown().length > 0;
    };
    document.getElementById("add-phase")?.addEventListener("click", () => {
      const index = Number(total.value);
      list.insertAdjacentHTML("beforeend", template.innerHTML.replaceAll("__prefix__", index));
      total.value = index + 1;
      renumber();
      list.lastElementChild.querySelector("[name$='-name']").focus();
    });
    list.addEventListener("click", (event) => {
      const button = event.target.closest("[data-phase-action]");
      if (!button) return;
      const phase = button.closest(".phase");
      const phases = shown();
      const i = phases.indexOf(phase);
      const action = button.dataset.phaseAction;
      if (action === "remove") {
        phase.querySelector("[name$='-DELETE']").value = "True";
        phase.hidden = true;
      } else if (action === "up" && i > 0) {
        phases[i - 1].before(phase);
      } else if (action === "down" && i < phases.length - 1) {
        phases[i + 1].after(phase);
      }
      renumber();
    });
    renumber();
  }

  // Channel version rules: add a rule, drop one (its DELETE box is ticked).
  function ruleEditor(list) {
    const total = document.getElementById("id_rules-TOTAL_FORMS");
    const renumber = () =>
      [...list.querySelectorAll(".rule-form:not([hidden])")].forEach((r, i) => {
        r.querySelector(".rule-number").textContent = `Rule ${i + 1}`;
      });
    document.getElementById("add-rule")?.addEventListener("click", () => {
      const index = Number(total.value);
      const html = document
        .getElementById("rule-template")
        .innerHTML.replaceAll("__prefix__", index);
      list.insertAdjacentHTML("beforeend", html);
      total.value = index + 1;
      renumber();
    });
    list.addEventListener("click", (event) => {
      const button = event.target.closest("[data-rule-remove]");
      if (!button) return;
      const rule = button.closest(".rule-form");
      rule.querySelector("[name$='-DELETE']").checked = true;
      rule.hidden = true;
      renumber();
    });
    renumber();
  }

  // Deployment task log: level filter, and following new lines unless the reader scrolled up.
  function taskLog(log) {
    const follow = document.getElementById("log-follow");
    const level = document.getElementById("log-level");
    let auto = false;
    const toBottom = () => {
      if (!follow.checked) return;
      auto = true;
      log.scrollTop = log.scrollHeight;
    };
    level.addEventListener("change", () => {
      log.dataset.level = level.value;
      toBottom();
    });
    follow.addEventListener("change", toBottom);
    // Scrolling up to read stops following; scrolling back to the end resumes it.
    log.addEventListener("scroll", () => {
      if (auto) {
        auto = false;
        return;
      }
      follow.checked = log.scrollHeight - log.scrollTop - log.clientHeight < 24;
    });
    document.body.addEventListener("htmx:afterSettle", toBottom);
    document.body.addEventListener("htmx:oobAfterSwap", () => {
      const waiting = document.getElementById("log-waiting");
      if (waiting && document.querySelector("#log-lines .ln")) waiting.remove();
      toBottom();
    });
    toBottom();
  }

  function init() {
    document.querySelectorAll("form[data-type-select]").forEach(feedTypeToggle);
    const phases = document.getElementById("phases");
    if (phases && document.getElementById("phase-template")) phaseEditor(phases);
    const rules = document.getElementById("rules");
    if (rules && document.getElementById("rule-template")) ruleEditor(rules);
    const log = document.getElementById("log");
    if (log && document.getElementById("log-level")) taskLog(log);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
