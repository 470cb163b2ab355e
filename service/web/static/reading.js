// The page as a reading room, around what bitext.js draws (it reads the DOM, never the stream):
// - once a translation is on the page, the input folds into a one-line bar ("Edit the French…") and the
//   two columns take the screen; an error, or the bar's button, opens the input again;
// - the toolbar shows only when there is something to act on (rows, and no translation in flight);
// - downloads are named from the article's title (a slug), not translation.json;
// - flagged sentences are quiet (their marker hidden) and counted in one button, "3 sentences to check",
//   which shows the markers and jumps from one such sentence to the next.
// Everything watches the page through MutationObservers, batched once a frame.
"use strict";

(() => {
  const byId = (id) => document.getElementById(id);
  const form = byId("input-form");
  const source = byId("source");
  const bar = byId("edit-bar");
  const editButton = byId("edit-french");
  const summary = byId("edit-summary");
  const result = byId("result");
  const view = byId("bitext");
  const toolbar = result.querySelector(".toolbar");
  const errorBox = byId("error");
  const jsonLink = byId("download-json");
  const checksButton = byId("checks");
  const SLUG_MAX = 60;

  let editing = false; // the reader opened the input on purpose: it stays open until the next translation
  let checkIndex = -1;
  let scheduled = false;

  const rows = () => view.querySelectorAll(".row[data-block], .row[data-table]");
  const busy = () => result.getAttribute("aria-busy") === "true";

  // ---- names for downloads -------------------------------------------------------------
  function slug(text) {
    const plain = text
      .normalize("NFKD")
      .replace(/[\u0300-\u036f]/g, "") // accents off: "Élection à Paris" → "Election a Paris"
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, "-")
      .replace(/^-|-$/g, ""); // runs are one "-" already; "-+$" would be retried from every dash
    if (plain.length <= SLUG_MAX) return plain;
    const cut = plain.slice(0, SLUG_MAX);
    const dash = cut.lastIndexOf("-");
    return dash > SLUG_MAX / 2 ? cut.slice(0, dash) : cut; // whole words where it can
  }

  // The article's title (its title block, else its first heading or text), as a file name.
  function fileName(extension) {
    const titled = view.querySelector(".row[data-kind=title] .cell.fr, .row[data-kind=heading] .cell.fr, .row .cell.fr");
    const words = titled ? titled.textContent.trim().split(/\s+/).slice(0, 12).join(" ") : "";
    return `${slug(words) || "translation"}.${extension}`;
  }

  // ---- the input, open or folded --------------------------------------------------------
  function firstLine(text) {
    const line = text.split("\n").find((l) => l.trim()) || "";
    return line.trim();
  }

  function setReading(reading) {
    form.hidden = reading;
    bar.hidden = !reading;
    document.body.classList.toggle("reading", reading);
    if (reading) summary.textContent = firstLine(source.value) || "The box is empty: the page shows a document.";
  }

  editButton.addEventListener("click", () => {
    editing = true;
    setReading(false);
    source.focus();
    window.scrollTo({ top: 0 });
  });
  // A new translation (button, Ctrl+Enter) folds the input again once its rows come.
  // The jobs panel (jobs.js) folds to its one line too, so the columns take the screen.
  const jobsPanel = byId("jobs");
  const foldJobs = () => {
    if (jobsPanel) jobsPanel.open = false;
  };
  form.addEventListener("submit", () => {
    editing = false;
    foldJobs();
  });
  source.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
      editing = false;
      foldJobs();
    }
  });
  // Files dragged over the folded page: the input opens to take them. Files dropped anywhere on the page go
  // where the input's own drop goes (a text, a document, a job): never does the browser open them instead.
  const hasFiles = (event) => event.dataTransfer && [...event.dataTransfer.types].includes("Files");
  document.addEventListener("dragenter", (event) => {
    if (form.hidden && hasFiles(event)) {
      editing = true;
      setReading(false);
    }
  });
  document.addEventListener("dragover", (event) => {
    if (hasFiles(event)) event.preventDefault();
  });
  document.addEventListener("drop", (event) => {
    if (!hasFiles(event) || form.contains(event.target)) return; // the input handled it
    event.preventDefault();
    form.dispatchEvent(new DragEvent("drop", { dataTransfer: event.dataTransfer, bubbles: true }));
  });

  // ---- sentences to check ---------------------------------------------------------------
  function flagged() {
    const found = [];
    for (const span of view.querySelectorAll(".cell.en .s")) {
      const marker = span.nextElementSibling;
      if (span.classList.contains("low") || (marker && marker.classList.contains("flag"))) found.push(span);
    }
    return found;
  }

  function reasons(span) {
    const marker = span.nextElementSibling;
    const said = [];
    if (marker && marker.classList.contains("flag") && marker.title) said.push(marker.title);
    if (span.classList.contains("low")) said.push("the model found this sentence hard");
    return said.join("; ");
  }

  checksButton.addEventListener("click", () => {
    const spans = flagged();
    if (!spans.length) return;
    view.classList.add("checking");
    checkIndex = (checkIndex + 1) % spans.length;
    const span = spans[checkIndex];
    span.scrollIntoView({ block: "center" });
    span.focus({ preventScroll: true });
    checksButton.textContent = `Sentence ${checkIndex + 1} of ${spans.length} to check — next`;
    if (window.bitextPage) window.bitextPage.setStatus(`To check: ${reasons(span)}.`, false);
  });

  // ---- one look at the page, once a frame -----------------------------------------------
  function refresh() {
    scheduled = false;
    const count = rows().length;
    const hasRows = count > 0;
    const inFlight = busy();
    const error = !errorBox.hidden;
    setReading(!result.hidden && (hasRows || inFlight) && !editing && !error);
    toolbar.hidden = !hasRows || inFlight;
    if (hasRows) jsonLink.download = fileName("json");
    if (!hasRows) {
      view.classList.remove("checking");
      checkIndex = -1;
    }
    const spans = inFlight ? [] : flagged();
    checksButton.hidden = spans.length === 0;
    if (checkIndex < 0 || checkIndex >= spans.length) {
      checkIndex = -1;
      checksButton.textContent = `${spans.length} sentence${spans.length === 1 ? "" : "s"} to check`;
    }
  }

  function later() {
    if (scheduled) return;
    scheduled = true;
    requestAnimationFrame(refresh);
  }

  new MutationObserver(later).observe(result, { attributes: true, attributeFilter: ["hidden", "aria-busy"] });
  new MutationObserver(later).observe(errorBox, { attributes: true, attributeFilter: ["hidden"] });
  // A new translation replaces the rows: the count of sentences to check starts again.
  new MutationObserver((changes) => {
    if (changes.some((c) => c.target === view && [...c.removedNodes].some((n) => n.classList && n.classList.contains("row")))) {
      checkIndex = -1;
      view.classList.remove("checking");
    }
    later();
  }).observe(view, { childList: true, subtree: true });

  window.bitextReading = { fileName, slug };
  refresh();
})();
