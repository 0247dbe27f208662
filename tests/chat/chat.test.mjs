// The chat stream read by the AI SDK's own client: AbstractChat (what @ai-sdk/vue's Chat extends) with
// DefaultChatTransport against the gateway, the provider simulator scripting the model. Env: GATEWAY_URL,
// ADMIN_TOKEN, SIM_URL (the simulator's origin, for its /_sim control API).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AbstractChat, DefaultChatTransport, lastAssistantMessageIsCompleteWithApprovalResponses } from 'ai';

const { GATEWAY_URL, ADMIN_TOKEN, SIM_URL } = process.env;
assert.ok(GATEWAY_URL && ADMIN_TOKEN && SIM_URL, 'GATEWAY_URL, ADMIN_TOKEN and SIM_URL are required');
const auth = { Authorization: `Bearer ${ADMIN_TOKEN}` };

class ArrayState {
  messages = [];
  status = 'ready';
  error = undefined;
  pushMessage = (m) => { this.messages = [...this.messages, m]; };
  popMessage = () => { this.messages = this.messages.slice(0, -1); };
  replaceMessage = (i, m) => { this.messages = [...this.messages.slice(0, i), m, ...this.messages.slice(i + 1)]; };
  snapshot = (x) => structuredClone(x);
}

class NodeChat extends AbstractChat {
  constructor(options) { super({ ...options, state: new ArrayState() }); }
}

function newChat(tools, model = { provider: 'openai-compatible', model: 'sim-model' }) {
  const errors = [];
  const chat = new NodeChat({
    transport: new DefaultChatTransport({
      api: `${GATEWAY_URL}/ai/chat`,
      headers: auth,
      body: { ...model, tools },
    }),
    sendAutomaticallyWhen: lastAssistantMessageIsCompleteWithApprovalResponses,
    onError: (e) => errors.push(e),
  });
  return { chat, errors };
}

