// The demo's only script: a password strength meter with live policy
// feedback, the "expiring soon" banner, logout when the tab closes, and the
// export progress bar. No framework; every feature also works server-side.
"use strict";

// Password strength meter: asks the server, which applies the same policy
// it enforces on submit.
(function () {
  const input = document.querySelector("input[data-strength]");
  if (!input) return;
  const form = input.form, bar = document.getElementById("meter-bar");
  const text = document.getElementById("meter-text"), list = document.getElementById("meter-problems");
  const labels = ["Very weak", "Weak", "Fair", "Strong", "Very strong"];
  let timer;
  input.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(async () => {
      // The password and, on sign-up, the words it must not contain;
      // nothing else of the form (a reset form also holds its token).
      const body = new URLSearchParams({ password: input.value });
      for (const name of ["first_name", "last_name", "email"]) {
        if (form.elements[name]) body.set(name, form.elements[name].value);
      }
      const res = await fetch("/password/check", { method: "POST", body });
      if (!res.ok) return;
      const r = await res.json();
      bar.className = "s" + r.score;
      text.textContent = input.value ? labels[r.score] : "";
      list.replaceChildren(...r.problems.map((p) => Object.assign(document.createElement("li"), { textContent: p })));
    }, 250);
  });
})();

// The app's other tabs in this browser (they share the session cookie).
const tabs = "BroadcastChannel" in self ? new BroadcastChannel("session") : null;

// Idle timeout: poll how long the session has left (the poll does not count
// as activity) and warn before it ends; when it has ended, go to sign-in.
(function () {
  const poll = Number(document.body.dataset.poll || 0), warn = Number(document.body.dataset.warn || 120);
  if (!poll) return;
  const banner = document.getElementById("expiry"), left = document.getElementById("expiry-left");
  async function check() {
    let res;
    try { res = await fetch("/session/time-left", { cache: "no-store" }); } catch { return; }
    if (res.status === 401) {
      // When a link or form is already taking the tab to its next page,
      // this answer may reflect the session that very request ended
      // (signing out, deleting the account): going to "your session has
      // ended" now would replace the page's own answer ("erased"). Wait
      // for that page instead; if none comes (a download link), go.
      const ended = () => location.assign("/signin?ended=1");
      if (leaving) { setTimeout(ended, 10000); return; }
      leaving = true;
      ended();
      return;
    }
    if (!res.ok) return;
    const t = await res.json();
    const s = Math.min(t.idle_seconds, t.absolute_seconds);
    banner.hidden = s > warn;
    left.textContent = s >= 60 ? Math.ceil(s / 60) + " min" : s + " s";
  }
  setInterval(check, poll * 1000);
  check();
  // Another tab of the app closing sends the close beacon, which marks the
  // session every tab shares: this tab must answer within the grace (10 s)
  // or the user is signed out of it too, and its own poll may be further
  // off than that. Poll after the beacon has surely arrived (it may reach
  // the server after this message), and once more to cover a slow one.
  if (tabs) tabs.onmessage = (e) => {
    if (e.data === "closing") { setTimeout(check, 1000); setTimeout(check, 5000); }
  };
})();

// Closing the tab logs out: a beacon to /session/close on pagehide, unless
// the page is being left for another page of the app (a link or a form).
// The beacon only marks the session: reload, Back and Forward fire pagehide
// too, and the next page's first request (the poll above) clears the mark
// within the grace; with no tab left, the session ends.
let leaving = false;
document.addEventListener("click", (e) => {
  const a = e.target.closest("a[href]");
  if (a && a.origin === location.origin) leaving = true;
});
document.addEventListener("submit", (e) => {
  leaving = true;
  // A second click does not send the form again (the server refuses a
  // reused form token too).
  for (const b of e.target.querySelectorAll("button")) b.disabled = true;
});
// Coming back with the back button shows the buttons usable again.
addEventListener("pageshow", () => {
  for (const b of document.querySelectorAll("form button[disabled]")) b.disabled = false;
});
addEventListener("pagehide", (e) => {
  if (!e.persisted && !leaving && document.body.dataset.poll) {
    navigator.sendBeacon("/session/close");
    if (tabs) tabs.postMessage("closing"); // the tabs still open clear the mark
  }
  leaving = false;
});

// Export progress.
(function () {
  const box = document.getElementById("export-progress");
  if (!box || box.hidden) return;
  const bar = document.getElementById("export-bar"), text = document.getElementById("export-text");
  const timer = setInterval(async () => {
    const res = await fetch(box.dataset.status, { cache: "no-store" });
    if (!res.ok) return;
    const j = await res.json();
    bar.max = j.total; bar.value = j.done;
    text.textContent = !j.running ? "Done."
      : j.done < j.modules ? `Exporting ${j.module || "…"}: ${j.rows} rows (${j.done} of ${j.modules} files)`
      : "Packing and encrypting the archive…";
    if (!j.running) {
      clearInterval(timer);
      if (j.ready) { box.hidden = true; document.getElementById("export-ready").hidden = false; }
      else location.reload();
    }
  }, 300);
})();

// Password reset: the token comes in the URL fragment (never sent to a
// server or in a Referer); move it into the form and out of the address bar.
(function () {
  const field = document.getElementById("reset-token");
  if (!field || !location.hash) return;
  field.value = location.hash.slice(1);
  history.replaceState(null, "", location.pathname);
})();

// Recovery codes: a Copy button next to the download link, where the
// clipboard is available.
(function () {
  const button = document.getElementById("copy-codes"), list = document.getElementById("recovery-codes");
  if (!button || !list || !navigator.clipboard) return;
  button.hidden = false;
  button.addEventListener("click", async () => {
    const codes = [...list.querySelectorAll("code")].map((c) => c.textContent).join("\n");
    try { await navigator.clipboard.writeText(codes + "\n"); button.textContent = "Copied"; }
    catch { button.textContent = "Copy failed: select the codes instead"; }
  });
})();
