// The official `openai` npm client against `uma serve`: node openai_client.mjs
// NODE_MODULES_DIR BASE_URL API_KEY TOOLS_BASE_URL SCHEMA_JSON TOOL_GRAMMAR.
// BASE_URL serves the built-in model, TOOLS_BASE_URL a Qwen3 model (no API
// key) that TOOL_GRAMMAR makes call a tool. Prints one JSON object of what
// the client got; serve_npm_cli_test.cpp checks it against uma generate, the
// schema and the grammar's text.
import { createRequire } from "node:module";

const [modules, baseURL, apiKey, toolsURL, schemaText, toolGrammar] = process.argv.slice(2);
const require = createRequire(modules + "/");
const OpenAI = require("openai");
const Client = OpenAI.default ?? OpenAI.OpenAI ?? OpenAI;
const client = new Client({ baseURL, apiKey, maxRetries: 0 });
const out = {};
const errorOf = (e) => ({ status: e.status, message: e.message, type: e.type ?? null, param: e.param ?? null,
                          class: e.constructor.name });

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

// Structured output: the client's parse() reads the answer as JSON.
const response_format = { type: "json_schema", json_schema: { name: "entry", strict: true, schema: JSON.parse(schemaText) } };
const parsed = await client.chat.completions.parse({
  model: "uma", messages, max_tokens: 400, temperature: 0.9, seed: 1, response_format });
out.schema = { content: parsed.choices[0].message.content, parsed: parsed.choices[0].message.parsed,
               finish_reason: parsed.choices[0].finish_reason };

// logprobs, whole and streamed.
const lp = await client.chat.completions.create({ model: "uma", messages, max_tokens: 12, logprobs: true, top_logprobs: 3 });
out.logprobs = { content: lp.choices[0].message.content, entries: lp.choices[0].logprobs.content };
const lpStream = await client.chat.completions.create({
  model: "uma", messages, max_tokens: 12, logprobs: true, top_logprobs: 3, stream: true });
out.logprobs.streamed = [];
for await (const chunk of lpStream) out.logprobs.streamed.push(...(chunk.choices[0]?.logprobs?.content ?? []));

// Tools: a call unstreamed, then streamed (the client's own stream helper
// adds the deltas up), then passed back with its result.
const tools = [{ type: "function", function: { name: "get_weather", description: "The weather in a city",
  parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"] } } }];
const toolsClient = new Client({ baseURL: toolsURL, apiKey: "none", maxRetries: 0 });
const ask = { model: "uma", messages: [{ role: "user", content: "Weather in Paris?" }], tools, max_tokens: 200,
              grammar: toolGrammar };
const call = await toolsClient.chat.completions.create(ask);
out.tools = { message: call.choices[0].message, finish_reason: call.choices[0].finish_reason, usage: call.usage };
const callStream = toolsClient.chat.completions.stream(ask);
let reasoning = "", argumentDeltas = 0, firstCall = null;
for await (const chunk of callStream) {
  const d = chunk.choices[0]?.delta;
  if (!d) continue;
  reasoning += d.reasoning_content ?? "";
  for (const c of d.tool_calls ?? []) {
    if (c.id && !firstCall) firstCall = c;
    if (c.function?.arguments) argumentDeltas++;
  }
}
const final = await callStream.finalChatCompletion();
out.tools_stream = { content: final.choices[0].message.content, tool_calls: final.choices[0].message.tool_calls,
                     finish_reason: final.choices[0].finish_reason, reasoning, argumentDeltas, firstCall };
const back = await toolsClient.chat.completions.create({ model: "uma", tools, max_tokens: 4, messages: [
  ...ask.messages, call.choices[0].message,
  { role: "tool", tool_call_id: call.choices[0].message.tool_calls[0].id, content: "22C and sunny" }] });
out.tools_back = { prompt_tokens: back.usage.prompt_tokens, finish_reason: back.choices[0].finish_reason };

// Errors, as the client's error classes.
try {
  await client.chat.completions.create({ model: "uma", messages: [], max_tokens: 4 });
  out.error = null;
} catch (e) {
  out.error = errorOf(e);
}
try {
  await client.chat.completions.create({ model: "uma", messages, max_tokens: 4, response_format: { type: "xml" } });
  out.format_error = null;
} catch (e) {
  out.format_error = errorOf(e);
}
try {
  await client.chat.completions.create({ model: "uma", messages, max_tokens: 4, stream: true, top_logprobs: 2 });
  out.stream_error = null;
} catch (e) {
  out.stream_error = errorOf(e);
}
try {
  await client.get("/nothing");
  out.not_found = null;
} catch (e) {
  out.not_found = errorOf(e);
}
try {
  await new Client({ baseURL, apiKey: "wrong", maxRetries: 0 }).models.list();
  out.auth = null;
} catch (e) {
  out.auth = errorOf(e);
}
console.log(JSON.stringify(out));
