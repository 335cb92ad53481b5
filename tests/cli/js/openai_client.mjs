// The official `openai` npm client against `uma serve`: node openai_client.mjs
// NODE_MODULES_DIR BASE_URL API_KEY. Prints one JSON object of what it got;
// serve_cli_test.cpp checks it against `uma generate`.
import { createRequire } from "node:module";

const [modules, baseURL, apiKey] = process.argv.slice(2);
const require = createRequire(modules + "/");
const OpenAI = require("openai");
const Client = OpenAI.default ?? OpenAI.OpenAI ?? OpenAI;
const client = new Client({ baseURL, apiKey, maxRetries: 0 });
const out = {};

const messages = [{ role: "user", content: "What does 'garden' mean?" }];
const chat = await client.chat.completions.create({ model: "uma", messages, max_tokens: 24 });
out.chat = { content: chat.choices[0].message.content, finish_reason: chat.choices[0].finish_reason, usage: chat.usage };

const stream = await client.chat.completions.create({
  model: "uma", messages, max_tokens: 24, stream: true, stream_options: { include_usage: true } });
let text = "", usage = null, finish = null, role = null;
for await (const chunk of stream) {
  if (chunk.usage) usage = chunk.usage;
  const choice = chunk.choices[0];
  if (!choice) continue;
  if (choice.delta.role) role = choice.delta.role;
  text += choice.delta.content ?? "";
  if (choice.finish_reason) finish = choice.finish_reason;
}
out.stream = { content: text, role, finish_reason: finish, usage };

const completion = await client.completions.create({ model: "uma", prompt: "The garden", max_tokens: 16 });
out.completion = { text: completion.choices[0].text, finish_reason: completion.choices[0].finish_reason };

const models = await client.models.list();
out.models = [];
for await (const m of models) out.models.push(m.id);

try {
  await client.chat.completions.create({ model: "uma", messages: [], max_tokens: 4 });
  out.error = null;
} catch (e) {
  out.error = { status: e.status, message: e.message };
}
try {
  await new Client({ baseURL, apiKey: "wrong", maxRetries: 0 }).models.list();
  out.auth = null;
} catch (e) {
  out.auth = { status: e.status };
}
console.log(JSON.stringify(out));
