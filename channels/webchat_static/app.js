/* Web chat page of the petition intake assistant.
 *
 * Talks to the routes beside this file (/webhooks/webchat/): POST message,
 * GET history, GET notifications. The session id and the transcript live in
 * localStorage so a reload keeps the conversation. Every text from the bot or
 * the backend is put into the page with textContent, never as HTML.
 */
(function () {
  "use strict";

  var SESSION_KEY = "xf-webchat-session";
  var TRANSCRIPT_KEY = "xf-webchat-transcript";
  var SEEN_KEY = "xf-webchat-seen-notifications";
  var MAX_ENTRIES = 300;
  var REQUEST_TIMEOUT_MS = 60000;
  var NOTIFICATION_POLL_MS = 60000;
  var CASE_ID = /XF\d{8}-[0-9A-Z]{6}/;
  var QUERY_CODE = /查询码\s*[：:]\s*([0-9A-Za-z]{6})(?![0-9A-Za-z])/;

  var WELCOME = {
    from: "bot",
    text: "您好！欢迎使用信访事项网上登记智能助手。\n我可以帮您登记信访事项、查询办理进度，也可以解答受理范围和办理程序方面的问题。\n请直接告诉我您遇到的问题，或点击下方按钮。",
    buttons: [
      { title: "我要反映问题", payload: "我要反映问题" },
      { title: "查询办理进度", payload: "查询办理进度" },
      { title: "受理范围和程序", payload: "信访受理范围是什么" }
    ]
  };

  var log = document.getElementById("log");
  var quick = document.getElementById("quick");
  var typing = document.getElementById("typing");
  var form = document.getElementById("composer");
  var input = document.getElementById("input");
  var sendButton = document.getElementById("send");
  var clearButton = document.getElementById("clear");
  var conversation = document.getElementById("conversation");

  var busy = false;

  /* ---------- storage ---------- */

  function readJson(key, fallback) {
    try {
      var raw = window.localStorage.getItem(key);
      return raw ? JSON.parse(raw) : fallback;
    } catch (e) {
      return fallback;
    }
  }

  function writeJson(key, value) {
    try {
      window.localStorage.setItem(key, JSON.stringify(value));
    } catch (e) {
      /* storage full or disabled: the conversation still works, it is just not kept */
    }
  }

  function newSessionId() {
    var bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    var hex = "";
    for (var i = 0; i < bytes.length; i++) {
      hex += ("0" + bytes[i].toString(16)).slice(-2);
    }
    return "wc-" + hex;
  }

  function sessionId() {
    var id = null;
    try {
      id = window.localStorage.getItem(SESSION_KEY);
    } catch (e) {
      id = null;
    }
    if (!id || !/^[A-Za-z0-9_-]{16,64}$/.test(id)) {
      id = newSessionId();
      try {
        window.localStorage.setItem(SESSION_KEY, id);
      } catch (e) {
        /* not kept across reloads */
      }
    }
    return id;
  }

  var session = sessionId();
  var transcript = readJson(TRANSCRIPT_KEY, []);
  if (!Array.isArray(transcript)) {
    transcript = [];
  }

  function remember(entry) {
    transcript.push(entry);
    if (transcript.length > MAX_ENTRIES) {
      transcript = transcript.slice(transcript.length - MAX_ENTRIES);
    }
    writeJson(TRANSCRIPT_KEY, transcript);
  }

  /* ---------- rendering (textContent only) ---------- */

  function appendText(parent, text) {
    var lines = String(text).split(/\r?\n/);
    for (var i = 0; i < lines.length; i++) {
      if (i > 0) {
        parent.appendChild(document.createElement("br"));
      }
      parent.appendChild(document.createTextNode(lines[i]));
    }
  }

  function element(tag, className, text) {
    var node = document.createElement(tag);
    if (className) {
      node.className = className;
    }
    if (text !== undefined && text !== null) {
      appendText(node, text);
    }
    return node;
  }

  function visuallyHidden(text) {
    return element("span", "visually-hidden", text);
  }

  function renderMessage(entry) {
    var row = element("div", "row row-" + entry.from);
    var bubble = element("div", "bubble bubble-" + entry.from);
    bubble.appendChild(visuallyHidden(entry.from === "user" ? "您说：" : "助手说："));
    var body = element("div", "bubble-text", entry.text);
    bubble.appendChild(body);
    row.appendChild(bubble);
    return row;
  }

  function renderNotice(entry) {
    var card = element("div", "notice");
    card.appendChild(element("p", "notice-title", "办理进度通知" + (entry.case_id ? "（" + entry.case_id + "）" : "")));
    card.appendChild(element("p", "notice-text", entry.text));
    if (entry.created_at) {
      card.appendChild(element("p", "notice-time", entry.created_at.replace("T", " ").slice(0, 16)));
    }
    return card;
  }

  function renderCaseCard(entry) {
    var card = element("section", "case-card");
    card.setAttribute("aria-label", "您的事项编号和查询码");
    card.appendChild(element("p", "case-card-title", "请保存您的事项编号和查询码"));
    var list = element("dl", "case-card-fields");
    list.appendChild(element("dt", null, "事项编号"));
    list.appendChild(element("dd", "case-id", entry.case_id));
    if (entry.query_code) {
      list.appendChild(element("dt", null, "查询码"));
      list.appendChild(element("dd", "query-code", entry.query_code));
    }
    card.appendChild(list);
    card.appendChild(element("p", "case-card-hint",
      "请截图或抄下保存。查询码只显示这一次，凭事项编号和查询码可以随时查询办理进度。"));
    return card;
  }

  function renderSeparator(text) {
    var node = element("p", "separator", text);
    node.setAttribute("role", "note");
    return node;
  }

  function render(entry) {
    var node;
    if (entry.from === "notice") {
      node = renderNotice(entry);
    } else if (entry.from === "case") {
      node = renderCaseCard(entry);
    } else if (entry.from === "system") {
      node = element("p", "system-message", entry.text);
    } else {
      node = renderMessage(entry);
    }
    log.appendChild(node);
    return node;
  }

  function scrollToEnd() {
    conversation.scrollTop = conversation.scrollHeight;
  }

  function showQuickReplies(buttons) {
    while (quick.firstChild) {
      quick.removeChild(quick.firstChild);
    }
    if (!buttons || !buttons.length) {
      quick.hidden = true;
      return;
    }
    buttons.forEach(function (button) {
      var node = element("button", "quick-reply", button.title);
      node.type = "button";
      node.addEventListener("click", function () {
        send(button.payload || button.title, button.title);
      });
      quick.appendChild(node);
    });
    quick.hidden = false;
  }

  function lastButtons() {
    for (var i = transcript.length - 1; i >= 0; i--) {
      var entry = transcript[i];
      if (entry.from === "user") {
        return [];
      }
      if (entry.from === "bot") {
        return entry.buttons || [];
      }
    }
    return WELCOME.buttons;
  }

  function setBusy(value) {
    busy = value;
    typing.hidden = !value;
    sendButton.disabled = value;
    var buttons = quick.querySelectorAll("button");
    for (var i = 0; i < buttons.length; i++) {
      buttons[i].disabled = value;
    }
    conversation.setAttribute("aria-busy", value ? "true" : "false");
    if (value) {
      scrollToEnd();
    }
  }

  /* ---------- case number and query code ---------- */

  function caseFrom(messages) {
    var caseId = null;
    var code = null;
    messages.forEach(function (message) {
      var text = message.text || "";
      var idMatch = text.match(CASE_ID);
      var codeMatch = text.match(QUERY_CODE);
      if (idMatch && !caseId) {
        caseId = idMatch[0];
      }
      if (codeMatch && !code) {
        code = codeMatch[1].toUpperCase();
      }
    });
    return caseId && code ? { from: "case", case_id: caseId, query_code: code } : null;
  }

  /* ---------- talking to the server ---------- */

  function request(method, path, body) {
    var controller = window.AbortController ? new AbortController() : null;
    var timer = controller ? window.setTimeout(function () { controller.abort(); }, REQUEST_TIMEOUT_MS) : null;
    var options = {
      method: method,
      headers: { "Accept": "application/json" },
      credentials: "same-origin",
      cache: "no-store"
    };
    if (controller) {
      options.signal = controller.signal;
    }
    if (body !== undefined) {
      options.headers["Content-Type"] = "application/json";
      options.body = JSON.stringify(body);
    }
    return window.fetch(path, options).then(function (response) {
      if (timer) {
        window.clearTimeout(timer);
      }
      if (!response.ok) {
        throw new Error("HTTP " + response.status);
      }
      return response.json();
    }, function (error) {
      if (timer) {
        window.clearTimeout(timer);
      }
      throw error;
    });
  }

  function addEntry(entry) {
    remember(entry);
    render(entry);
  }

  function send(text, display) {
    text = String(text || "").trim();
    if (!text || busy) {
      return;
    }
    var shown = display || text;
    var userEntry = { from: "user", text: shown, at: new Date().toISOString() };
    remember(userEntry);
    var userNode = render(userEntry);
    showQuickReplies([]);
    if (!display) {
      input.value = "";
      autoGrow();
    }
    setBusy(true);

    var body = { session_id: session, message: text };
    if (display && display !== text) {
      body.display = display;
    }
    request("POST", "message", body).then(function (messages) {
      setBusy(false);
      if (!Array.isArray(messages)) {
        messages = [];
      }
      var buttons = [];
      messages.forEach(function (message) {
        var entry = {
          from: "bot",
          text: String(message.text || ""),
          buttons: Array.isArray(message.buttons) ? message.buttons : [],
          at: new Date().toISOString()
        };
        addEntry(entry);
        if (entry.buttons.length) {
          buttons = entry.buttons;
        }
      });
      var filed = caseFrom(messages);
      if (filed) {
        addEntry(filed);
      }
      if (!messages.length) {
        render({ from: "system", text: "助手暂时没有回复，您可以换个说法再试一次。" });
      }
      showQuickReplies(buttons);
      restoreFocus();
      scrollToEnd();
    }, function () {
      setBusy(false);
      transcript.pop();
      writeJson(TRANSCRIPT_KEY, transcript);
      log.removeChild(userNode);
      if (!display) {
        input.value = text;
        autoGrow();
      }
      render({ from: "system", text: "消息没有发送成功（网络或系统暂时出现问题），请稍后再次发送。" });
      showQuickReplies(lastButtons());
      restoreFocus();
      scrollToEnd();
    });
  }

  function restoreFocus() {
    var active = document.activeElement;
    if (!active || active === document.body || active.disabled || !document.contains(active)) {
      input.focus();
    }
  }

  /* ---------- status notifications ---------- */

  function checkNotifications() {
    request("GET", "notifications?session_id=" + encodeURIComponent(session)).then(function (items) {
      if (!Array.isArray(items) || !items.length) {
        return;
      }
      var seen = readJson(SEEN_KEY, []);
      if (!Array.isArray(seen)) {
        seen = [];
      }
      var added = false;
      items.forEach(function (item) {
        if (!item || typeof item.text !== "string" || seen.indexOf(String(item.id)) !== -1) {
          return;
        }
        seen.push(String(item.id));
        addEntry({
          from: "notice",
          text: item.text,
          case_id: item.case_id || "",
          created_at: item.created_at || "",
          at: new Date().toISOString()
        });
        added = true;
      });
      writeJson(SEEN_KEY, seen.slice(-500));
      if (added) {
        scrollToEnd();
      }
    }, function () {
      /* notifications are a courtesy: say nothing when they cannot be fetched */
    });
  }

  /* ---------- input ---------- */

  function autoGrow() {
    input.style.height = "auto";
    input.style.height = Math.min(input.scrollHeight, 140) + "px";
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    send(input.value);
  });

  input.addEventListener("keydown", function (event) {
    // Enter sends; Shift+Enter makes a new line; Enter that confirms a
    // Chinese input method's candidate must not send.
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing && event.keyCode !== 229) {
      event.preventDefault();
      send(input.value);
    }
  });

  input.addEventListener("input", autoGrow);

  clearButton.addEventListener("click", function () {
    var ok = window.confirm("清除后，本浏览器中保存的对话记录将被删除，已登记的事项不受影响。确定清除吗？");
    if (!ok) {
      return;
    }
    try {
      window.localStorage.removeItem(TRANSCRIPT_KEY);
      window.localStorage.removeItem(SEEN_KEY);
      window.localStorage.removeItem(SESSION_KEY);
    } catch (e) {
      /* nothing kept */
    }
    session = sessionId();
    transcript = [];
    while (log.firstChild) {
      log.removeChild(log.firstChild);
    }
    start();
    input.focus();
  });

  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "visible") {
      checkNotifications();
    }
  });

  /* ---------- start ---------- */

  function start() {
    render(WELCOME);
    if (transcript.length) {
      log.appendChild(renderSeparator("以下是您之前的对话记录"));
      transcript.forEach(render);
      showQuickReplies(lastButtons());
      scrollToEnd();
      checkNotifications();
      return;
    }
    showQuickReplies(WELCOME.buttons);
    // Nothing kept in this browser: the server may still know the conversation.
    request("GET", "history?session_id=" + encodeURIComponent(session)).then(function (entries) {
      if (Array.isArray(entries) && entries.length && !transcript.length) {
        log.appendChild(renderSeparator("以下是您之前的对话记录"));
        entries.forEach(function (entry) {
          var kept = {
            from: entry.from === "user" ? "user" : "bot",
            text: String(entry.text || ""),
            buttons: Array.isArray(entry.buttons) ? entry.buttons : []
          };
          addEntry(kept);
          var filed = kept.from === "bot" ? caseFrom([kept]) : null;
          if (filed) {
            addEntry(filed);
          }
        });
        showQuickReplies(lastButtons());
        scrollToEnd();
      }
    }, function () { /* a fresh conversation */ }).then(checkNotifications);
  }

  start();
  window.setInterval(function () {
    if (document.visibilityState === "visible") {
      checkNotifications();
    }
  }, NOTIFICATION_POLL_MS);
  if (window.matchMedia && window.matchMedia("(pointer: fine)").matches) {
    input.focus();
  }
})();
