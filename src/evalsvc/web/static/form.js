/* evalsvc: progressive enhancement for the questionnaire pages.
 *
 * The forms work without this file; with it:
 *
 * - Drafts. Every change saves the answers in localStorage under the form's
 *   data-draft-key ("evalsvc-draft:<course>:<phase>"). After a reload or a dropped
 *   connection the draft is put back and a notice offers to clear it. When the
 *   server has just sent the form back with errors (data-server-values="true"),
 *   its pre-filled values win: the draft is replaced by them, not restored.
 *   Drafts older than DRAFT_MAX_AGE_MS are dropped.
 * - The submission_id is kept in the draft, so a form sent again after a reload
 *   reuses it, and the server (idempotent by submission_id) answers with the first
 *   receipt instead of storing the answers twice.
 * - The participant's code is NOT stored, nor the answers to self-generated code
 *   questions (pairing_*): on a shared venue PC localStorage outlives the session,
 *   and the next person could read a code and answer in someone else's name.
 *   Answers without a code cannot be sent or linked to anyone, so they are kept.
 * - "Answered N of M" progress, announced politely (aria-live) when it changes.
 * - Sending. The form is sent with fetch and the server's answer replaces the
 *   page, as a normal submission would (a receipt's address goes into the address
 *   bar). When the network is down, or no answer comes within SEND_TIMEOUT_MS, the
 *   participant stays on the page with a message (#send-problem): nothing was sent
 *   yet, the answers are kept on this device, press Send again. The code stays in
 *   its field (in this page's memory only), and the retry carries the same
 *   submission_id, so an attempt that did arrive is never stored twice.
 * - The submit button is disabled while a submission is on its way.
 * - With errors, focus moves to the error summary.
 * - The receipt page (data-clear-draft) deletes the draft; so does the "already
 *   sent" page, since that draft can never be sent. (The server writes the time of
 *   receipt in the page's language and the course's time zone.)
 *
 * No framework, no inline code (the CSP forbids it); text comes from data-*
 * attributes rendered by the templates in the participant's language.
 */
