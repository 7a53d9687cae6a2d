// The sandbox chat page: one simulated Telegram user chatting with the bot.
// The selected user is in the address (?user=ID) so several users can be open in separate tabs.
// Updates arrive by long polling /sandbox/api/state, which answers as soon as anything changes.
"use strict";

const POLL_WAIT_SECONDS = 25;
const CHAT_ACTION_SECONDS = 5;
const TOAST_SECONDS = 4;

const page = {
  userId: Number(new URLSearchParams(window.location.search).get("user")) || null,
  version: -1,
  chat: null,
  renderedMessages: new Map(), // message_id -> {json, node} of the bubbles on screen
  shownAnswers: null, // ids of callback answers already shown; null until the first load
  chatActionTimer: null,
  toastTimer: null,
};

const $ = (id) => document.getElementById(id);

function element(tag, properties = {}, children = []) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(properties)) {
    if (name === "dataset") Object.assign(node.dataset, value);
    else if (name in node) node[name] = value;
    else node.setAttribute(name, value);
  }
  for (const child of children) node.append(child);
  return node;
}

async function api(path, options = {}) {
  const response = await fetch(path, options);
  const body = await response.json();
  if (!response.ok) throw new Error(body.error || response.statusText);
  return body;
}

function postJson(path, body) {
  return api(path, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body),
  });
}

// --- polling ---------------------------------------------------------------------------------

