"""axe-core, the accessibility engine, run inside the pages of the browser tests, and what a
keyboard user needs to see: where the focus is.

axe-core comes from npm (package.json; `npm ci` through the Makefile's node_modules target). It
is loaded as a browser context's init script: those run before the page's own scripts and are
not subject to its Content Security Policy, which lets in only scripts that carry the page's
nonce, so a <script> tag added by the test would be refused."""

from typing import Any

from playwright.sync_api import BrowserContext, ElementHandle, Page

from tests.support.live import ROOT

AXE_SCRIPT = ROOT / "node_modules" / "axe-core" / "axe.min.js"
# Every WCAG 2.0, 2.1 and 2.2 rule at levels A and AA, and axe's best practices: axe's own
# default set, named here so that what the test asks for is written down. Nothing is turned off.
RULE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]
BLOCKING = ("serious", "critical")  # the impacts that fail a test; moderate and minor are reported
SHOWN_NODES = 8  # elements listed per rule in a failure message; the count says how many more

# Resolves once web fonts are in and every animation or transition that ends has ended, so that
# colours and sizes are measured as a person sees them settled (a card fading in is half
# transparent). An animation that never ends (a pulsing "working" placeholder) is paused where
# it leaves its element most transparent: its text must be readable at every moment, and the
# audit must not depend on the moment it happens to look.
SETTLE_JS = """async () => {
  await document.fonts.ready;
  const endless = [];
  const ending = [];
  for (const animation of document.getAnimations()) {
    const timing = animation.effect ? animation.effect.getComputedTiming() : null;
    (timing && Number.isFinite(timing.endTime) ? ending : endless).push(animation);
  }
  for (const animation of endless) {
    animation.pause();
    const timing = animation.effect.getComputedTiming();
    const frames = animation.effect.getKeyframes().filter((frame) => frame.opacity !== undefined);
    if (!frames.length || !Number.isFinite(timing.duration)) continue;
    const faintest = frames.reduce((a, b) => (Number(b.opacity) < Number(a.opacity) ? b : a));
    animation.currentTime = (timing.delay || 0) + faintest.computedOffset * timing.duration;
  }
  await Promise.all(ending.map((animation) => animation.finished.catch(() => null)));
}"""

RUN_AXE_JS = """async (options) => {
  if (!window.axe) throw new Error("axe-core is not in this page: add_axe(context) first");
  const results = await window.axe.run(document, options);
  return results.violations;
}"""


def add_axe(context: BrowserContext) -> None:
    """Load axe-core into every page the context opens (before the page's scripts)."""
    if not AXE_SCRIPT.exists():
        raise RuntimeError(f"{AXE_SCRIPT} is missing: install the npm packages (npm ci)")
    context.add_init_script(path=AXE_SCRIPT)


def settle(page: Page) -> None:
    page.wait_for_load_state("load")
    page.evaluate(SETTLE_JS)


def violations(page: Page) -> list[dict[str, Any]]:
    """axe's violations of RULE_TAGS on the page as it is now, each with only its serious and
    critical elements, and only the rules that have any."""
    settle(page)
    found = page.evaluate(
        RUN_AXE_JS, {"runOnly": {"type": "tag", "values": RULE_TAGS}, "resultTypes": ["violations"]}
    )
    blocking = []
    for violation in found:
        nodes = [node for node in violation["nodes"] if node.get("impact") in BLOCKING]
        if nodes:
            blocking.append({**violation, "nodes": nodes})
    return blocking


def describe(found: list[dict[str, Any]], where: str) -> str:
    """A failure message a person can act on: each rule, its impact, and for each element its
    selector, its HTML and what axe measured (a contrast ratio and its colours, a missing name)."""
    count = sum(len(violation["nodes"]) for violation in found)
    lines = [f"{count} serious or critical accessibility violation(s) on {where}:"]
    for violation in found:
        lines.append(
            f"- {violation['id']} ({violation['impact']}): {violation['help']}"
            f" <{violation['helpUrl']}>"
        )
        for node in violation["nodes"][:SHOWN_NODES]:
            lines.append(f"    at    {selector(node['target'])}")
            lines.append(f"    html  {shorten(node['html'])}")
            summary = " ".join(node.get("failureSummary", "").split())
            lines.append(f"    why   {shorten(summary, 400)}")
        if len(violation["nodes"]) > SHOWN_NODES:
            lines.append(f"    … and {len(violation['nodes']) - SHOWN_NODES} more element(s)")
    return "\n".join(lines)


def selector(target: list[Any]) -> str:
    """axe's target: a CSS selector, or a list of them through shadow roots and frames."""
    return " >>> ".join(part if isinstance(part, str) else selector(part) for part in target)


def shorten(text: str, limit: int = 240) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def assert_accessible(page: Page, where: str) -> None:
    found = violations(page)
    assert not found, describe(found, where)


# ---- Where the focus is ---------------------------------------------------------------------

# The focus ring as computed for an element and for what may draw it on the element's behalf:
# its labels (a visually hidden file input's styled label), its three nearest ancestors (a ring
# drawn with :focus-within), and the ::before and ::after of each (a slider's knob). Only
# outlines and box shadows count as rings.
RING_JS = """(element) => {
  const drawers = [element, ...(element.labels || [])];
  let up = element.parentElement;
  for (let level = 0; up && level < 3; level += 1, up = up.parentElement) drawers.push(up);
  const rings = [];
  for (const drawer of drawers) {
    for (const pseudo of [null, "::before", "::after"]) {
      const style = getComputedStyle(drawer, pseudo);
      const drawn = !pseudo || style.content !== "none";
      const outline = drawn && style.outlineStyle !== "none" && parseFloat(style.outlineWidth) > 0
        ? `${style.outlineStyle} ${style.outlineWidth} ${style.outlineColor}` : "";
      const shadow = drawn && style.boxShadow !== "none" ? style.boxShadow : "";
      rings.push({ outline, shadow });
    }
  }
  return rings;
}"""

