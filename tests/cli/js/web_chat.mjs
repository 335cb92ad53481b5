// Drives `uma serve`'s web chat page (GET /) in headless Chromium through
// playwright-core: node web_chat.mjs CONFIG_JSON, where the config names
// {modules, chromium, base, out, key, system, questions: [q1, q2, q3],
// max_tokens, long_max_tokens, stub: {reasoning, content}}. It only acts and
// records: one JSON object on stdout of what the page showed and sent, which
// serve_web_cli_test.cpp checks against `uma generate` and the server's own
// answers. A wait that runs out throws (exit 1).
import { createRequire } from "node:module";

const cfg = JSON.parse(process.argv[2]);
const require = createRequire(cfg.modules + "/");
const { chromium } = require("playwright-core");
const limit = { timeout: 120000 };  // generous: CI runs test binaries side by side
const out = { csp_violations: [], page_errors: [], requests: [] };

const browser = await chromium.launch({
  executablePath: cfg.chromium, headless: true, args: ["--headless", "--no-sandbox"], ...limit });

function watch(page) {
  page.on("console", (m) => {
    if (/Content Security Policy|Refused to/i.test(m.text())) out.csp_violations.push(m.text());
  });
  page.on("pageerror", (e) => out.page_errors.push(String(e)));
  page.on("request", (r) => {
    if (r.method() === "POST" && r.url().endsWith("/v1/chat/completions")) {
      out.requests.push({ body: r.postDataJSON(), authorization: r.headers().authorization ?? null });
    }
  });
}

const text = (page, sel) => page.locator(sel).textContent();
const messageCount = (page) => page.locator("#messages .msg").count();

// Types `q`, sends it (the Send button, or Enter in the box) and waits
// until the page is idle again.
async function ask(page, q, enter = false) {
  await page.fill("#input", q);
  // send() marks the page busy before its first await
  if (enter) await page.press("#input", "Enter");
  else await page.click("#send");
  await page.waitForFunction(() => document.body.dataset.busy === "0", null, limit);
}

// The last assistant message as shown.
function lastAnswer(page) {
  return page.evaluate(() => {
    const all = document.querySelectorAll("#messages .msg.assistant");
    const m = all[all.length - 1];
    if (!m) return null;
    const body = m.querySelector(".content"), thought = m.querySelector(".reasoning");
    return { state: m.dataset.state, content: body.textContent, meta: m.querySelector(".meta").textContent,
             text_nodes: body.childNodes.length, reasoning_hidden: thought.hidden,
             reasoning: thought.querySelector("div").textContent };
  });
}

const setKey = (page, key) => Promise.all([
  page.waitForResponse((r) => r.url().endsWith("/v1/models"), limit),
  page.fill("#apikey", key).then(() => page.press("#apikey", "Tab"))]);

try {
  const page = await (await browser.newContext({ viewport: { width: 1000, height: 700 } })).newPage();
  watch(page);
  const res = await page.goto(cfg.base + "/", limit);
  out.page = { status: res.status(), title: await page.title() };

  // No key yet: /v1/models answers 401, and the page asks for the key.
  await page.locator("#keyrow").waitFor({ state: "visible", ...limit });
  await page.locator("#error").waitFor({ state: "visible", ...limit });
  out.no_key = { error: await text(page, "#error"), model: await text(page, "#model") };

  // A wrong key: the question comes back with the server's 401.
  await setKey(page, "wrong");
  await ask(page, cfg.questions[0]);
  out.wrong_key = { error: await text(page, "#error"), messages: await messageCount(page),
                    input: await page.inputValue("#input") };

  // The right key: the model's name, then two turns.
  await setKey(page, cfg.key);
  await page.waitForFunction(() => document.getElementById("model").dataset.id, null, limit);
  out.model = await text(page, "#model");
  out.error_hidden = await page.locator("#error").isHidden();
  await page.fill("#max_tokens", String(cfg.max_tokens));
  await page.fill("#system", cfg.system);
  out.turns = [];
  for (const [i, q] of cfg.questions.slice(0, 2).entries()) {
    await ask(page, q, i === 1);
    out.turns.push({ ...(await lastAnswer(page)), request: out.requests.at(-1) });
  }
  out.messages_after_turns = await messageCount(page);
  await page.screenshot({ path: cfg.out + "/chat.png" });
  out.screenshot = cfg.out + "/chat.png";

  // A bad setting: the server's 400, the question back in the box.
  await page.fill("#temperature", "-1");
  await ask(page, "a question the server refuses");
  out.bad_request = { error: await text(page, "#error"), messages: await messageCount(page),
                      input: await page.inputValue("#input"), request: out.requests.at(-1) };
  await page.fill("#temperature", "");
  await page.fill("#input", "");

  // New chat, then a long answer stopped once its first words show.
  await page.click("#new");
  out.messages_after_new = await messageCount(page);
  await page.fill("#max_tokens", String(cfg.long_max_tokens));
  await page.fill("#input", cfg.questions[2]);
  await page.click("#send");
  await page.waitForFunction(() => {
    const m = document.querySelector("#messages .msg.assistant .content");
    return m && m.textContent.length > 0;
  }, null, limit);
  out.stop_enabled = await page.isEnabled("#stop");
  await page.click("#stop");
  await page.waitForFunction(() => document.body.dataset.busy === "0", null, limit);
  out.stopped = { ...(await lastAnswer(page)), request: out.requests.at(-1) };
  // The server lets the sequence go at its next step.
  for (let i = 0; i < 1200; ++i) {
    out.health = await (await fetch(cfg.base + "/health")).json();
    if (out.health.active === 0 && out.health.queued === 0) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  await page.waitForFunction(() => /active 0 /.test(document.getElementById("health").textContent),
                             null, limit);
  out.page_health = await text(page, "#health");

  // Chunks the server could send, stubbed: reasoning shown apart, model text
  // that looks like HTML shown as text, and an error event mid-stream.
  const stubbed = await (await browser.newContext()).newPage();
  watch(stubbed);
  const sse = (chunks) => chunks.map((c) => "data: " + JSON.stringify(c) + "\r\n\r\n").join("") +
                          "data: [DONE]\r\n\r\n";
  const delta = (d, finish = null) => ({ object: "chat.completion.chunk",
                                         choices: [{ index: 0, delta: d, finish_reason: finish }] });
  const half = Math.floor(cfg.stub.content.length / 2);
  const bodies = [
    sse([delta({ role: "assistant", content: "" }), delta({ reasoning_content: cfg.stub.reasoning }),
         delta({ content: cfg.stub.content.slice(0, half) }), delta({ content: cfg.stub.content.slice(half) }),
         delta({}, "stop")]),
    sse([delta({ role: "assistant", content: "" }), delta({ content: "partial" }),
         { error: { message: "boom", type: "server_error", param: null, code: null } }]),
  ];
  await stubbed.route("**/v1/chat/completions", (route) =>
    route.fulfill({ status: 200, contentType: "text/event-stream", body: bodies.shift() }));
  await stubbed.goto(cfg.base + "/", limit);
  await ask(stubbed, "stubbed");
  out.stub = { ...(await lastAnswer(stubbed)),
               images: await stubbed.locator("#messages img").count(),
               injected: await stubbed.evaluate(() => window.injected === 1) };
  await ask(stubbed, "stubbed error");
  out.stub_error = { ...(await lastAnswer(stubbed)), error: await text(stubbed, "#error") };
} finally {
  await browser.close();
}
console.log(JSON.stringify(out));