(function () {
  "use strict";

  var DRAFT_VERSION = 1;
  var DRAFT_MAX_AGE_MS = 24 * 60 * 60 * 1000;
  var SEND_RETRY_MS = 20000;
  var SEND_TIMEOUT_MS = 30000;
  var NOT_SAVED = /^(code|_csrf_token|submission_id|lang|pairing_.*)$/;
  var UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

  function getStorage() {
    try {
      var storage = window.localStorage;
      var probe = "evalsvc-probe";
      storage.setItem(probe, probe);
      storage.removeItem(probe);
      return storage;
    } catch (error) {
      return null; // private mode, storage disabled or full: the form still works
    }
  }

  function readDraft(storage, key) {
    if (!storage) return null;
    try {
      var draft = JSON.parse(storage.getItem(key) || "null");
      if (!draft || draft.v !== DRAFT_VERSION || typeof draft.values !== "object") return null;
      if (!(Date.now() - draft.saved < DRAFT_MAX_AGE_MS)) {
        storage.removeItem(key);
        return null;
      }
      return draft;
    } catch (error) {
      return null;
    }
  }

  function removeDraft(storage, key) {
    if (!storage) return;
    try {
      storage.removeItem(key);
    } catch (error) {
      /* nothing to do */
    }
  }

  function newUuid() {
    var bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes); // available on plain http too, unlike randomUUID
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    var hex = Array.prototype.map
      .call(bytes, function (b) {
        return (b + 0x100).toString(16).slice(1);
      })
      .join("");
    return [hex.slice(0, 8), hex.slice(8, 12), hex.slice(12, 16), hex.slice(16, 20), hex.slice(20)].join("-");
  }

  /* The answer fields of the form: named, visible, not secret. */
  function answerFields(form) {
    return Array.prototype.filter.call(form.elements, function (field) {
      if (!field.name || NOT_SAVED.test(field.name)) return false;
      return ["hidden", "submit", "button", "reset", "file"].indexOf(field.type) === -1;
    });
  }

  function collect(form) {
    var values = {};
    answerFields(form).forEach(function (field) {
      var list = values[field.name] || (values[field.name] = []);
      if (field.type === "radio" || field.type === "checkbox") {
        if (field.checked) list.push(field.value);
      } else if (field.value.trim() !== "") {
        list.push(field.value);
      }
    });
    Object.keys(values).forEach(function (name) {
      if (!values[name].length) delete values[name];
    });
    return values;
  }

  function apply(form, values) {
    var restored = 0;
    answerFields(form).forEach(function (field) {
      if (!Object.prototype.hasOwnProperty.call(values, field.name)) return;
      var given = values[field.name];
      if (!Array.isArray(given)) return;
      if (field.type === "radio" || field.type === "checkbox") {
        field.checked = given.indexOf(field.value) !== -1;
        if (field.checked) restored += 1;
      } else if (typeof given[0] === "string") {
        field.value = given[0];
        restored += 1;
      }
    });
    return restored;
  }

  function clearFields(form) {
    answerFields(form).forEach(function (field) {
      if (field.type === "radio" || field.type === "checkbox") field.checked = false;
      else if (field.tagName === "SELECT") field.selectedIndex = 0;
      else field.value = "";
    });
    var code = form.elements.namedItem("code");
    if (code && code.value !== undefined) code.value = "";
  }

  function setupProgress(form) {
    var box = document.getElementById("progress");
    var text = document.getElementById("progress-text");
    var bar = document.getElementById("progress-bar");
    if (!box || !text) return function () {};
    var questions = form.querySelectorAll("[data-item]");
    var template = text.getAttribute("data-template") || "%(answered)s / %(total)s";
    var total = questions.length;
    var last = -1;
    box.hidden = false;
    return function update() {
      var answered = 0;
      Array.prototype.forEach.call(questions, function (question) {
        var inputs = question.querySelectorAll("input, textarea, select");
        var done = Array.prototype.some.call(inputs, function (input) {
          if (input.type === "radio" || input.type === "checkbox") return input.checked;
          return input.value.trim() !== "";
        });
        if (done) answered += 1;
      });
      if (answered === last) return; // announce only real changes
      last = answered;
      text.textContent = template
        .replace("%(answered)s", String(answered))
        .replace("%(total)s", String(total));
      if (bar) bar.value = answered;
    };
  }

  function setupForm(form) {
    var storage = getStorage();
    var key = form.getAttribute("data-draft-key");
    var idField = form.elements.namedItem("submission_id");
    var notice = document.getElementById("draft-notice");
    var clearButton = document.getElementById("draft-clear");
    var submit = form.querySelector("button[type=submit]");
    var updateProgress = setupProgress(form);

    function save() {
      if (!storage || !key) return;
      var draft = {
        v: DRAFT_VERSION,
        saved: Date.now(),
        submission_id: idField ? idField.value : null,
        values: collect(form),
      };
      try {
        storage.setItem(key, JSON.stringify(draft));
      } catch (error) {
        /* storage full or refused: keep going without a draft */
      }
    }

    if (form.getAttribute("data-server-values") === "true") {
      save(); // the server's pre-filled answers win over any older draft
    } else {
      var draft = readDraft(storage, key);
      if (draft) {
        if (idField && typeof draft.submission_id === "string" && UUID.test(draft.submission_id)) {
          idField.value = draft.submission_id;
        }
        if (apply(form, draft.values) > 0 && notice) notice.hidden = false;
      }
    }
    updateProgress();

    function changed() {
      updateProgress();
      save();
    }
    form.addEventListener("input", changed);
    form.addEventListener("change", changed);

    if (clearButton) {
      clearButton.addEventListener("click", function () {
        clearFields(form);
        removeDraft(storage, key);
        if (idField) idField.value = newUuid(); // someone else's draft: a new submission
        if (notice) notice.hidden = true;
        updateProgress();
        var first = form.querySelector("#code, #pairing-0, [data-item] input");
        if (first) first.focus();
      });
    }

    var sending = false;
    var idleLabel = submit ? submit.textContent : "";
    var problem = document.getElementById("send-problem");
    function ready() {
      sending = false;
      if (submit) {
        submit.disabled = false;
        submit.textContent = idleLabel;
      }
    }
    function notSent() {
      ready();
      if (problem) {
        problem.hidden = false;
        problem.focus();
      }
    }
    var canFetch = !!(window.fetch && window.DOMParser && window.FormData && window.URLSearchParams);
    form.addEventListener("submit", function (event) {
      if (sending) {
        event.preventDefault();
        return;
      }
      sending = true;
      save();
      if (problem) problem.hidden = true;
      if (submit) {
        submit.disabled = true;
        submit.textContent = submit.getAttribute("data-sending") || idleLabel;
      }
      if (!canFetch) {
        // An old browser sends the form itself. If no answer comes (a dropped
        // connection), allow another try; the same submission_id goes with it.
        window.setTimeout(ready, SEND_RETRY_MS);
        return;
      }
      event.preventDefault();
      send(form, notSent);
    });
    // Coming back with the browser's Back button restores a frozen page: unfreeze it.
    window.addEventListener("pageshow", function (event) {
      if (event.persisted) ready();
    });

    var summary = document.getElementById("error-summary");
    if (summary) summary.focus();
  }

  /* POST the form as the browser would; on any answer show it, else call notSent. */
  function send(form, notSent) {
    var controller = window.AbortController ? new AbortController() : null;
    var timer = window.setTimeout(function () {
      if (controller) controller.abort();
    }, SEND_TIMEOUT_MS);
    window
      .fetch(form.action, {
        method: "POST",
        body: new URLSearchParams(new FormData(form)),
        credentials: "same-origin",
        headers: { Accept: "text/html" },
        cache: "no-store",
        signal: controller ? controller.signal : undefined,
      })
      .then(function (response) {
        return response.text().then(function (html) {
          window.clearTimeout(timer);
          showAnswer(response, html);
        });
      })
      .catch(function () {
        window.clearTimeout(timer);
        notSent();
      });
  }

  /* Show the server's answer page in place of this one, as a submission would.
   * Every page it can answer shares this page's head (templates/base.html), so the
   * body, title and language are swapped. The parsed page's scripts never run
   * (DOMParser marks them inert): this script sets the new page up itself. */
  function showAnswer(response, html) {
    var answer = new window.DOMParser().parseFromString(html, "text/html");
    if (response.redirected && window.history && window.history.replaceState) {
      window.history.replaceState(null, "", response.url);
    }
    document.documentElement.lang = answer.documentElement.lang;
    document.title = answer.title;
    document.body.parentNode.replaceChild(document.adoptNode(answer.body), document.body);
    window.scrollTo(0, 0);
    start();
    var heading = document.querySelector("main h1");
    if (!document.getElementById("error-summary") && heading) {
      heading.setAttribute("tabindex", "-1");
      heading.focus();
    }
  }

  function setupReceipt(receipt) {
    removeDraft(getStorage(), receipt.getAttribute("data-clear-draft"));
  }

  function start() {
    var form = document.querySelector("form[data-draft-key]");
    if (form) setupForm(form);
    var receipt = document.querySelector("[data-clear-draft]");
    if (receipt) setupReceipt(receipt);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
