// The viewer's little JavaScript: everything works without it.
// Alt+← / Alt+→ move the branch switcher of the message in view; "f" opens or folds every
// tool call and reasoning block.
document.addEventListener("keydown", (event) => {
  if (event.target instanceof HTMLInputElement) return;
  if (event.key === "f") {
    const folds = [...document.querySelectorAll("details.fold")];
    const open = !folds.every((d) => d.open);
    folds.forEach((d) => { d.open = open; });
  }
  if (event.altKey && (event.key === "ArrowLeft" || event.key === "ArrowRight")) {
    const switchers = [...document.querySelectorAll("[data-branch]")];
    const visible = switchers.find((s) => s.getBoundingClientRect().top >= 0) || switchers[0];
    const link = visible && visible.querySelector(event.key === "ArrowLeft" ? "a.prev" : "a.next");
    if (link) window.location.href = link.href;
  }
});