async function poll() {
  for (;;) {
    try {
      const user = page.userId ? `&user=${page.userId}` : "";
      const wait = page.version < 0 ? 0 : POLL_WAIT_SECONDS;
      const state = await api(`/sandbox/api/state?since=${page.version}&wait=${wait}${user}`);
      page.version = state.version;
      render(state);
    } catch (error) {
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
  }
}

// --- rendering -------------------------------------------------------------------------------

function render(state) {
  $("bot-name").textContent = `Bot: ${state.bot.first_name} (@${state.bot.username})` +
    (state.webhook_url ? " · webhook" : " · polling");
  renderUsers(state.users);
  page.chat = state.chat;
  const hasChat = Boolean(state.chat);
  $("no-user").hidden = hasChat;
  $("chat-header").hidden = !hasChat;
  $("messages").hidden = !hasChat;
  if (!hasChat) {
    $("composer").hidden = true;
    $("start-bar").hidden = true;
    $("reply-keyboard").hidden = true;
    if (page.userId) $("no-user").textContent = `There is no user ${page.userId}.`;
    return;
  }
  renderHeader(state.chat);
  renderMessages(state.chat.messages);
  renderReplyKeyboard(state.chat.reply_keyboard);
  renderCommands(state.chat.commands);
  const started = state.chat.user.has_started;
  $("start-bar").hidden = started;
  $("composer").hidden = !started;
  showCallbackAnswers(state.chat.callback_answers);
}

function renderUsers(users) {
  const list = $("user-list");
  list.replaceChildren(
    ...users.map((user) => {
      const name = [user.first_name, user.last_name].filter(Boolean).join(" ");
      const label = `${name}${user.language_code ? ` · ${user.language_code}` : ""}` +
        (user.blocked ? " · blocked" : "");
      const link = element("a", {
        href: `?user=${user.id}`,
        className: "user-link",
        dir: "auto",
        textContent: label,
      });
      const tab = element("a", {
        href: `?user=${user.id}`,
        target: "_blank",
        className: "tab-link",
        title: "open in a new tab",
        textContent: "↗",
      });
      return element("li", { className: user.id === page.userId ? "active" : "" }, [link, tab]);
    }),
  );
}

function renderHeader(chat) {
  const user = chat.user;
  $("chat-name").textContent = [user.first_name, user.last_name].filter(Boolean).join(" ");
  $("chat-language").textContent = user.language_code || "no language";
  $("open-in-tab").href = `?user=${user.id}`;
  $("block-button").textContent = user.blocked ? "Unblock bot" : "Block bot";
  clearTimeout(page.chatActionTimer);
  const status = $("chat-status");
  if (chat.chat_action) {
    status.textContent = `bot: ${chat.chat_action.replaceAll("_", " ")}…`;
    page.chatActionTimer = setTimeout(() => (status.textContent = ""), CHAT_ACTION_SECONDS * 1000);
  } else {
    status.textContent = user.blocked ? "you blocked the bot" : "";
  }
}

// Bubbles whose message did not change keep their DOM node, so nothing flickers or moves
// under the pointer when another message arrives.
function renderMessages(messages) {
  const list = $("messages");
  const nearBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 80;
  const rendered = new Map();
  const nodes = messages.map((message) => {
    const json = JSON.stringify(message);
    const previous = page.renderedMessages.get(message.message_id);
    const node = previous && previous.json === json ? previous.node : renderMessage(message);
    rendered.set(message.message_id, { json, node });
    return node;
  });
  page.renderedMessages = rendered;
  const unchanged = nodes.length === list.children.length &&
    nodes.every((node, index) => list.children[index] === node);
  if (unchanged) return;
  list.replaceChildren(...nodes);
  if (nearBottom) list.scrollTop = list.scrollHeight;
}

function renderMessage(message) {
  const bubble = element("li", {
    className: `message ${message.from_bot ? "from-bot" : "from-user"}`,
    dataset: { messageId: String(message.message_id) },
  });
  if (message.forwarded_from) {
    bubble.append(element("div", {
      className: "forwarded",
      dir: "auto",
      textContent: `Forwarded from ${message.forwarded_from}`,
    }));
  }
  if (message.reply_to) {
    bubble.append(element("div", {
      className: "reply-to",
      dir: "auto",
      textContent: message.reply_to.excerpt || "…",
    }));
  }
  if (message.photo) {
    bubble.append(element("img", {
      className: "photo",
      src: message.photo.url,
      width: message.photo.width,
      height: message.photo.height,
      alt: "photo",
    }));
  }
  if (message.document) {
    bubble.append(element("a", {
      className: "document",
      href: message.document.url,
      download: message.document.file_name,
      textContent: `[${message.document.file_name}]`,
    }));
  }
  if (message.voice) {
    bubble.append(element("audio", { className: "voice", src: message.voice.url, controls: true }));
  }
  if (message.text !== null) {
    bubble.append(formattedText("text", message.text, message.entities));
  }
  if (message.caption) {
    bubble.append(formattedText("caption", message.caption, message.caption_entities));
  }
  const time = new Date(message.date).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  bubble.append(element("div", {
    className: "meta",
    textContent: `${message.edited ? "edited " : ""}${time}`,
  }));
  if (message.buttons.length) bubble.append(inlineKeyboard(message));
  return bubble;
}

function inlineKeyboard(message) {
  return element("div", { className: "inline-keyboard" }, message.buttons.map((row) =>
    element("div", { className: "row" }, row.map((button) => {
      if (button.url) {
        return element("a", {
          className: "button-link",
          href: button.url,
          target: "_blank",
          rel: "noopener",
          dir: "auto",
          textContent: `${button.text} ↗`,
        });
      }
      const node = element("button", { type: "button", dir: "auto", textContent: button.text });
      node.addEventListener("click", () => press(message.message_id, button.text));
      return node;
    }))
  ));
}

// Entities use UTF-16 offsets, which is how JavaScript indexes strings.
const ENTITY_TAGS = {
  bold: "b",
  italic: "i",
  underline: "u",
  strikethrough: "s",
  code: "code",
  pre: "pre",
  spoiler: "span",
  blockquote: "blockquote",
  expandable_blockquote: "blockquote",
  text_link: "a",
  url: "a",
};

function formattedText(className, text, entities) {
  const container = element("div", { className, dir: "auto" });
  const boundaries = new Set([0, text.length]);
  for (const entity of entities) {
    boundaries.add(entity.offset);
    boundaries.add(entity.offset + entity.length);
  }
  const points = [...boundaries].filter((point) => point <= text.length).sort((a, b) => a - b);
  for (let index = 0; index < points.length - 1; index += 1) {
    const start = points[index];
    const end = points[index + 1];
    let node = document.createTextNode(text.slice(start, end));
    for (const entity of entities) {
      if (entity.offset > start || entity.offset + entity.length < end) continue;
      const tag = ENTITY_TAGS[entity.type];
      if (!tag) continue;
      const wrapper = document.createElement(tag);
      if (entity.type === "text_link") wrapper.href = entity.url;
      if (entity.type === "url") wrapper.href = text.slice(entity.offset, entity.offset + entity.length);
      if (tag === "a") wrapper.target = "_blank";
      if (entity.type === "spoiler") {
        wrapper.className = "spoiler";
        wrapper.addEventListener("click", () => wrapper.classList.add("revealed"));
      }
      wrapper.append(node);
      node = wrapper;
    }
    container.append(node);
  }
  return container;
}

function renderReplyKeyboard(rows) {
  const keyboard = $("reply-keyboard");
  keyboard.hidden = !rows;
  if (!rows) return;
  keyboard.replaceChildren(...rows.map((row) =>
    element("div", { className: "row" }, row.map((text) => {
      const node = element("button", { type: "button", dir: "auto", textContent: text });
      node.addEventListener("click", () => sendText(text));
      return node;
    }))
  ));
}

function renderCommands(commands) {
  const menu = $("commands-menu");
  if (!commands.length) {
    menu.replaceChildren(element("p", { className: "muted", textContent: "The bot set no commands." }));
    return;
  }
  menu.replaceChildren(...commands.map((command) => {
    const node = element("button", { type: "button" }, [
      `/${command.command}`,
      element("span", { className: "description", dir: "auto", textContent: command.description }),
    ]);
    node.addEventListener("click", () => {
      menu.hidden = true;
      sendText(`/${command.command}`);
    });
    return node;
  }));
}

function showCallbackAnswers(answers) {
  if (page.shownAnswers === null) {
    // Answers given before the page was opened are old news.
    page.shownAnswers = new Set(answers.map((answer) => answer.id));
    return;
  }
  for (const answer of answers) {
    if (page.shownAnswers.has(answer.id)) continue;
    page.shownAnswers.add(answer.id);
    showToast(answer.text, answer.show_alert);
  }
}

function showToast(text, isAlert = false) {
  const toast = $("toast");
  toast.textContent = text;
  toast.dir = "auto";
  toast.className = `toast${isAlert ? " alert" : ""}`;
  toast.hidden = false;
  clearTimeout(page.toastTimer);
  page.toastTimer = setTimeout(() => (toast.hidden = true), TOAST_SECONDS * 1000);
}

// --- actions ---------------------------------------------------------------------------------

async function act(action) {
  try {
    await action();
  } catch (error) {
    showToast(`⚠ ${error.message}`, true);
  }
}

function sendText(text) {
  return act(() => postJson(`/sandbox/api/users/${page.userId}/messages`, { text }));
}

function press(messageId, text) {
  return act(() => postJson(`/sandbox/api/users/${page.userId}/press`, { message_id: messageId, text }));
}

function sendFile(file, kind, caption) {
  const form = new FormData();
  form.append("file", file);
  form.append("kind", kind);
  if (caption) form.append("caption", caption);
  return act(() => api(`/sandbox/api/users/${page.userId}/files`, { method: "POST", body: form }));
}

function setUpComposer() {
  const input = $("message-input");
  $("composer").addEventListener("submit", (event) => {
    event.preventDefault();
    const text = input.value;
    if (!text.trim()) return;
    input.value = "";
    sendText(text);
  });
  input.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      $("composer").requestSubmit();
    }
  });
  $("file-input").addEventListener("change", (event) => {
    const file = event.target.files[0];
    if (!file) return;
    const caption = input.value.trim();
    input.value = "";
    event.target.value = "";
    sendFile(file, $("file-kind").value, caption);
  });
  $("commands-button").addEventListener("click", () => {
    $("commands-menu").hidden = !$("commands-menu").hidden;
  });
  $("start-button").addEventListener("click", () => sendText("/start"));
  $("block-button").addEventListener("click", () =>
    act(() => postJson(`/sandbox/api/users/${page.userId}/blocked`, {
      blocked: !page.chat.user.blocked,
    }))
  );
}

function setUpNewUserForm() {
  const form = $("new-user-form");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const fields = Object.fromEntries(new FormData(form).entries());
    try {
      const user = await postJson("/sandbox/api/users", fields);
      form.reset();
      $("new-user-error").hidden = true;
      window.location.search = `?user=${user.id}`;
    } catch (error) {
      $("new-user-error").textContent = error.message;
      $("new-user-error").hidden = false;
    }
  });
}

setUpComposer();
setUpNewUserForm();
poll();
