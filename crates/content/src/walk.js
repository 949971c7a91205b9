// The detector's hot loop (see detect.rs, `Inner::walk_some`), kept in JavaScript on purpose:
// it touches every text node of the page (86,000 on the benchmark's list), and from wasm each
// node costs four calls across the boundary (next node, its text, its length, the digit test)
// before anything is known about it; here those are plain property reads. What it decides is
// configured from Rust (`walk_filter`): the digit test, the skipped contexts, the container tags
// and the least number of digits, so the rules live in one place.
//
// It only reads the page (no layout), and it runs in the content script's isolated world, so
// the page's own scripts cannot change the DOM methods it calls.

/**
 * Walks text nodes from `walker` until it ends (returns true), `deadline` (performance.now())
 * passes or `max` candidates were found (returns false). A candidate holds a digit, sits outside
 * every skipped context, and, when it is alone in a container, holds enough digits for a number
 * by itself; each is pushed onto `out` as three items: the node, its text, and whether it is
 * alone in its container (a cell or paragraph with no other text to read it with).
 */
export function walkTexts(walker, deadline, f, out, max) {
  let n = 0;
  for (;;) {
    const node = walker.nextNode();
    if (node === null) return true;
    const d = node.data;
    if (d.length >= 3 && f.digit.test(d)) {
      const p = node.parentElement;
      if (p !== null && outsideSkip(p, f)) {
        const alone =
          node.previousSibling === null && node.nextSibling === null && f.block.has(p.localName);
        if (!alone || f.enough.test(d)) {
          out.push(node, d, alone);
          if (out.length >= max * 3) return false;
        }
      }
    }
    if ((++n & 31) === 0 && performance.now() > deadline) return false;
  }
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
    if (!a.hasAttribute(f.mark)) {
      const href = a.getAttribute('href');
      if (href !== null && f.dial.test(href)) {
        out.push(a);
        if (out.length >= max) return i;
      }
    }
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
  const chain = [];
  for (let e = el; e !== null; e = e.parentElement) {
    if (f.clear.has(e)) break;
    if (f.skipTags.has(e.localName) || (e.hasAttributes() && e.matches(f.skip))) return false;
    chain.push(e);
  }
  for (const e of chain) f.clear.add(e);
  return true;
}