async function rest(method, path, body) {
  const response = await fetch(`${GATEWAY_URL}${path}`, {
    method, headers: { ...auth, 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  assert.ok(response.ok, `${method} ${path} answered ${response.status}: ${text}`);
  return text ? JSON.parse(text) : null;
}

async function script(...replies) {
  const response = await fetch(`${SIM_URL}/_sim/replies`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(replies) });
  assert.equal(response.status, 200, await response.text());
}

async function until(what, predicate, ms = 15000) {
  const start = Date.now();
  while (!predicate()) {
    if (Date.now() - start > ms) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const toolParts = (chat) => chat.messages.flatMap((m) => m.parts).filter((p) => p.type === 'tool-execute');
const text = (chat) => chat.messages.at(-1).parts.filter((p) => p.type === 'text').map((p) => p.text).join('');

async function newCollection() {
  const collection = `posts_${Math.random().toString(16).slice(2, 8)}`;
  await rest('POST', '/collections', { collection, schema: {}, fields: [{ field: 'title', type: 'string' }] });
  return collection;
}

const count = async (collection) => (await rest('GET', `/items/${collection}?aggregate[count]=*`)).data[0].count;

test('text streams into the assistant message', async () => {
  await script({ text: 'Hello from the simulator.' });
  const { chat, errors } = newChat([]);
  await chat.sendMessage({ text: 'Hi' });
  assert.deepEqual(errors, []);
  assert.equal(chat.status, 'ready');
  assert.equal(chat.messages.length, 2);
  assert.equal(text(chat), 'Hello from the simulator.');
});

test('a write asks for approval, and runs once the user approves', async () => {
  const collection = await newCollection();
  await script({ toolCalls: [{ name: 'execute', arguments: { name: 'items', input: { action: 'create', collection, data: { title: 'Approved post' } } } }] });
  const { chat, errors } = newChat(['items']);
  await chat.sendMessage({ text: 'Create a post' });

  const [asked] = toolParts(chat);
  assert.equal(asked.state, 'approval-requested');
  assert.match(asked.approval.id, /^apr_/);
  assert.ok(asked.approval.signature, 'the approval carries the server signature');
  assert.equal(await count(collection), 0, 'nothing ran before the approval');

  await script({ text: 'Created it.' });
  await chat.addToolApprovalResponse({ id: asked.approval.id, approved: true });
  await until('the approved call to finish', () => chat.status === 'ready' && toolParts(chat)[0].state === 'output-available');

  assert.deepEqual(errors, []);
  const done = toolParts(chat)[0];
  assert.equal(done.output.ok, true);
  assert.equal(done.output.result[0].title, 'Approved post');
  assert.equal(await count(collection), 1);
  assert.match(text(chat), /Created it\./);
});

test('a denied write runs nothing and ends as output-denied', async () => {
  const collection = await newCollection();
  await script({ toolCalls: [{ name: 'execute', arguments: { name: 'items', input: { action: 'create', collection, data: { title: 'Denied post' } } } }] });
  const { chat, errors } = newChat(['items']);
  await chat.sendMessage({ text: 'Create a post' });
  const [asked] = toolParts(chat);
  assert.equal(asked.state, 'approval-requested');

  await script({ text: 'Fine, I left it.' });
  await chat.addToolApprovalResponse({ id: asked.approval.id, approved: false });
  await until('the denial to be answered', () => chat.status === 'ready' && toolParts(chat)[0].state === 'output-denied' && /left it/.test(text(chat)));

  assert.deepEqual(errors, []);
  assert.equal(await count(collection), 0);
});

test('a built-in provider\'s thinking becomes a reasoning part, and the usage after finish a data part', async () => {
  const settings = (await rest('GET', '/settings')).data;
  const allowed = [...new Set([...(settings.ai_anthropic_allowed_models ?? []), 'claude-sonnet-4-6'])];
  await rest('PATCH', '/settings', { ai_anthropic_api_key: 'sk-ant-chat-suite-0123456789', ai_anthropic_allowed_models: allowed });
  let chat, errors;
  // a replica that has not seen the new key yet answers 503 (the reply stays in the script, so it is cleared)
  for (let attempt = 0; attempt < 50; attempt++) {
    await script({ reasoning: 'Thinking it over.', text: 'Reasoned answer.', usage: { promptTokens: 900, completionTokens: 12, cachedTokens: 400, cacheCreationTokens: 100 } });
    ({ chat, errors } = newChat([], { provider: 'anthropic', model: 'claude-sonnet-4-6' }));
    await chat.sendMessage({ text: 'Think first' });
    if (errors.length === 0) break;
    await fetch(`${SIM_URL}/_sim/replies`, { method: 'DELETE' });
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.deepEqual(errors, []);
  assert.equal(chat.status, 'ready');
  const parts = chat.messages.at(-1).parts;
  assert.equal(parts.find((p) => p.type === 'reasoning')?.text, 'Thinking it over.');
  assert.equal(text(chat), 'Reasoned answer.');
  assert.deepEqual(parts.find((p) => p.type === 'data-usage')?.data,
    { inputTokens: 900, outputTokens: 12, totalTokens: 912, cacheReadTokens: 400, cacheCreationTokens: 100 });
});

test('after an approval, the resent turn carries the signed thinking back to Anthropic', async () => {
  // the previous test gave Anthropic a key and allowed claude-sonnet-4-6 on every replica
  const collection = await newCollection();
  await fetch(`${SIM_URL}/_sim/requests`, { method: 'DELETE' });
  await script({ reasoning: 'A write needs approval.', toolCalls: [{ name: 'execute', arguments: { name: 'items', input: { action: 'create', collection, data: { title: 'Thought post' } } } }] });
  const { chat, errors } = newChat(['items'], { provider: 'anthropic', model: 'claude-sonnet-4-6' });
  await chat.sendMessage({ text: 'Create a post' });
  const [asked] = toolParts(chat);
  assert.equal(asked.state, 'approval-requested');
  assert.ok(chat.messages.at(-1).parts.find((p) => p.type === 'reasoning')?.providerMetadata?.aiassistant?.protectedData, 'the reasoning part keeps its signature');

  await script({ text: 'Created.' });
  await chat.addToolApprovalResponse({ id: asked.approval.id, approved: true });
  await until('the approved call to finish', () => chat.status === 'ready' && /Created\./.test(text(chat)));
  assert.deepEqual(errors, []);
  assert.equal(await count(collection), 1);

  const requests = await (await fetch(`${SIM_URL}/_sim/requests`)).json();
  const resent = JSON.parse(requests.at(-1).body);
  const assistant = resent.messages.find((m) => m.role === 'assistant');
  assert.deepEqual(assistant.content.map((c) => c.type), ['thinking', 'tool_use']);
  assert.equal(assistant.content[0].thinking, 'A write needs approval.');
  assert.match(assistant.content[0].signature, /^sig_/);
});
