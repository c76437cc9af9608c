// The web desk's only script: drag-and-drop upload and a live inbox list. No framework.
"use strict";
(function () {
  const csrf = document.querySelector('meta[name="csrf-token"]')?.content || "";

  function refresh(box) {
    fetch(box.dataset.refresh, { headers: { Accept: "text/html" }, credentials: "same-origin" })
      .then((r) => (r.ok && !r.redirected ? r.text() : null))  // redirected: to the login page
      .then((html) => { if (html !== null) box.innerHTML = html; })
      .catch(() => {});
  }

  function upload(files, note, box) {
    if (!files.length) return;
    const body = new FormData();
    body.append("csrf", csrf);
    for (const f of files) body.append("files", f, f.name);
    note.textContent = "正在上传 " + files.length + " 个文件…";
    fetch("/inbox/upload", {
      method: "POST", body, credentials: "same-origin",
      headers: { "X-CSRF-Token": csrf, Accept: "application/json" },
    }).then(async (r) => {
      if (r.redirected || r.status === 401) {
        note.textContent = "上传失败：登录已过期，请刷新页面重新登录。";
        return;
      }
      note.textContent = r.ok ? "已放入收件箱，正在处理…" : "上传失败：" + (await r.text());
      if (box) refresh(box);
    }).catch(() => { note.textContent = "上传失败：连接中断。"; });
  }

  document.addEventListener("DOMContentLoaded", () => {
    const box = document.getElementById("inbox-status");
    if (box) setInterval(() => refresh(box), 2000);
    const drop = document.getElementById("drop");
    if (!drop) return;
    const note = document.getElementById("upload-note");
    const input = document.getElementById("file-input");
    input.addEventListener("change", () => { upload(input.files, note, box); input.value = ""; });
    for (const name of ["dragenter", "dragover"]) {
      drop.addEventListener(name, (e) => { e.preventDefault(); drop.classList.add("over"); });
    }
    for (const name of ["dragleave", "drop"]) {
      drop.addEventListener(name, () => drop.classList.remove("over"));
    }
    drop.addEventListener("drop", (e) => { e.preventDefault(); upload(e.dataTransfer.files, note, box); });
  });
})();