# What the focused element is, in words, for a message about the order of the Tab key.
FOCUSED_JS = """() => {
  const element = document.activeElement;
  if (!element || element === document.body) return "(nothing: the page itself)";
  const name = (element.getAttribute("aria-label") || element.innerText || element.value || "")
    .trim().replace(/\\s+/g, " ").slice(0, 40);
  return element.tagName.toLowerCase() + (element.id ? "#" + element.id : "")
    + (element.className && typeof element.className === "string"
       ? "." + element.className.trim().split(/\\s+/).join(".") : "")
    + (name ? ` "${name}"` : "");
}"""


def ring(element: ElementHandle) -> list[dict[str, str]]:
    return element.evaluate(RING_JS)


def visible_ring(unfocused: list[dict[str, str]], focused: list[dict[str, str]]) -> str | None:
    """The outline or shadow that focus added (on the element, a label or a near ancestor), or
    None when focus changed neither: a ring that is always there shows no focus."""
    for before, after in zip(unfocused, focused, strict=True):
        for kind in ("outline", "shadow"):
            if after[kind] and after[kind] != before[kind]:
                return f"{kind} {after[kind]}"
    return None


def focused_description(page: Page) -> str:
    return page.evaluate(FOCUSED_JS)


def is_focused(element: ElementHandle) -> bool:
    return element.evaluate("element => element === document.activeElement")


# ---- Every control by keyboard ----------------------------------------------------------------

# What Tab must reach: every control a person can see and use, the open modal dialog's only
# while one is open (the rest of the page is inert then). Left out: what is not rendered (in a
# closed <details> or <dialog>, display: none), what is disabled, and what is taken out of the
# Tab order on purpose with tabindex="-1" (a second way to a control that is in it). What has
# the focus (an autofocused field) gives it up first, so that every control is measured
# unfocused before the first Tab.
TAB_START_JS = """() => {
  if (document.activeElement) document.activeElement.blur();
  const controls = "a[href], button, input:not([type=hidden]), select, textarea, summary, "
    + "[tabindex], [contenteditable=''], [contenteditable=true]";
  const modal = document.querySelector("dialog:modal");
  const shown = (element) => element.checkVisibility({ visibilityProperty: true })
    && element.getClientRects().length > 0;
  const candidates = [...(modal || document).querySelectorAll(controls)].filter((element) =>
    !element.disabled && element.getAttribute("tabindex") !== "-1" && !element.closest("[inert]")
    && shown(element));
  const ring = RING;
  window.gaituTab = {
    candidates,
    unfocused: new Map(candidates.map((element) => [element, ring(element)])),
    reached: new Map(),
    ring,
  };
  return candidates.length;
}""".replace("RING", RING_JS)

# After a Tab: note what has the focus and its ring; whether it was reached before, and what
# it is in words.
TAB_STEP_JS = """() => {
  const state = window.gaituTab;
  const element = document.activeElement;
  const again = state.reached.has(element);
  const inside = element && element !== document.body;
  if (inside && !again) state.reached.set(element, state.ring(element));
  return [again, (DESCRIBE)()];
}""".replace("DESCRIBE", FOCUSED_JS)

# The candidates Tab did not reach (a radio counts when its group was reached), and those it
# reached that showed no focus ring that focus brought; both described in words.
TAB_END_JS = """() => {
  const state = window.gaituTab;
  const describe = (element) => (DESCRIBE)();
  const changed = (before, after) => after.some((drawer, index) =>
    ["outline", "shadow"].some((kind) => drawer[kind] && drawer[kind] !== before[index][kind]));
  const group = (element) => [...document.forms].indexOf(element.form) + ":" + element.name;
  const reachedGroups = new Set([...state.reached.keys()]
    .filter((element) => element.type === "radio").map(group));
  // A live update (a running card's progress) may swap a control for a copy while Tab walks:
  // the copy reached counts for the candidate it replaced.
  const key = (element) => [element.closest("[id]")?.id, element.tagName,
    element.getAttribute("href"), element.name, element.textContent.trim()].join("|");
  const reachedKeys = new Set([...state.reached.keys()].map(key));
  const missed = state.candidates.filter((element) => !state.reached.has(element)
    && !(element.type === "radio" && reachedGroups.has(group(element)))
    && !(!element.isConnected && reachedKeys.has(key(element))));
  const ringless = [...state.reached.entries()].filter(([element, after]) =>
    state.unfocused.has(element) && !changed(state.unfocused.get(element), after));
  return {
    missed: missed.map(describe),
    ringless: ringless.map(([element]) => describe(element)),
  };
}""".replace(
    "DESCRIBE",
    FOCUSED_JS.replace("const element = document.activeElement;", ""),
)


def tab_through(page: Page) -> dict[str, list[str]]:
    """Press Tab from the top of the page until the focus comes round again: the controls it
    never reached ("missed"), those that showed no focus ring ("ringless", see TAB_START_JS)
    and what each press focused ("path")."""
    count = page.evaluate(TAB_START_JS)
    path = []
    # Round the page once, with room for stops that are not controls (Chromium's scrollable
    # boxes, the browser's own bar) and for a trap that keeps the focus from coming round.
    for _ in range(2 * count + 20):
        page.keyboard.press("Tab")
        again, focused = page.evaluate(TAB_STEP_JS)
        path.append(focused)
        if again:
            break
    return {**page.evaluate(TAB_END_JS), "path": path}
