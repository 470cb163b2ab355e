// Editing the English in the page: a corrected sentence is stored in the caller's translation memory
// (POST /v1/memory/units) and marked as a human translation; Ctrl+Z or Undo puts the previous English back.
// It also marks the sentences the memory answered (`source` memory:*) and offers the memory's fuzzy
// suggestion in the alternatives picker. It works on what bitext.js drew (window.bitextPage), never on
// the stream; every text goes in as a text node.
"use strict";

(() => {
  const config = JSON.parse(document.getElementById("bitext-config").textContent);
  const view = document.getElementById("bitext");
  const page = () => window.bitextPage;
  const unitsUrl = config.memoryUnitsUrl;
  const SENTENCE = ".cell.en .s";
  const undoStack = []; // {span, key, nodes, className, title, source, picked, english, unit}
  let box = null; // the open editor
  let lastSpan = null; // the sentence whose picker is open
  let note = null; // "Saved … Undo"

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs || {})) node.setAttribute(name, String(value));
    for (const child of children) node.append(typeof child === "string" ? document.createTextNode(child) : child);
    return node;
  }

  // ---- the sentence under a span, and its French neighbours (the memory's context) ----------
  function found(span) {
    const answer = page() && page().current();
    const owner = span.closest("[data-block]");
    if (!answer || !owner) return null;
    const block = answer.blocks.find((b) => String(b.index) === owner.dataset.block);
    const sentence = block && (block.sentences || []).find((s) => String(s.index) === span.dataset.s);
    return sentence ? { answer, block, sentence, key: `${block.index}:${sentence.index}` } : null;
  }

  // What the memory knows a sentence by: its French without inline markup (what the model is sent).
  const plainFrench = (sentence) => (typeof sentence.fr_plain === "string" ? sentence.fr_plain : sentence.fr);

  const plainEnglish = (sentence) => (typeof sentence.en_plain === "string" ? sentence.en_plain : sentence.en);

  // The translated sentences in reading order, as the server looks them up: the one before and after.
  function context(answer, sentence) {
    const order = answer.blocks
      .slice()
      .sort((a, b) => a.index - b.index)
      .flatMap((b) => (b.sentences || []).filter((s) => s.source !== "kept"));
    const at = order.indexOf(sentence);
    return {
      previous: at > 0 ? plainFrench(order[at - 1]) : "",
      next: at >= 0 && at + 1 < order.length ? plainFrench(order[at + 1]) : "",
    };
  }

  // ---- where each English sentence came from: memory:* marked, the tier and match in the title ----
  function mark(span) {
    if (span.dataset.marked) return;
    const hit = found(span);
    if (!hit) return;
    span.dataset.marked = "1";
    const source = hit.sentence.source || "model";
    span.dataset.source = source;
    if (source.startsWith("memory:")) {
      span.classList.add("mem");
      const match = typeof hit.sentence.match === "number" ? ` (${hit.sentence.match} % match)` : "";
      span.title = `source: ${source}${match}: from your translation memory`;
    }
  }

  // ---- the editor ---------------------------------------------------------------------------
  function closeEditor() {
    if (!box) return;
    box.span.classList.remove("editing");
    box.node.remove();
    box = null;
  }

  function openEditor(span, initial) {
    const hit = found(span);
    if (!hit) return;
    closeEditor();
    page().closePicker();
    const shown = page().picks.get(hit.key) ?? plainEnglish(hit.sentence);
    const area = el("textarea", { class: "edit-text", rows: 3, lang: "en", spellcheck: "true", "aria-label": "The English of this sentence" });
    area.value = initial ?? shown;
    const save = el("button", { type: "button", class: "primary edit-save" }, "Save");
    const cancel = el("button", { type: "button", class: "edit-cancel" }, "Cancel");
    const problem = el("p", { class: "edit-problem", role: "alert", hidden: "" });
    const node = el("div", { class: "edit-box", role: "group", "aria-label": "Edit the English" },
      area,
      el("div", { class: "edit-actions" }, save, cancel,
        el("span", { class: "edit-hint" }, "Enter saves to your memory, Shift+Enter starts a new line, Esc cancels.")),
      problem);
    box = { span, node, hit, area, problem, save };
    span.classList.add("editing");
    span.closest(".cell").append(node);
    save.addEventListener("click", () => store());
    cancel.addEventListener("click", () => {
      closeEditor();
      span.focus({ preventScroll: true });
    });
    area.addEventListener("keydown", (event) => {
      if (event.key === "Escape") {
        event.preventDefault();
        closeEditor();
        span.focus({ preventScroll: true });
      } else if (event.key === "Enter" && !event.shiftKey) {
        event.preventDefault();
        store();
      }
    });
    area.focus({ preventScroll: true });
    area.select();
  }

  // `picked`: the English is the model's own, one of its alternatives or the memory's suggestion, unchanged.
  function origin(sentence, english) {
    const offered = [plainEnglish(sentence), ...(sentence.alternatives || [])];
    if (sentence.suggestion) offered.push(sentence.suggestion.en);
    return offered.includes(english) ? "picked" : "edit";
  }

  async function post(hit, english) {
    const { previous, next } = context(hit.answer, hit.sentence);
    const body = { source: plainFrench(hit.sentence), english, previous, next, origin: origin(hit.sentence, english) };
    const response = await fetch(unitsUrl, {
      method: "POST",
      headers: page().apiHeaders({ "Content-Type": "application/json" }),
      body: JSON.stringify(body),
    });
    if (!response.ok) throw new Error(await page().apiError(response));
    return response.json();
  }

  function show(span, key, english, unit) {
    page().picks.set(key, english);
    span.replaceChildren(document.createTextNode(english));
    span.classList.remove("mem", "picked");
    span.classList.add("human");
    span.dataset.source = unit.origin;
    span.title = `source: ${unit.origin}: a human translation, kept in your memory`;
  }

  async function store() {
    if (!box || box.busy) return;
    const current = box;
    const english = current.area.value.replace(/\s+/g, " ").trim();
    if (!english) {
      current.problem.textContent = "An empty sentence cannot be saved: write its English, or cancel.";
      current.problem.hidden = false;
      return;
    }
    current.busy = true;
    current.save.disabled = true;
    const { span, hit } = current;
    let unit;
    try {
      unit = await post(hit, english);
    } catch (error) {
      current.problem.textContent = `Not saved: ${error.message}`;
      current.problem.hidden = false;
      current.busy = false;
      current.save.disabled = false;
      return;
    }
    undoStack.push({
      span,
      key: hit.key,
      hit,
      nodes: [...span.childNodes],
      className: span.className,
      title: span.title,
      source: span.dataset.source,
      picked: page().picks.get(hit.key),
      english: page().picks.get(hit.key) ?? plainEnglish(hit.sentence),
    });
    show(span, hit.key, english, unit);
    closeEditor();
    span.focus({ preventScroll: true });
    say(`Saved to your memory (${unit.origin}).`, true);
  }

  // ---- undo: the previous English back on the page and, superseding the edit, in the memory --------
  async function undo() {
    const entry = undoStack.pop();
    if (!entry) return;
    const { span, key } = entry;
    span.replaceChildren(...entry.nodes);
    span.className = entry.className;
    span.title = entry.title;
    if (entry.source === undefined) delete span.dataset.source;
    else span.dataset.source = entry.source;
    if (entry.picked === undefined) page().picks.delete(key);
    else page().picks.set(key, entry.picked);
    try {
      await post(entry.hit, entry.english);
      say("Undone: the previous English is back, on the page and in your memory (the edit stays in its history).", undoStack.length > 0);
    } catch (error) {
      say(`Undone on the page, but the memory still holds the edit: ${error.message}`, undoStack.length > 0);
    }
  }

  function say(text, canUndo) {
    if (!note) {
      note = el("div", { id: "edit-note", class: "edit-note", role: "status", "aria-live": "polite" },
        el("span", { class: "edit-note-text" }),
        el("button", { type: "button", id: "edit-undo" }, "Undo"));
      note.querySelector("button").addEventListener("click", () => undo());
      document.body.append(note);
    }
    note.querySelector(".edit-note-text").textContent = text;
    note.querySelector("button").hidden = !canUndo;
    note.hidden = false;
  }

  // ---- the alternatives picker: an Edit button, and the memory's fuzzy suggestion with its percentage ----
  function extendPicker(picker) {
    if (!lastSpan || picker.dataset.extended) return;
    const span = lastSpan;
    const hit = found(span);
    if (!hit) return;
    picker.dataset.extended = "1";
    const suggestion = hit.sentence.suggestion;
    if (suggestion && typeof suggestion.en === "string") {
      const use = el("button", { type: "button", class: "alt alt-memory", title: `from your memory: ${suggestion.fr}` },
        el("span", { class: "alt-match" }, `memory ${suggestion.match} %`), " ", suggestion.en);
      use.addEventListener("click", () => openEditor(span, suggestion.en));
      picker.append(use);
    }
    const edit = el("button", { type: "button", class: "alt-edit" }, "Edit this sentence…");
    edit.addEventListener("click", () => openEditor(span));
    picker.append(edit);
  }

  // The hook review.js uses: open the editor on an English sentence of the page.
  window.bitextEdit = { open: (span) => openEditor(span) };

  new MutationObserver(() => {
    // A new translation replaced the page: edits of the old one can no longer be undone here.
    if (box && !box.span.isConnected) box = null;
    if (undoStack.length && !undoStack[undoStack.length - 1].span.isConnected) {
      undoStack.length = 0;
      if (note) note.hidden = true;
    }
    for (const span of view.querySelectorAll(`${SENTENCE}:not([data-marked])`)) mark(span);
    const picker = view.querySelector(".alts:not([data-extended])");
    if (picker) extendPicker(picker);
  }).observe(view, { childList: true, subtree: true });

  view.addEventListener("click", (event) => {
    const span = event.target.closest && event.target.closest(SENTENCE);
    if (span) lastSpan = span;
  }, true);
  view.addEventListener("dblclick", (event) => {
    const span = event.target.closest && event.target.closest(SENTENCE);
    if (!span || event.target.closest(".edit-box")) return;
    event.preventDefault();
    const selection = window.getSelection();
    if (selection) selection.removeAllRanges();
    openEditor(span);
  });
  view.addEventListener("keydown", (event) => {
    const span = event.target.closest && event.target.closest(SENTENCE);
    if (span && event.key === "F2") {
      event.preventDefault();
      openEditor(span);
    } else if (span && event.key === "Enter") {
      lastSpan = span;
    }
  }, true);
  document.addEventListener("keydown", (event) => {
    const typing = event.target.closest && event.target.closest("textarea, input, select, [contenteditable]");
    if (typing || !(event.ctrlKey || event.metaKey) || event.key.toLowerCase() !== "z" || event.shiftKey) return;
    if (!undoStack.length) return;
    event.preventDefault();
    undo();
  });
})();
