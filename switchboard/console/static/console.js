// Switchboard console: live regions, local times and a few conveniences. No build step.
(() => {
  "use strict";

  const POLL_MS = 1000;
  const indicator = document.getElementById("live-state");

  const pad = (n) => String(n).padStart(2, "0");

  // Times arrive in UTC; show them in the browser's time zone (the UTC value stays the title).
  function localTimes(root) {
    const today = new Date().toDateString();
    root.querySelectorAll("time[datetime]").forEach((el) => {
      const iso = el.getAttribute("datetime");
      const d = new Date(iso);
      if (Number.isNaN(d.getTime())) return;
      el.title = iso;
      let text = `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
      if (el.hasAttribute("data-precise")) text += `.${String(d.getMilliseconds()).padStart(3, "0")}`;
      if (d.toDateString() !== today) {
        text = `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${text}`;
      }
      el.textContent = text;
    });
  }

  function setLive(ok) {
    if (!indicator) return;
    indicator.hidden = false;
    indicator.textContent = ok ? "live" : "offline";
    indicator.classList.toggle("offline", !ok);
  }

  function nearBottom(el) {
    return el.scrollHeight - el.scrollTop - el.clientHeight < 80;
  }

  function replace(el, html) {
    // Keep what the reader opened or closed, and a chat scrolled to its end stays there.
    const open = new Map();
    el.querySelectorAll("details[data-key]").forEach((d) => open.set(d.dataset.key, d.open));
    const stick = el.classList.contains("thread") && nearBottom(el);
    el.innerHTML = html;
    el.querySelectorAll("details[data-key]").forEach((d) => {
      if (open.has(d.dataset.key)) d.open = open.get(d.dataset.key);
    });
    localTimes(el);
    if (stick) el.scrollTop = el.scrollHeight;
    el.dataset.updates = String(Number(el.dataset.updates || 0) + 1);
  }

  function live(el) {
    let version = el.dataset.version || "";
    const tick = async () => {
      if (!document.hidden) {
        try {
          const url = new URL(el.dataset.live, window.location.href);
          url.searchParams.set("live", version);
          const response = await fetch(url, {
            headers: { Accept: "application/json" },
            cache: "no-store",
            credentials: "same-origin",
          });
          if (!response.ok) throw new Error(`HTTP ${response.status}`);
          const data = await response.json();
          if (typeof data.html === "string" && data.version !== version) replace(el, data.html);
          version = data.version;
          setLive(true);
        } catch (_err) {
          setLive(false);
        }
      }
      window.setTimeout(tick, POLL_MS);
    };
    window.setTimeout(tick, POLL_MS);
  }

  document.addEventListener("DOMContentLoaded", () => {
    localTimes(document);
    document.querySelectorAll("[data-live]").forEach(live);

    document.querySelectorAll("select[data-autosubmit]").forEach((select) => {
      select.addEventListener("change", () => select.form && select.form.submit());
    });

    const thread = document.getElementById("thread");
    if (thread) thread.scrollTop = thread.scrollHeight;

    const composer = document.getElementById("composer");
    if (composer) {
      const text = composer.querySelector("textarea[name=text]");
      const button = composer.querySelector("button[type=submit]");
      text.addEventListener("keydown", (event) => {
        if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
          event.preventDefault();
          composer.requestSubmit();
        }
      });
      composer.addEventListener("submit", (event) => {
        if (button.disabled) {
          event.preventDefault();
          return;
        }
        button.disabled = true;
      });
      text.focus();
      text.setSelectionRange(text.value.length, text.value.length);
    }
  });
})();
