// Variables grid and process editor: rows added and removed in place, the "as seen in"
// filter, and the package picker that reads the feeds API. The server decides everything;
// this only edits the form that is posted whole.
(function () {
  "use strict";

  let counter = 1000; // fresh indexes for new rows; the server closes the gaps

  function cloneTemplate(template, placeholder) {
    const index = String(counter++);
    const html = template.innerHTML.split(placeholder).join(index);
    const holder = document.createElement(template.dataset.rowTemplate !== undefined ? "tbody" : "div");
    holder.innerHTML = html;
    return Array.from(holder.children);
  }

  // The server orders steps by the index in their field names: after a move, give every step
  // a fresh, increasing index in page order (names, ids, labels and row templates alike).
  function renumberSteps(container) {
    const pattern = /^(f-)?steps\[\d+\]/;
    container.querySelectorAll(":scope > [data-step]").forEach((step) => {
      const prefix = `steps[${counter++}]`;
      const rename = (value) => value.replace(pattern, (m, f) => (f || "") + prefix);
      step.querySelectorAll("[name], [id], label[for]").forEach((el) => {
        if (el.name) el.name = rename(el.name);
        if (el.id) el.id = rename(el.id);
        if (el.htmlFor) el.htmlFor = rename(el.htmlFor);
      });
      step.querySelectorAll("template").forEach((t) => {
        t.innerHTML = t.innerHTML.replace(/steps\[\d+\]/g, prefix);
      });
    });
  }

  // Lists inside the process editor --------------------------------------------------------

  document.addEventListener("click", function (event) {
    const add = event.target.closest("[data-add]");
    if (add) {
      const list = add.closest("[data-list]");
      const template = list.querySelector(":scope > template[data-item-template]");
      const items = list.querySelector(":scope > [data-items]");
      const nodes = cloneTemplate(template, list.dataset.placeholder);
      nodes.forEach((n) => items.appendChild(n));
      const first = nodes[0] && nodes[0].querySelector("input[type=text], select");
      if (first) first.focus();
      return;
    }
    const remove = event.target.closest("[data-remove]");
    if (remove) {
      remove.closest("[data-item]").remove();
      return;
    }
    const addStep = event.target.closest("[data-add-step]");
    if (addStep) {
      const form = event.target.closest("form");
      const type = addStep.dataset.addStep;
      const template = form.querySelector(`template[data-step-template="${type}"]`);
      const nodes = cloneTemplate(template, "__step__");
      nodes.forEach((n) => form.querySelector("[data-steps]").appendChild(n));
      form.querySelector("[data-steps-empty]").hidden = true;
      nodes[0].querySelector("input[type=text]").focus();
      return;
    }
    const move = event.target.closest("[data-move-step]");
    if (move) {
      const step = move.closest("[data-step]");
      const sibling = move.dataset.moveStep === "-1" ? step.previousElementSibling : step.nextElementSibling;
      if (!sibling) return;
      if (move.dataset.moveStep === "-1") sibling.before(step);
      else sibling.after(step);
      renumberSteps(step.parentElement);
      move.focus();
      return;
    }
    const removeStep = event.target.closest("[data-remove-step]");
    if (removeStep) {
      const form = removeStep.closest("form");
      removeStep.closest("[data-step]").remove();
      form.querySelector("[data-steps-empty]").hidden = !!form.querySelector("[data-steps] [data-step]");
    }
  });

  // Package picker ---------------------------------------------------------------------------

  const debounce = (fn, ms) => {
    let timer;
    return (...args) => { clearTimeout(timer); timer = setTimeout(() => fn(...args), ms); };
  };

  async function getJSON(url) {
    const response = await fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" });
    const data = await response.json().catch(() => ({}));
    if (!response.ok) throw new Error(data.detail || `HTTP ${response.status}`);
    return data;
  }

  function pickerParts(element) {
    const row = element.closest("[data-package]");
    return { row, feed: row.querySelector("[data-feed]"), input: row.querySelector("[data-package-id]"), versions: row.querySelector("[data-versions]") };
  }

  const searchPackages = debounce(async function (input) {
    const { feed } = pickerParts(input);
    if (!feed.value) return;
    let list = input.list;
    if (!list) {
      list = document.createElement("datalist");
      list.id = `packages-${counter++}`;
      input.after(list);
      input.setAttribute("list", list.id);
    }
    try {
      const data = await getJSON(`/api/feeds/${feed.value}/packages/?q=${encodeURIComponent(input.value)}`);
      list.replaceChildren(...data.results.slice(0, 50).map((name) => new Option(name, name)));
    } catch (error) {
      pickerParts(input).versions.textContent = `Could not search the feed: ${error.message}`;
    }
  }, 250);

  const showVersions = debounce(async function (element) {
    const { feed, input, versions } = pickerParts(element);
    versions.textContent = "";
    if (!feed.value || !input.value.trim()) return;
    versions.textContent = "Reading versions…";
    const path = input.value.trim().split("/").map(encodeURIComponent).join("/");
    try {
      const data = await getJSON(`/api/feeds/${feed.value}/packages/${path}/versions/?limit=6`);
      if (!data.results.length) {
        versions.textContent = "No versions in this feed yet.";
        return;
      }
      versions.replaceChildren(document.createTextNode("Newest: "));
      data.results.forEach((v, i) => {
        const badge = document.createElement("span");
        badge.className = i === 0 ? "badge" : "badge badge-muted";
        badge.textContent = v.version;
        versions.appendChild(badge);
      });
    } catch (error) {
      versions.textContent = error.message;
    }
  }, 300);

  document.addEventListener("input", function (event) {
    if (event.target.matches("[data-package-id]")) searchPackages(event.target);
  });
  document.addEventListener("focusin", function (event) {
    if (event.target.matches("[data-package-id]")) searchPackages(event.target);
  });
  document.addEventListener("change", function (event) {
    if (event.target.matches("[data-package-id], [data-feed]")) showVersions(event.target);
  });
  document.querySelectorAll("[data-package]").forEach((row) => showVersions(row.querySelector("[data-feed]")));

  // Variables grid -----------------------------------------------------------------------------

  const grid = document.querySelector("form[data-variables]");
  if (!grid) return;
  const table = grid.querySelector(".var-grid");
  const body = grid.querySelector("[data-rows]");
  const asSeen = grid.querySelector("[data-as-seen]");
  const nameFilter = grid.querySelector("[data-name-filter]");

  function rowInfo(row) {
    return {
      name: row.querySelector("[data-var-name]").value.trim().toLowerCase(),
      envs: Array.from(row.querySelectorAll("[data-var-env]:checked")).map((c) => c.value),
    };
  }

  // Which value applies in the chosen environment: one scoped to it beats an unscoped one.
  function refresh() {
    const env = asSeen.value;
    const needle = nameFilter.value.trim().toLowerCase();
    const rows = Array.from(body.querySelectorAll("[data-row]"));
    const winners = new Map();
    rows.forEach((row) => {
      const { name, envs } = rowInfo(row);
      row.classList.toggle("name-hidden", !!needle && !name.includes(needle));
      row.classList.remove("applies", "overridden", "elsewhere");
      if (!env) return;
      const applies = envs.length === 0 || envs.includes(env);
      if (!applies) { row.classList.add("elsewhere"); return; }
      const rank = envs.length ? 1 : 0;
      const current = winners.get(name);
      if (!current || rank > current.rank) winners.set(name, { row, rank });
    });
    if (env) {
      rows.forEach((row) => {
        if (row.classList.contains("elsewhere")) return;
        const winner = winners.get(rowInfo(row).name);
        row.classList.add(winner && winner.row === row ? "applies" : "overridden");
      });
    }
    table.classList.toggle("filtered", !!env);
    grid.querySelector("[data-as-seen-note]").hidden = !env;
    grid.querySelector("[data-empty]").hidden = rows.length > 0;
  }

  function setType(row) {
    const type = row.querySelector("[data-var-type]").value;
    const value = row.querySelector("[data-var-value]");
    value.type = type === "sensitive" ? "password" : "text";
    value.autocomplete = type === "sensitive" ? "new-password" : "off";
    if (type === "aws-account") value.setAttribute("list", "aws-accounts");
    else value.removeAttribute("list");
  }

  grid.addEventListener("click", function (event) {
    if (event.target.closest("[data-add-row]")) {
      const nodes = cloneTemplate(grid.querySelector("template[data-row-template]"), "__row__");
      nodes.forEach((n) => body.appendChild(n));
      nodes[0].querySelector("[data-var-name]").focus();
      refresh();
    } else if (event.target.closest("[data-remove-row]")) {
      event.target.closest("[data-row]").remove();
      refresh();
    }
  });
  grid.addEventListener("change", function (event) {
    if (event.target.matches("[data-var-type]")) setType(event.target.closest("[data-row]"));
    refresh();
  });
  grid.addEventListener("input", function (event) {
    const row = event.target.closest("[data-row]");
    if (row && event.target.matches("[data-var-value]")) {
      row.toggleAttribute("data-sensitive-typing", event.target.type === "password" && event.target.value !== "");
    }
    refresh();
  });
  refresh();
})();
