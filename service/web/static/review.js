// The review queue: step through the translated sentences worst first, so an editor's time goes where the
// model is least sure. Order: sentences with a quality flag first, then by the model's score (the page asks
// for `options.scores`), lowest first; sentences the memory answered (`source` memory:context, exact,
// placeables) come last; a sentence edited in the page (edit.js marks it `.human`) leaves the queue, and
// comes back if the edit is undone. It reads what bitext.js drew (window.bitextPage) and opens edit.js's
// editor (window.bitextEdit); it never touches the stream.
"use strict";

(() => {
  const byId = (id) => document.getElementById(id);
  const view = byId("bitext");
  const result = byId("result");
  const button = byId("review");
  const bar = byId("review-bar");
  const position = byId("review-position");
  const SENTENCE = ".cell.en .s";
  const ANSWERED = new Set(["memory:context", "memory:exact", "memory:placeables"]);
  const page = () => window.bitextPage;

  let active = false;
  let current = null; // the English span under review
  let scheduled = false;

  // ---- the sentences a page draws, from the answer on it: "block:sentence" → sentence ----------
  function sentencesByKey() {
    const answer = page() && page().current();
    const found = new Map();
    for (const block of (answer && answer.blocks) || []) {
      for (const sentence of block.sentences || []) found.set(`${block.index}:${sentence.index}`, sentence);
    }
    return found;
  }

  // Worst first: flagged, then lower score, then memory answers; reading order breaks ties.
  function rank(sentence) {
    const answered = ANSWERED.has(sentence.source) ? 1 : 0;
    const flagged = (sentence.flags || []).length ? 0 : 1;
    const score = typeof sentence.score === "number" ? sentence.score : 0;
    return [answered, flagged, score];
  }

  // Every translated English sentence in queue order (edited ones included: they are marked done).
  function ordered() {
    const entries = [];
    const sentences = sentencesByKey();
    const seen = new Set(); // a sentence drawn in pieces is visited once, at its first piece
    view.querySelectorAll(SENTENCE).forEach((span, at) => {
      const owner = span.closest("[data-block]");
      const key = owner && `${owner.dataset.block}:${span.dataset.s}`;
      const sentence = key && sentences.get(key);
      if (!sentence || sentence.source === "kept" || seen.has(key)) return;
      seen.add(key);
      entries.push({ span, sentence, at, key: rank(sentence) });
    });
    entries.sort((a, b) => {
      for (let i = 0; i < a.key.length; i += 1) if (a.key[i] !== b.key[i]) return a.key[i] - b.key[i];
      return a.at - b.at;
    });
    return entries;
  }

  const done = (span) => span.classList.contains("human");
  const waiting = () => ordered().filter((entry) => !done(entry.span));

  function reasons(entry) {
    const said = [];
    const flags = entry.sentence.flags || [];
    if (flags.length) said.push(`flagged: ${flags.map((f) => f.replace(/_/g, " ")).join(", ")}`);
    if (typeof entry.sentence.score === "number") said.push(`model score ${entry.sentence.score.toFixed(2)}`);
    if (ANSWERED.has(entry.sentence.source)) said.push(`from your memory (${entry.sentence.source})`);
    return said.join("; ");
  }

  // ---- showing where the reviewer is -----------------------------------------------------------
  function unmark() {
    for (const old of view.querySelectorAll(".s.review-current")) old.classList.remove("review-current");
  }

  function describe() {
    const queue = waiting();
    const at = current ? queue.findIndex((entry) => entry.span === current) : -1;
    if (at >= 0) position.textContent = `${at + 1} of ${queue.length}`;
    else if (current && done(current)) position.textContent = `edited — ${queue.length} left`;
    else position.textContent = `${queue.length} to review`;
    byId("review-previous").disabled = !queue.length;
    byId("review-next").disabled = !queue.length;
    byId("review-edit").disabled = !current || !current.isConnected;
  }

  function visit(entry) {
    unmark();
    current = entry.span;
    for (const span of page().sentencesOf(current)) span.classList.add("review-current");
    current.scrollIntoView({ block: "center" });
    current.focus({ preventScroll: true });
    describe();
    if (page()) page().setStatus(`Review: ${reasons(entry)}.`, false);
  }

  // The next (step 1) or previous (step -1) sentence still waiting, from where the reviewer is.
  function step(direction) {
    const all = ordered();
    const from = current ? all.findIndex((entry) => entry.span === current) : -1;
    const count = all.length;
    for (let i = 1; i <= count; i += 1) {
      const at = from < 0 ? (direction > 0 ? i - 1 : count - i) : (((from + direction * i) % count) + count) % count;
      if (!done(all[at].span)) return visit(all[at]);
    }
    describe();
  }

  function edit() {
    if (!current || !current.isConnected || !window.bitextEdit) return;
    window.bitextEdit.open(current);
  }

  function start() {
    active = true;
    bar.hidden = false;
    button.setAttribute("aria-pressed", "true");
    view.classList.add("reviewing");
    current = null;
    step(1);
  }

  function stop() {
    active = false;
    bar.hidden = true;
    button.setAttribute("aria-pressed", "false");
    view.classList.remove("reviewing");
    unmark();
    current = null;
  }

  button.addEventListener("click", () => (active ? stop() : start()));
  byId("review-next").addEventListener("click", () => step(1));
  byId("review-previous").addEventListener("click", () => step(-1));
  byId("review-edit").addEventListener("click", edit);
  byId("review-close").addEventListener("click", stop);

  // J/K or Alt+↓/↑ step, Enter or F2 on the sentence under review opens the editor, Esc ends the review.
  // Captured on the document, before bitext.js opens its picker on Enter.
  document.addEventListener("keydown", (event) => {
    if (!active || event.ctrlKey || event.metaKey) return;
    const typing = event.target.closest && event.target.closest("textarea, input, select, [contenteditable]");
    if (typing) return;
    const key = event.key;
    let act = null;
    if ((!event.altKey && (key === "j" || key === "J")) || (event.altKey && key === "ArrowDown")) act = () => step(1);
    else if ((!event.altKey && (key === "k" || key === "K")) || (event.altKey && key === "ArrowUp")) act = () => step(-1);
    else if ((key === "Enter" || key === "F2") && current && document.activeElement === current) act = edit;
    else if (key === "Escape" && !view.querySelector(".alts")) act = stop;
    if (!act) return;
    event.preventDefault();
    event.stopPropagation();
    act();
  }, true);

  // ---- one look at the page, once a frame: the button shows when there is something to review ----
  function refresh() {
    scheduled = false;
    const inFlight = result.getAttribute("aria-busy") === "true";
    const count = inFlight ? 0 : ordered().length;
    button.hidden = count === 0;
    if (active && (count === 0 || (current && !current.isConnected))) stop(); // a new translation: start afresh
    if (active) describe();
  }

  function later() {
    if (scheduled) return;
    scheduled = true;
    requestAnimationFrame(refresh);
  }

  new MutationObserver(later).observe(result, { attributes: true, attributeFilter: ["hidden", "aria-busy"] });
  new MutationObserver(later).observe(view, { childList: true, subtree: true });
  // An edit saved (or undone) in edit.js turns `.human` on (or off): the queue changes.
  const humanChanged = (c) => c.type === "attributes" && (c.oldValue || "").split(" ").includes("human") !== c.target.classList.contains("human");
  new MutationObserver((changes) => {
    if (changes.some(humanChanged)) later();
  }).observe(view, { subtree: true, attributes: true, attributeFilter: ["class"], attributeOldValue: true });
  refresh();
})();
