// The detector's hot loops (see detect.rs: `Inner::walk_some`, `Inner::walk_links` and
// `Inner::next_source`), kept in JavaScript on purpose: they touch every text node and link of
// the page (86,000 text nodes on the benchmark's list) and every row a page adds, and from wasm
// each node costs several calls across the boundary (next node, its text, its length, the digit
// test) before anything is known about it; here those are plain property reads, and wasm gets
// only the candidates. What they decide is configured from Rust (`walk_filter`): the digit test,
// the skipped contexts, the container tags, the shape of a number and the dial schemes, so
// the rules live in one place.
//
// They only read the page (no layout), and run in the content script's isolated world, so the
// page's own scripts cannot change the DOM methods they call.

/**
 * Walks text nodes from `walker` until it ends (returns true), `deadline` (performance.now())
 * passes or `max` candidates were found (returns false). A candidate holds a digit and sits
 * outside every skipped context; when it is alone in a container, it must also pass `f.phone`
 * (see `textCandidate`). Each is pushed onto `out` as three items: the node, its text, and
 * whether it is alone in its container (a cell or paragraph with no other text to read it with).
 */
export function walkTexts(walker, deadline, f, out, max) {
  let n = 0;
  for (;;) {
    const node = walker.nextNode();
    if (node === null) return true;
    if (textCandidate(node, f, out) && out.length >= max * 3) return false;
    if ((++n & 31) === 0 && performance.now() > deadline) return false;
  }
}

/**
 * Pushes the text node `node` onto `out` as (node, text, alone) if it is a candidate (see
 * `walkTexts`); true if it was. The one test of a text node, also for one the page changed.
 * A node alone in its container is its whole run, so it is held to `f.phone` (the shape of a
 * number for the agent's region, see protocol's candidate.rs) before anything else: dates,
 * amounts and ids, most of the digits of a CRM list, stop here.
 */
export function textCandidate(node, f, out) {
  const d = node.data;
  if (d.length < 3 || !f.digit.test(d)) return false;
  const p = node.parentElement;
  if (p === null) return false;
  const alone =
    node.previousSibling === null && node.nextSibling === null && f.block.has(p.localName);
  if (alone && !f.phone.test(d)) return false;
  if (!outsideSkip(p, f)) return false;
  out.push(node, d, alone);
  return true;
}

/** `new RegExp(source, flags)`, or null if this engine refuses it. */
export function regexp(source, flags) {
  try {
    return new RegExp(source, flags);
  } catch {
    return null;
  }
}

/**
 * What the detector needs from `root`, a node the page added (a list adds each row as one):
 * pushes onto `links` the unmarked dial links in and under it, and returns a walker over its
 * text when `texts` is true and it is an element outside every skipped context, else null.
 */
export function prepareRoot(root, f, links, texts) {
  if (!root.isConnected || root.nodeType !== 1) return null;
  // A tag collection and the scheme test rather than a selector query per root (each query
  // matches a four-part selector list against every element under it).
  if (root.localName === 'a') dialLink(root, f, links);
  for (const a of root.getElementsByTagName('a')) dialLink(a, f, links); // descendants only
  if (!texts || !outsideSkip(root, f)) return null;
  return root.ownerDocument.createTreeWalker(root, 4 /* NodeFilter.SHOW_TEXT */);
}

/** Pushes `a` onto `links` if it is an unmarked link whose `href` starts with a dial scheme. */
function dialLink(a, f, links) {
  if (a.hasAttribute(f.mark)) return;
  const href = a.getAttribute('href');
  if (href !== null && f.dial.test(href)) links.push(a);
}

/**
 * Goes through `links` (the page's `document.links`) from index `from` until it ends, `deadline`
 * passes or `max` were found, pushing onto `out` each link not marked yet whose `href` starts
 * with a dial scheme (`f.dial`; Rust checks each one fully). Returns the index to go on from
 * (`links.length` when done). Most of a CRM page's links go elsewhere: they never reach wasm.
 */
export function walkLinks(links, from, deadline, f, out, max) {
  const n = links.length;
  let i = from;
  while (i < n) {
    const a = links[i++];
    dialLink(a, f, out);
    if (out.length >= max) return i;
    if ((i & 31) === 0 && performance.now() > deadline) return i;
  }
  return i;
}

/**
 * True if neither `el` nor an ancestor is a skipped context: by tag, and by the whole selector
 * only for an element with attributes (a selector list of thirty entries matched against every
 * ancestor of every candidate was most of the walk's time). Elements found clear are kept in
 * `f.clear` (a WeakSet that Rust replaces on every page change, which may move an element), so
 * the next cell of a row costs one check.
 */
function outsideSkip(el, f) {
  let top = el;
  for (; top !== null; top = top.parentElement) {
    if (f.clear.has(top)) break;
    if (f.skipTags.has(top.localName) || (top.hasAttributes() && top.matches(f.skip))) return false;
  }
  // A second pass rather than an array of the chain: no garbage per candidate.
  for (let e = el; e !== top; e = e.parentElement) f.clear.add(e);
  return true;
}
