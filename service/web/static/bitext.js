// The live side-by-side page: posts to the public API, renders the response as aligned rows.
// Every text from the input or the model is inserted with createTextNode / textContent, never as HTML.
// The row layout follows service/web/layout.py and templates/_rows.html (the standalone export).
"use strict";

(() => {
  const config = JSON.parse(document.getElementById("bitext-config").textContent);
  const byId = (id) => document.getElementById(id);
  const form = byId("input-form");
  const source = byId("source");
  const format = byId("format");
  const fileInput = byId("file");
  const counter = byId("counter");
  const button = byId("translate");
  const progress = byId("progress");
  const statusText = byId("status-text");
  const errorBox = byId("error");
  const result = byId("result");
  const view = byId("bitext");
  const warningList = byId("warnings");
  const jsonLink = byId("download-json");
  const keyInput = byId("api-key");
  const cancelButton = byId("cancel");
  const KEY_STORAGE = "bitext.apiKey";

  const CELL_TAGS = { title: "h1", heading: "h2", verbatim: "pre" };
  const FILE_FORMATS = { txt: "text", md: "markdown", markdown: "markdown", html: "html", htm: "html" };
  let last = null;
  let jsonUrl = null;
  let ticker = null;
  let controller = null; // the request in flight, for Cancel
  let streamTotal = 0; // blocks the stream announced
  let streamSentences = 0; // sentences the stream announced
  let sentencesDone = 0; // sentences of the blocks arrived so far

  // ---- building DOM safely -------------------------------------------------------------
  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs || {})) node.setAttribute(name, String(value));
    for (const child of children) node.append(typeof child === "string" ? document.createTextNode(child) : child);
    return node;
  }

  const codePointLength = (text) => Array.from(text).length;
  const flagReason = (flag) => config.flags[flag] || flag.replace(/_/g, " ");

  function isWebUrl(url) {
    if (!url) return false;
    try {
      const parsed = new URL(url);
      return (parsed.protocol === "http:" || parsed.protocol === "https:") && parsed.host !== "";
    } catch {
      return false;
    }
  }

  // ---- the alignment: the same rules as layout.py -------------------------------------
  function tile(length, slice, spans, sentences) {
    const pieces = [];
    let cursor = 0;
    for (let i = 0; i < spans.length; i++) {
      const [start, end] = spans[i];
      if (start < cursor || end < start || end > length) return null;
      if (start > cursor) pieces.push({ text: slice(cursor, start) });
      const full = sentences[i];
      pieces.push({ text: slice(start, end), sentence: full.index, flags: full.flags || [], full });
      cursor = end;
    }
    if (cursor < length) pieces.push({ text: slice(cursor, length) });
    return pieces;
  }

  function frenchPieces(block) {
    const chars = Array.from(block.fr); // offsets are code points, not UTF-16 units
    const sentences = block.sentences || [];
    const slice = (a, b) => chars.slice(a, b).join("");
    const pieces = tile(chars.length, slice, sentences.map((s) => [s.start, s.end]), sentences);
    if (!pieces) return [{ text: block.fr }];
    const spoken = pieces.filter((p) => p.sentence !== undefined);
    if (spoken.some((p, i) => p.text !== sentences[i].fr)) return [{ text: block.fr }];
    return pieces;
  }

  function englishPieces(block) {
    const sentences = block.sentences || [];
    const spans = [];
    let cursor = 0;
    for (const s of sentences) {
      const at = block.en.indexOf(s.en, cursor);
      if (at < 0) break;
      spans.push([at, at + s.en.length]);
      cursor = at + s.en.length;
    }
    if (spans.length === sentences.length) {
      const pieces = tile(block.en.length, (a, b) => block.en.slice(a, b), spans, sentences);
      if (pieces) return pieces;
    }
    if (!sentences.length) return [{ text: block.en }];
    const chars = Array.from(block.fr);
    const rebuilt = [];
    sentences.forEach((s, i) => {
      if (i > 0) rebuilt.push({ text: chars.slice(sentences[i - 1].end, s.start).join("") || " " });
      rebuilt.push({ text: s.en, sentence: s.index, flags: s.flags || [], full: s });
    });
    return rebuilt;
  }

  // ---- inline markup and word alignment, drawn from the plain texts (never parsed as HTML) -------
  // A sentence with `fr_plain`/`en_plain` (options.alignment) is drawn from its plain text: each
  // word is a span `.w` that knows its aligned partners, and each mark (link, emphasis, code) is
  // an element over a range of code points. Markdown or HTML source text is never interpreted.
  function wordSpans(chars) {
    const spans = [];
    let i = 0;
    while (i < chars.length) {
      if (/\s/.test(chars[i])) {
        i += 1;
        continue;
      }
      let j = i;
      while (j < chars.length && !/\s/.test(chars[j])) j += 1;
      spans.push([i, j]);
      i = j;
    }
    return spans;
  }

  function wordAt(spans, offset) {
    let low = 0;
    let high = spans.length - 1;
    while (low <= high) {
      const mid = (low + high) >> 1;
      if (spans[mid][1] <= offset) low = mid + 1;
      else if (spans[mid][0] > offset) high = mid - 1;
      else return mid;
    }
    return -1;
  }

  // French word i ↔ English word j, from the token pairs [fr_start, fr_end, en_start, en_end].
  function wordLinks(sentence, frWords, enWords) {
    const fr = frWords.map(() => new Set());
    const en = enWords.map(() => new Set());
    for (const [a, , c] of sentence.alignment || []) {
      const i = wordAt(frWords, a);
      const j = wordAt(enWords, c);
      if (i < 0 || j < 0) continue;
      fr[i].add(j);
      en[j].add(i);
    }
    return { fr, en };
  }

  function markNode(mark) {
    if (mark.kind === "link" && isWebUrl(mark.url)) {
      return el("a", { href: mark.url, rel: "noopener noreferrer", target: "_blank", class: "mk-link" });
    }
    if (mark.kind === "strong" || mark.kind === "em" || mark.kind === "code") return el(mark.kind, {});
    const attrs = { class: `mk-${mark.kind}` };
    if (mark.url) attrs.title = mark.kind === "image" ? `image: ${mark.url}` : mark.url;
    return el("span", attrs); // a link that is not http(s), an image, a span: text, never live
  }

  // The plain text with its marks as nested elements and its words as spans; marks are outer-first.
  function richNodes(plain, marks, words, links) {
    const chars = Array.from(plain);
    const valid = (marks || []).filter((m) => 0 <= m.start && m.start <= m.end && m.end <= chars.length);
    const cuts = new Set([0, chars.length]);
    for (const [a, b] of words) cuts.add(a).add(b);
    for (const m of valid) cuts.add(m.start).add(m.end);
    const points = [...cuts].sort((x, y) => x - y);
    const root = document.createDocumentFragment();
    const stack = []; // [element, end]
    let next = 0; // next mark to open
    const parent = () => (stack.length ? stack[stack.length - 1][0] : root);
    for (let p = 0; p < points.length - 1; p++) {
      const [from, to] = [points[p], points[p + 1]];
      while (stack.length && stack[stack.length - 1][1] <= from) stack.pop();
      while (next < valid.length && valid[next].start <= from) {
        const mark = valid[next++];
        if (mark.end <= from) continue;
        // a mark that would cross its parent's end is drawn up to that end (never unbalanced)
        const end = stack.length ? Math.min(mark.end, stack[stack.length - 1][1]) : mark.end;
        const node = markNode(mark);
        parent().append(node);
        stack.push([node, end]);
      }
      const text = chars.slice(from, to).join("");
      const w = wordAt(words, from);
      if (w < 0) parent().append(document.createTextNode(text));
      else parent().append(el("span", { class: "w", "data-w": w, "data-links": [...links[w]].join(" ") }, text));
    }
    return root;
  }

  function sentenceContent(piece, side) {
    const s = piece.full;
    if (!s || typeof s.fr_plain !== "string" || typeof s.en_plain !== "string") return [piece.text];
    const frWords = wordSpans(Array.from(s.fr_plain));
    const enWords = wordSpans(Array.from(s.en_plain));
    const links = wordLinks(s, frWords, enWords);
    return side === "fr"
      ? [richNodes(s.fr_plain, s.fr_marks, frWords, links.fr)]
      : [richNodes(s.en_plain, s.en_marks, enWords, links.en)];
  }

  function pieceNodes(pieces, marks) {
    const nodes = [];
    for (const piece of pieces) {
      if (piece.sentence === undefined) {
        nodes.push(document.createTextNode(piece.text));
        continue;
      }
      const side = marks ? "en" : "fr";
      const attrs = { class: "s", "data-s": piece.sentence, tabindex: 0 };
      const full = piece.full || {};
      if (marks && typeof full.score === "number") {
        attrs["data-score"] = full.score.toFixed(2);
        if (full.score < config.lowScore) attrs.class += " low";
      }
      if (marks && Array.isArray(full.alternatives) && full.alternatives.length) attrs.class += " has-alts";
      nodes.push(el("span", attrs, ...sentenceContent(piece, side)));
      if (!marks || !piece.flags.length) continue;
      const title = piece.flags.map(flagReason).join("; "); // one marker per sentence, every reason in its title
      nodes.push(el("span", { class: "flag", "data-flags": piece.flags.join(" "), title, role: "img", "aria-label": `note: ${title}` }));
    }
    return nodes;
  }

  function media(block) {
    const box = el("div", { class: "media" });
    if (isWebUrl(block.url)) {
      const img = el("img", { src: block.url, alt: "", loading: "lazy", referrerpolicy: "no-referrer", decoding: "async" });
      img.addEventListener("error", () => {
        const link = el("a", { href: block.url, rel: "noreferrer noopener" }, `Image: ${block.url}`);
        img.replaceWith(el("span", { class: "unavailable" }, "The image could not be loaded: ", link));
      });
      box.append(img);
    } else if (block.url) {
      box.append(el("span", {}, `Image (not shown): ${block.url}`));
    }
    return box;
  }

  function renderRow(block) {
    const tag = CELL_TAGS[block.kind] || "p";
    const row = el("div", {
      class: `row kind-${block.kind}${block.translated ? "" : " kept"}${block.pending ? " pending" : ""}`,
      "data-block": block.index,
      "data-kind": block.kind,
    });
    if (block.kind === "image") row.append(media(block));
    row.append(
      el("div", { class: "cell fr", lang: "fr" }, el(tag, { class: "text" }, ...pieceNodes(frenchPieces(block), false))),
      el("div", { class: "cell en", lang: "en" },
        el(tag, { class: "text" }, ...(block.pending ? [placeholder()] : pieceNodes(englishPieces(block), true)))),
    );
    return row;
  }

  // A table cell joins its table: one row of the page holds the French table and the English one.
  function tableRow(table) {
    const lastRow = view.lastElementChild;
    if (lastRow && lastRow.dataset.table === String(table)) return lastRow;
    const row = el("div", { class: "row kind-table", "data-table": table },
      el("div", { class: "cell fr", lang: "fr" }, el("table", { class: "text-table" })),
      el("div", { class: "cell en", lang: "en" }, el("table", { class: "text-table" })));
    view.append(row);
    return row;
  }

  function tableCell(table, r, c, tag) {
    let tr = table.querySelector(`tr[data-r="${r}"]`);
    if (!tr) tr = table.appendChild(el("tr", { "data-r": r }));
    const cell = el(tag, { "data-c": c });
    // cells arrive in reading order; a missing (empty) one is an empty cell before it
    while (tr.children.length < c) tr.append(el(tag, {}));
    tr.append(cell);
    return cell;
  }

  function placeBlock(block) {
    if (block.kind !== "cell" || !Array.isArray(block.cell)) return view.append(renderRow(block));
    const [table, r, c] = block.cell;
    const row = tableRow(table);
    const tag = r === 0 ? "th" : "td";
    for (const [side, pieces, marks] of [["fr", frenchPieces(block), false], ["en", englishPieces(block), true]]) {
      const cell = tableCell(row.querySelector(`.cell.${side} table`), r, c, tag);
      cell.dataset.block = block.index;
      if (!block.translated) cell.classList.add("kept");
      if (block.pending && side === "en") {
        cell.classList.add("pending");
        cell.append(placeholder());
      } else {
        cell.append(...pieceNodes(pieces, marks));
      }
    }
  }

  function render(response) {
    picks.clear();
    closePicker();
    const heads = el("div", { class: "col-heads", "aria-hidden": "true" }, el("div", {}, "Français"), el("div", {}, "English"));
    view.replaceChildren(heads);
    for (const block of response.blocks) placeBlock(block);
    finish(response);
  }

  // Warnings and the JSON download, once the blocks that came are all on the page.
  function finish(response) {
    warningList.replaceChildren(...(response.warnings || []).map((w) => el("li", {}, w)));
    warningList.hidden = !(response.warnings || []).length;
    if (jsonUrl) URL.revokeObjectURL(jsonUrl);
    jsonUrl = URL.createObjectURL(new Blob([JSON.stringify(response, null, 2)], { type: "application/json" }));
    jsonLink.href = jsonUrl;
    result.hidden = false;
  }

  // A stream's place in the page: the whole French column at once from `start` (every block's
  // French and kind), an English placeholder per row; each English cell is filled in place as its
  // block arrives (`fillBlock`).
  function startStream(start) {
    picks.clear();
    closePicker();
    const heads = el("div", { class: "col-heads", "aria-hidden": "true" }, el("div", {}, "Français"), el("div", {}, "English"));
    view.replaceChildren(heads);
    warningList.replaceChildren();
    warningList.hidden = true;
    for (const block of Array.isArray(start.blocks) ? start.blocks : []) placeBlock({ ...block, en: "", sentences: [], pending: true });
    result.hidden = false;
    return { source_lang: "fr", target_lang: "en", model: start.model, format: start.format, blocks: [], stats: null, warnings: [] };
  }

  // The English placeholder of a block still on its way.
  function placeholder() {
    return el("span", { class: "pending", "aria-label": "English on its way" }, "…");
  }

  // A block that arrived takes its place: the row (or the table cells) drawn at `start` is redrawn
  // whole, so its French gains its sentences for hovering; without a placeholder it is appended.
  function fillBlock(block) {
    if (block.kind === "cell" && Array.isArray(block.cell)) {
      const cells = view.querySelectorAll(`.cell.fr [data-block="${block.index}"], .cell.en [data-block="${block.index}"]`);
      if (cells.length !== 2) return placeBlock(block);
      for (const [cell, pieces, marks] of [[cells[0], frenchPieces(block), false], [cells[1], englishPieces(block), true]]) {
        cell.classList.remove("pending");
        cell.classList.toggle("kept", !block.translated);
        cell.replaceChildren(...pieceNodes(pieces, marks));
      }
      return;
    }
    const row = view.querySelector(`.row[data-block="${block.index}"]`);
    if (row) row.replaceWith(renderRow(block));
    else placeBlock(block);
  }

  // Rows whose English never came say so (the French stays).
  function unfilled() {
    for (const mark of view.querySelectorAll("span.pending")) {
      mark.className = "untranslated";
      mark.removeAttribute("aria-label");
      mark.textContent = "(not translated)";
    }
    for (const waiting of view.querySelectorAll(".pending")) waiting.classList.remove("pending");
  }

  function streamProgress(done, total) {
    return `${done} of ${total} block${total === 1 ? "" : "s"}`;
  }

  // The progress bar, filled by the sentences done of those the stream announced.
  function fillProgress(done, total) {
    if (total > 0) {
      progress.max = total;
      progress.value = Math.min(done, total);
    } else {
      progress.removeAttribute("value");
    }
  }

  // Said in words where the stream stopped: right under the last block that arrived (the rows
  // after it keep their French, their English marked as not translated).
  function stoppedHere(message) {
    const notice = el("div", { class: "row stream-stop", role: "alert" }, el("p", {}, message));
    const arrived = last && last.blocks.length ? last.blocks[last.blocks.length - 1].index : null;
    const at = arrived === null ? null : view.querySelector(`[data-block="${arrived}"]`);
    const row = at ? at.closest(".row") : view.querySelector(".col-heads");
    if (row && row.nextSibling) row.after(notice);
    else view.append(notice);
  }

  // The events of an application/x-ndjson body, one parsed line at a time, as they arrive (the page's
  // stream here, a job's events in jobs.js).
  async function* ndjsonEvents(response) {
    const reader = response.body.getReader();
    const decoder = new TextDecoder();
    let buffered = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (value) buffered += decoder.decode(value, { stream: true });
      let newline;
      while ((newline = buffered.indexOf("\n")) >= 0) {
        const line = buffered.slice(0, newline).trim();
        buffered = buffered.slice(newline + 1);
        if (line) yield JSON.parse(line);
      }
      if (done) return;
    }
  }

  // The name a download is saved under: the server's (Content-Disposition, its UTF-8 form first), else `fallback`.
  function downloadName(response, fallback) {
    const disposition = response.headers.get("Content-Disposition") || "";
    const utf8 = /filename\*=utf-8''([^;\s]+)/i.exec(disposition); // what the server sends for a name beyond ASCII
    const named = /filename="([^"]+)"/.exec(disposition);
    try {
      if (utf8) return decodeURIComponent(utf8[1]);
    } catch {
      // a malformed escape: keep the plain name
    }
    return named ? named[1] : fallback;
  }

  // Reads application/x-ndjson: start, block…, end (or error). Returns how it ended.
  async function readStream(response) {
    streamTotal = 0;
    const handle = (event) => {
      if (event.type === "start") {
        streamTotal = Array.isArray(event.blocks) ? event.blocks.length : event.blocks;
        streamSentences = event.sentences || 0;
        sentencesDone = 0;
        last = startStream(event);
        fillProgress(0, streamSentences);
        setProgress(streamProgress(0, streamTotal));
      } else if (event.type === "block") {
        last.blocks.push(event.block);
        fillBlock(event.block);
        sentencesDone += (event.block.sentences || []).length;
        fillProgress(sentencesDone, streamSentences);
        setProgress(streamProgress(last.blocks.length, streamTotal));
      } else if (event.type === "end") {
        last.stats = event.stats;
        last.warnings = event.warnings || [];
        finish(last);
        const stats = last.stats;
        setStatus(`Translated ${stats.sentences} sentences in ${stats.blocks} blocks in ${stats.seconds.toFixed(1)} s (${last.model.name}).`, false);
        return "end";
      } else if (event.type === "error") {
        const detail = event.error || {};
        const where = last ? `after ${streamProgress(last.blocks.length, streamTotal)}` : "before the first block";
        const message = `The translation stopped ${where}: ${detail.message || "unknown error"} (${detail.code || "error"}).`;
        stoppedHere(message);
        unfilled();
        if (last) finish(last);
        setStatus(message, false);
        return "error";
      }
      return null;
    };
    for await (const event of ndjsonEvents(response)) {
      const ended = handle(event);
      if (ended) return ended;
    }
    const message = `The connection closed ${last ? `after ${streamProgress(last.blocks.length, streamTotal)}` : "early"}.`;
    stoppedHere(message);
    unfilled();
    if (last) finish(last);
    setStatus(message, false);
    return "cut";
  }

  // ---- alternatives: click (or Enter on) an English sentence, pick another translation ---------
  // Picks live beside the response (`picks`: "block:sentence" → text); Copy English uses them. A
  // picked alternative is plain text (alternatives carry no inline markup).
  const picks = new Map();
  let picker = null;

  function sentenceOf(span) {
    const owner = span.closest("[data-block]");
    if (!owner || !last) return null;
    const block = last.blocks.find((b) => String(b.index) === owner.dataset.block);
    const sentence = block && (block.sentences || []).find((s) => String(s.index) === span.dataset.s);
    return sentence ? { block, sentence } : null;
  }

  function closePicker() {
    if (picker) picker.remove();
    picker = null;
  }

  function choose(span, key, original, text) {
    if (text === original) picks.delete(key);
    else picks.set(key, text);
    span.replaceChildren(document.createTextNode(text));
    span.classList.toggle("picked", text !== original);
    closePicker();
    span.focus();
  }

  // The model's score (mean log-probability per token: 0 is sure, lower is less so, uncalibrated) in words;
  // the number itself is in the title, for whoever wants it.
  function sureness(score) {
    if (typeof score !== "number") return [];
    const words = score < config.lowScore ? "unsure of its choice" : score < config.lowScore / 2 ? "fairly sure" : "sure";
    const title = `model score ${score.toFixed(2)}: the mean log-probability of its words; closer to 0 is surer`;
    return [" · ", el("span", { class: "alts-sure", title }, `the model was ${words}`)];
  }

  function openPicker(span) {
    const found = sentenceOf(span);
    closePicker();
    if (!found || !Array.isArray(found.sentence.alternatives)) return;
    const { block, sentence } = found;
    const key = `${block.index}:${sentence.index}`;
    const current = picks.get(key) || sentence.en;
    const options = [sentence.en, ...sentence.alternatives];
    picker = el("div", { class: "alts", role: "listbox", "aria-label": "Other translations of this sentence" },
      el("p", { class: "alts-head" }, "Other translations from the model", ...sureness(sentence.score)));
    options.forEach((text, i) => {
      const item = el("button", { type: "button", class: "alt", role: "option", "aria-selected": String(text === current) },
        i === 0 ? `${text} (the model's choice)` : text);
      item.addEventListener("click", () => choose(span, key, sentence.en, text));
      picker.append(item);
    });
    if (!sentence.alternatives.length) picker.append(el("p", { class: "alts-none" }, "The beam held no other translation."));
    span.closest(".cell").append(picker);
    picker.querySelector(".alt").focus();
  }

  view.addEventListener("click", (event) => {
    if (event.target.closest(".alts") || event.target.closest("a")) return;
    const span = event.target.closest(".cell.en .s");
    if (span) openPicker(span);
    else closePicker();
  });
  view.addEventListener("keydown", (event) => {
    if (event.key === "Escape") return closePicker();
    const span = event.target.closest && event.target.closest(".cell.en .s");
    if (span && event.key === "Enter") {
      event.preventDefault();
      openPicker(span);
    }
  });

  // ---- highlight: sentence k of a block and its partner, on hover and on focus ---------
  // A block is a row of the page, or a French and an English table cell with the same data-block.
  function sentencesOf(span) {
    const owner = span.closest("[data-block]");
    if (!owner) return [span];
    const blocks = view.querySelectorAll(`[data-block="${CSS.escape(owner.dataset.block)}"]`);
    return [...blocks].flatMap((b) => [...b.querySelectorAll(`.s[data-s="${CSS.escape(span.dataset.s)}"]`)]);
  }

  function highlight(span) {
    for (const old of view.querySelectorAll(".s.hl")) old.classList.remove("hl");
    if (!span) return;
    for (const partner of sentencesOf(span)) partner.classList.add("hl");
  }
  // Word level: a word and the words aligned to it on the other side (data-links), both ways.
  function highlightWords(word) {
    for (const old of view.querySelectorAll(".w.wl")) old.classList.remove("wl");
    if (!word) return;
    const sentence = word.closest(".s");
    const cell = word.closest(".cell");
    if (!sentence || !cell) return;
    const partner = sentencesOf(sentence).find((s) => s.closest(".cell") !== cell);
    for (const piece of sentence.querySelectorAll(`.w[data-w="${CSS.escape(word.dataset.w)}"]`)) piece.classList.add("wl");
    if (!partner) return;
    for (const k of (word.dataset.links || "").split(" ").filter(Boolean)) {
      for (const piece of partner.querySelectorAll(`.w[data-w="${CSS.escape(k)}"]`)) piece.classList.add("wl");
    }
  }
  view.addEventListener("mouseover", (event) => highlightWords(event.target.closest(".w")));
  view.addEventListener("mouseleave", () => highlightWords(null));

  const focusedSentence = () => (view.contains(document.activeElement) ? document.activeElement.closest(".s") : null);
  view.addEventListener("mouseover", (event) => highlight(event.target.closest(".s") || focusedSentence()));
  view.addEventListener("mouseleave", () => highlight(focusedSentence()));
  view.addEventListener("focusin", (event) => highlight(event.target.closest(".s")));
  view.addEventListener("focusout", () => highlight(null));

  // ---- input: counter, files, submit ---------------------------------------------------
  function updateCounter() {
    const n = codePointLength(source.value);
    const over = n > config.maxChars;
    counter.textContent = `${n.toLocaleString("en")} / ${config.maxChars.toLocaleString("en")} characters`;
    counter.classList.toggle("over", over);
    source.setAttribute("aria-invalid", String(over));
    button.disabled = over || ticker !== null;
  }

  function estimateSentences(text) {
    let n = 0;
    for (const line of text.split(/\n/)) {
      if (!line.trim()) continue;
      // Each run of end marks is matched once and its next character looked at by hand: a lookahead
      // after `[.!?…]+` backtracks through the whole run at every start (quadratic on "......").
      let ends = 0;
      for (const run of line.matchAll(/[.!?…]+/g)) {
        const next = line.charAt(run.index + run[0].length);
        if (next === "" || /[\s»"')\]]/.test(next)) ends += 1;
      }
      n += Math.max(1, ends);
    }
    return n;
  }

  function showError(message) {
    errorBox.textContent = message;
    errorBox.hidden = false;
  }

  function setStatus(message, busy) {
    statusText.textContent = message;
    progress.hidden = !busy;
  }

  let progressText = "";
  let busyStarted = 0;
  let busySentences = 0;
  function busyTick() {
    const seconds = Math.round((performance.now() - busyStarted) / 1000);
    const what = progressText || `${busySentences} sentence${busySentences === 1 ? "" : "s"}`;
    setStatus(`Translating ${what}… ${seconds} s`, true);
  }

  function setProgress(text) {
    progressText = text;
    if (ticker !== null) busyTick();
  }

  function setBusy(sentences) {
    busyStarted = performance.now();
    busySentences = sentences;
    progressText = "";
    progress.removeAttribute("value"); // moving until a stream says how many sentences there are
    busyTick();
    ticker = setInterval(busyTick, 1000);
    result.setAttribute("aria-busy", "true");
    cancelButton.hidden = false;
    updateCounter();
  }

  function setIdle() {
    clearInterval(ticker);
    ticker = null;
    controller = null;
    cancelButton.hidden = true;
    result.removeAttribute("aria-busy");
    updateCounter();
  }

  // ---- the API key: this tab only (sessionStorage), sent as a header, never in a URL -------
  function storedKey() {
    try {
      return sessionStorage.getItem(KEY_STORAGE) || "";
    } catch {
      return "";
    }
  }

  function saveKey() {
    try {
      const key = keyInput.value.trim();
      if (key) sessionStorage.setItem(KEY_STORAGE, key);
      else sessionStorage.removeItem(KEY_STORAGE);
    } catch {
      // storage off (private mode): the key still works for this page
    }
  }

  function apiHeaders(headers) {
    const key = config.keyRequired ? keyInput.value.trim() : "";
    return key ? { ...headers, Authorization: `Bearer ${key}` } : headers;
  }

  async function apiError(response) {
    let body = null;
    try {
      body = await response.json();
    } catch {
      body = null;
    }
    const detail = body && body.error ? body.error : null;
    if (response.status === 401) {
      if (config.keyRequired) keyInput.focus();
      return keyInput.value.trim()
        ? "The server refused the API key (HTTP 401): check it in the API key field."
        : "This server needs an API key (HTTP 401): enter it in the API key field, then translate again.";
    }
    if (response.status === 503) {
      const wait = response.headers.get("Retry-After");
      return `The server is not ready: ${detail ? detail.message : "try again shortly"}${wait ? ` (retry in ${wait} s)` : ""}.`;
    }
    if (detail) return `The text was not translated: ${detail.message} (${detail.code}, HTTP ${response.status}).`;
    return `The server answered HTTP ${response.status} ${response.statusText}.`;
  }

  // What the page asks for besides the translation: word alignment (hover, markup), the model's
  // score per sentence (low ones are marked) and other translations from the beam (click to pick).
  function requestOptions() {
    const options = { alignment: true, scores: true };
    if (config.alternatives > 0) options.alternatives = config.alternatives;
    return options;
  }

  async function translate() {
    const text = source.value;
    errorBox.hidden = true;
    if (!text.trim()) return showError("There is nothing to translate: paste or drop a French article first.");
    if (codePointLength(text) > config.maxChars) {
      return showError(`The text is longer than the server accepts (${config.maxChars.toLocaleString("en")} characters).`);
    }
    if (ticker !== null) return;
    setBusy(estimateSentences(text));
    controller = new AbortController();
    last = null;
    try {
      const response = await fetch(config.translateUrl, {
        method: "POST",
        headers: apiHeaders({ "Content-Type": "application/json", Accept: "application/x-ndjson, application/json;q=0.5" }),
        body: JSON.stringify({ text, format: format.value, options: requestOptions() }),
        signal: controller.signal,
      });
      if (!response.ok) {
        setStatus("", false);
        return showError(await apiError(response));
      }
      if ((response.headers.get("Content-Type") || "").startsWith("application/x-ndjson")) {
        await readStream(response);
        return;
      }
      last = await response.json();
      render(last);
      const stats = last.stats;
      setStatus(`Translated ${stats.sentences} sentences in ${stats.blocks} blocks in ${stats.seconds.toFixed(1)} s (${last.model.name}).`, false);
    } catch (error) {
      if (error.name === "AbortError") {
        const message = last && last.blocks.length
          ? `Cancelled after ${streamProgress(last.blocks.length, streamTotal)}; the translated blocks stay on the page.`
          : "Cancelled before any English arrived: nothing was translated.";
        unfilled();
        if (last) finish(last);
        setStatus(message, false);
      } else {
        setStatus("", false);
        showError(`The translation server did not answer (${error.message}); check the connection and try again.`);
      }
    } finally {
      setIdle();
    }
  }

  cancelButton.addEventListener("click", () => {
    if (controller) controller.abort();
  });

  async function loadFile(file) {
    const extension = (file.name.split(".").pop() || "").toLowerCase();
    errorBox.hidden = true;
    const documents = window.bitextDocuments; // documents.js: .srt, .docx, .epub… go through /v1/jobs
    if (documents && documents.accepts(file.name)) return documents.open(file);
    if (!(extension in FILE_FORMATS)) {
      const also = documents ? `, or a ${documents.suffixes.join(", ")} document,` : "";
      const archives = window.bitextJobs ? ` An archive (${window.bitextJobs.archiveSuffixes.join(", ")}) becomes a job.` : "";
      return showError(`${file.name}: only .txt, .md and .html files${also} can be opened.${archives}`);
    }
    try {
      source.value = await file.text();
    } catch (error) {
      return showError(`${file.name} could not be read (${error.message}).`);
    }
    format.value = FILE_FORMATS[extension];
    updateCounter();
    setStatus(`Loaded ${file.name}.`, false);
  }

  // Several files, or an archive (.zip, .tar, .warc, .jsonl): one job, followed in the jobs panel (jobs.js).
  function loadFiles(files) {
    const jobs = window.bitextJobs;
    if (jobs && jobs.accepts(files)) return jobs.submit([...files]);
    return loadFile(files[0]);
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    translate();
  });
  source.addEventListener("input", updateCounter);
  keyInput.value = storedKey();
  keyInput.addEventListener("input", saveKey);
  source.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      translate();
    }
  });
  fileInput.addEventListener("change", () => fileInput.files.length && loadFiles(fileInput.files));
  form.addEventListener("dragover", (event) => {
    event.preventDefault();
    form.classList.add("dragging");
  });
  form.addEventListener("dragleave", () => form.classList.remove("dragging"));
  form.addEventListener("drop", (event) => {
    event.preventDefault();
    form.classList.remove("dragging");
    if (event.dataTransfer.files.length) loadFiles(event.dataTransfer.files);
  });

  // ---- output: copy and downloads -------------------------------------------------------
  // The English of a block with the reader's picks in place of the model's sentences.
  function pickedEnglish(block) {
    if (![...picks.keys()].some((key) => key.startsWith(`${block.index}:`))) return block.en;
    return englishPieces(block)
      .map((piece) => (piece.sentence === undefined ? piece.text : picks.get(`${block.index}:${piece.sentence}`) ?? piece.text))
      .join("");
  }
  const englishText = (response) =>
    response.blocks.map((b) => (b.prefix || "") + pickedEnglish(b) + (b.suffix || "")).join("\n\n") + "\n";

  byId("copy-en").addEventListener("click", async () => {
    if (!last) return;
    try {
      await navigator.clipboard.writeText(englishText(last));
      setStatus("The English is on the clipboard.", false);
    } catch (error) {
      showError(`Copy is not available here (${error.message}); use Download JSON instead.`);
    }
  });

  byId("download-html").addEventListener("click", async () => {
    if (!last) return;
    try {
      const response = await fetch(config.exportUrl, {
        method: "POST",
        headers: apiHeaders({ "Content-Type": "application/json" }),
        body: JSON.stringify(last),
      });
      if (!response.ok) return showError(await apiError(response));
      const url = URL.createObjectURL(await response.blob());
      const name = window.bitextReading ? window.bitextReading.fileName("html") : "translation.html";
      const link = el("a", { href: url, download: name, hidden: "" });
      document.body.append(link);
      link.click();
      link.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10000);
    } catch (error) {
      showError(`Could not build the HTML file (${error.message}).`);
    }
  });

  // The hook documents.js uses: show a translation (it becomes what Copy and the downloads use), say things.
  window.bitextPage = {
    show: (response) => {
      last = response;
      render(response);
    },
    setStatus,
    showError,
    apiHeaders,
    apiError,
    ndjsonEvents, // the events of a streamed answer (jobs.js reads a job's with it)
    downloadName, // a download's file name from its response (jobs.js, documents.js)
    current: () => last, // the answer on the page (edit.js reads its sentences)
    picks, // "block:sentence" → the reader's English (picked or edited); Copy English uses it
    closePicker,
    sentencesOf, // a sentence span and its partner in the other language (review.js marks both)
  };

  updateCounter();
})();
