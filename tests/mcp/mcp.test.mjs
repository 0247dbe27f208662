// Drives the MCP server at /mcp through the gateway with the official @modelcontextprotocol/sdk client, unchanged:
// on and off by settings, tools per caller in both tool modes, errors as isError results, prompts with arguments, and
// the audit of every call, and the content tools: rows under the caller's grant, the delete guard, system-prompt, assets as images. Run by McpClientTests with GATEWAY_URL and ADMIN_TOKEN set; the tests run in order and
// share what `before` makes: a notes collection, an app user whose grant admits only its own notes, a prompts
// collection with a published and a draft prompt, and MCP turned on.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { McpError } from '@modelcontextprotocol/sdk/types.js';

const url = process.env.GATEWAY_URL;
const adminToken = process.env.ADMIN_TOKEN;
assert.ok(url && adminToken, 'GATEWAY_URL and ADMIN_TOKEN must be set');

const suffix = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
const notes = `mcp_notes_${suffix}`;
const prompts = `mcp_prompts_${suffix}`;
const tool = (name) => JSON.parse(readFileSync(new URL(`../../Services.Tools/AssistantTools/${name}/tool.json`, import.meta.url), 'utf8'));
const instructions = (name) => readFileSync(new URL(`../../Services.Tools/AssistantTools/${name}/instructions.md`, import.meta.url), 'utf8').trim();
const users = {};

/** A REST call to the gateway; answers `data`, throws with the body on a failure. */
async function api(method, path, body, token = adminToken) {
  const response = await fetch(new URL(path, url), {
    method,
    headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${text}`);
  return text ? JSON.parse(text).data : null;
}

/** An MCP client connected as `token` (none: no Authorization header) to /mcp with `query`. */
async function connect(token, query = '') {
  const client = new Client({ name: 'aiassistant-mcp-tests', version: '1.0.0' });
  const headers = token ? { Authorization: `Bearer ${token}` } : {};
  await client.connect(new StreamableHTTPClientTransport(new URL(`/mcp${query}`, url), { requestInit: { headers } }));
  return client;
}

/** Runs `client` for one block and closes it. */
async function as(token, query, use) {
  const client = await connect(token, query);
  try {
    return await use(client);
  } finally {
    await client.close();
  }
}

/** Retries `check` until it passes, for at most `ms` (settings and grants apply within a second). */
async function eventually(check, ms = 3000) {
  const until = Date.now() + ms;
  for (;;) {
    try {
      return await check();
    } catch (error) {
      if (Date.now() > until) throw error;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

/** The JSON envelope a tool call answered as text, with its isError flag. */
function envelope(result) {
  assert.equal(result.content.length, 1);
  assert.equal(result.content[0].type, 'text');
  return { isError: result.isError === true, ...JSON.parse(result.content[0].text) };
}

before(async () => {
  users.admin = (await api('GET', '/users/me')).id;
  await api('POST', '/collections', {
    collection: notes, schema: {},
    fields: [{ field: 'title', type: 'string' }, { field: 'owner', type: 'uuid' }],
  });
  const policy = (await api('POST', '/policies', { name: `mcp-${suffix}`, app_access: true, admin_access: false })).id;
  const role = (await api('POST', '/roles', { name: `mcp-${suffix}`, policies: [{ policy }] })).id;
  users.appToken = `st-mcp-${suffix}-${Math.random().toString(36).slice(2)}`;
  users.app = (await api('POST', '/users', { email: `mcp-${suffix}@example.com`, password: `pw-${suffix}-x1`, role, token: users.appToken })).id;
  users.policy = policy;
  await api('POST', '/permissions', { policy, collection: notes, action: 'read', fields: ['*'], permissions: { owner: { _eq: '$CURRENT_USER' } } });
  await api('POST', `/items/${notes}`, [
    { title: 'mine 1', owner: users.app }, { title: 'mine 2', owner: users.app }, { title: 'theirs', owner: users.admin },
  ]);

  const generated = await api('POST', '/ai/prompts-collection', { collection: prompts });
  assert.equal(generated.collection, prompts);
  await api('POST', `/items/${prompts}`, [
    {
      name: 'greet', status: 'published', description: 'Greets someone',
      system_prompt: 'You greet {{ name: who to greet }} in {{language}}.',
      messages: [{ role: 'user', text: 'Say hello to {{name}}.' }, { role: 'assistant', text: 'Hello, {{ name }}!' }],
    },
    { name: 'unfinished', status: 'draft', messages: [{ role: 'user', text: 'not yet' }] },
  ]);
  await api('PATCH', '/settings', { mcp_enabled: true, mcp_allow_deletes: false, mcp_prompts_collection: prompts });
  await eventually(() => as(adminToken, '', (c) => c.listTools()));
});

after(async () => {
  await api('PATCH', '/settings', { mcp_enabled: false, mcp_allow_deletes: false, mcp_prompts_collection: null });
});

test('MCP turned off answers 403 "MCP must be enabled" to everyone, and on again serves', async () => {
  await api('PATCH', '/settings', { mcp_enabled: false });
  try {
    for (const token of [adminToken, users.appToken, null]) {
      await eventually(() => assert.rejects(connect(token), (error) => {
        assert.equal(error.code, 403);
        assert.match(error.message, /MCP must be enabled/);
        assert.match(error.message, /"code":"FORBIDDEN"/);
        return true;
      }));
    }
  } finally {
    await api('PATCH', '/settings', { mcp_enabled: true });
  }
  await eventually(() => as(users.appToken, '', (c) => c.listTools()));
});

test('with MCP on, no token is 403 FORBIDDEN and a bad tool_mode is 400 INVALID_QUERY, in the Directus envelope', async () => {
  await assert.rejects(connect(null), (error) => {
    assert.equal(error.code, 403);
    assert.match(error.message, /"code":"FORBIDDEN"/);
    return true;
  });
  await assert.rejects(connect(adminToken, '?tool_mode=everything'), (error) => {
    assert.equal(error.code, 400);
    assert.match(error.message, /"code":"INVALID_QUERY"/);
    return true;
  });
  await assert.rejects(connect('not-a-token'), (error) => {
    assert.equal(error.code, 401);
    return true;
  });
});

test('legacy mode lists each visible tool with its instructions as the description and its input schema; no search or execute', async () => {
  const { tools } = await as(adminToken, '', (c) => c.listTools());
  const names = tools.map((t) => t.name);
  assert.ok(names.includes('schema'), names.join(', '));
  assert.ok(!names.includes('search') && !names.includes('execute'), names.join(', '));
  const schema = tools.find((t) => t.name === 'schema');
  assert.equal(schema.description, instructions('schema'));
  assert.deepEqual(schema.inputSchema, tool('schema').inputSchema);
  assert.equal(schema.annotations.readOnlyHint, true);
  assert.equal(schema.annotations.destructiveHint, false);
});

test('tool_mode=registry lists only the root tools search, execute and schema, with their descriptions', async () => {
  const { tools } = await as(users.appToken, '?tool_mode=registry', (c) => c.listTools());
  assert.deepEqual(tools.map((t) => t.name).sort(), ['execute', 'schema', 'search']);
  for (const t of tools) assert.equal(t.description, tool(t.name).description);
  assert.equal(tools.find((t) => t.name === 'execute').annotations.openWorldHint, true);
});

test('each caller sees the schema under its own permissions', async () => {
  const admin = envelope(await as(adminToken, '', (c) => c.callTool({ name: 'schema', arguments: {} })));
  assert.equal(admin.ok, true);
  assert.ok(admin.result.collections.includes(notes) && admin.result.collections.includes(prompts), JSON.stringify(admin.result));
  const app = envelope(await as(users.appToken, '', (c) => c.callTool({ name: 'schema', arguments: {} })));
  assert.deepEqual(app.result.collections, [notes]);
  const fields = envelope(await as(users.appToken, '?tool_mode=registry', (c) => c.callTool({ name: 'schema', arguments: { keys: [notes] } })));
  assert.deepEqual(Object.keys(fields.result[notes]).sort(), ['id', 'owner', 'title']);
  const hidden = envelope(await as(users.appToken, '', (c) => c.callTool({ name: 'schema', arguments: { keys: [prompts] } })));
  assert.equal(hidden.isError, true);
  assert.doesNotMatch(JSON.stringify(hidden), /system_prompt/);
});

test('tool errors are isError results carrying the JSON error envelope', async () => {
  await as(users.appToken, '', async (c) => {
    const invalid = envelope(await c.callTool({ name: 'schema', arguments: { keys: [1] } }));
    assert.equal(invalid.isError, true);
    assert.equal(invalid.ok, false);
    assert.equal(invalid.error.code, 'INVALID_PAYLOAD');
    assert.equal(invalid.error.recoverable, true);
    const unknown = envelope(await c.callTool({ name: 'search', arguments: { query: 'x' } }));
    assert.equal(unknown.error.code, 'UNKNOWN_TOOL');
    assert.deepEqual(unknown.error.next, { tool: 'search', input: { query: 'search' } });
    const nothing = envelope(await c.callTool({ name: 'no-such-tool', arguments: {} }));
    assert.equal(nothing.error.code, 'UNKNOWN_TOOL');
  });
  await as(users.appToken, '?tool_mode=registry', async (c) => {
    const root = envelope(await c.callTool({ name: 'execute', arguments: { name: 'schema', input: {} } }));
    assert.equal(root.error.code, 'INVALID_PAYLOAD');
    const unknown = envelope(await c.callTool({ name: 'execute', arguments: { name: 'nope', input: {} } }));
    assert.equal(unknown.error.code, 'UNKNOWN_TOOL');
    const search = envelope(await c.callTool({ name: 'search', arguments: { query: 'x', names: ['y'] } }));
    assert.equal(search.error.code, 'INVALID_PAYLOAD');
  });
});

test('prompts: the published ones the caller may read, their variables as required arguments', async () => {
  const { prompts: listed } = await as(adminToken, '', (c) => c.listPrompts());
  assert.deepEqual(listed, [{
    name: 'greet', description: 'Greets someone',
    arguments: [{ name: 'name', description: 'who to greet', required: true }, { name: 'language', required: true }],
  }]);
  // the app user has no grant on the prompts collection: no prompts, not an error
  assert.deepEqual((await as(users.appToken, '', (c) => c.listPrompts())).prompts, []);
});

test('getPrompt renders the system prompt as an assistant message then the messages; a missing argument is an error naming it', async () => {
  await as(adminToken, '', async (c) => {
    const prompt = await c.getPrompt({ name: 'greet', arguments: { name: 'Ada', language: 'French' } });
    assert.equal(prompt.description, 'Greets someone');
    assert.deepEqual(prompt.messages, [
      { role: 'assistant', content: { type: 'text', text: 'You greet Ada in French.' } },
      { role: 'user', content: { type: 'text', text: 'Say hello to Ada.' } },
      { role: 'assistant', content: { type: 'text', text: 'Hello, Ada!' } },
    ]);
    await assert.rejects(c.getPrompt({ name: 'greet', arguments: { name: 'Ada' } }), (error) => {
      assert.ok(error instanceof McpError, String(error));
      assert.equal(error.code, -32602);
      assert.match(error.message, /Missing required argument: language/);
      return true;
    });
    await assert.rejects(c.getPrompt({ name: 'unfinished', arguments: {} }), /Prompt "unfinished" not found/);
  });
});

test('a read grant on the prompts collection shows the app user the published prompts within a second', async () => {
  const permission = await api('POST', '/permissions', { policy: users.policy, collection: prompts, action: 'read', fields: ['*'] });
  try {
    await eventually(async () => {
      const { prompts: listed } = await as(users.appToken, '', (c) => c.listPrompts());
      assert.deepEqual(listed.map((p) => p.name), ['greet']);
    });
    const rendered = await as(users.appToken, '', (c) => c.getPrompt({ name: 'greet', arguments: { name: 'Bo', language: 'Dutch' } }));
    assert.equal(rendered.messages[0].content.text, 'You greet Bo in Dutch.');
  } finally {
    await api('DELETE', `/permissions/${permission.id}`);
  }
});

test('every MCP call is in the audit with surface mcp, the caller, the tool, its keys and the outcome', async () => {
  const marker = `audit_${suffix}`;
  await as(users.appToken, '', async (c) => {
    await c.callTool({ name: 'schema', arguments: { keys: [notes] } });
    await c.callTool({ name: 'schema', arguments: { keys: [marker, 5] } });
  });
  const rows = await eventually(async () => {
    const found = await api('GET', `/ai/tool-calls?filter[user][_eq]=${users.app}&filter[surface][_eq]=mcp&sort=-id&limit=50`);
    assert.ok(found.some((r) => r.error_code === 'INVALID_PAYLOAD' && r.keys?.[0] === marker), JSON.stringify(found));
    return found;
  });
  assert.ok(rows.every((r) => r.surface === 'mcp' && r.user === users.app), JSON.stringify(rows));
  assert.ok(rows.some((r) => r.tool === 'schema' && r.outcome === 'ok' && r.error_code === null && JSON.stringify(r.keys) === JSON.stringify([notes])),
    JSON.stringify(rows));
  assert.ok(rows.every((r) => typeof r.duration_ms === 'number' && r.duration_ms >= 0));
  assert.deepEqual(Object.keys(rows[0]).sort(),
    ['action', 'collection', 'duration_ms', 'error_code', 'id', 'keys', 'outcome', 'surface', 'timestamp', 'tool', 'user']);
  // the app user may not read the audit, over MCP's callers or otherwise
  await assert.rejects(api('GET', '/ai/tool-calls', undefined, users.appToken), /403/);
});

test('each caller lists what it may use: the content tools for both, the admin-only schema tools for the admin only', async () => {
  const admin = (await as(adminToken, '', (c) => c.listTools())).tools.map((t) => t.name);
  for (const name of ['items', 'files', 'folders', 'assets', 'collections', 'fields', 'relations', 'system-prompt', 'schema'])
    assert.ok(admin.includes(name), `${name} missing for the admin: ${admin.join(', ')}`);
  const app = (await as(users.appToken, '', (c) => c.listTools())).tools.map((t) => t.name);
  assert.ok(app.includes('items') && app.includes('schema'), app.join(', '));
  for (const name of ['collections', 'fields', 'relations']) assert.ok(!app.includes(name), `${name} listed for the app user`);
  const refused = envelope(await as(users.appToken, '', (c) => c.callTool({ name: 'fields', arguments: { action: 'read', collection: notes } })));
  assert.equal(refused.error.code, 'UNKNOWN_TOOL');
  const items = (await as(adminToken, '', (c) => c.listTools())).tools.find((t) => t.name === 'items');
  assert.equal(items.description, instructions('items'));
  assert.equal(items.inputSchema.type, 'object');
  assert.ok(items.inputSchema.properties.action, JSON.stringify(items.inputSchema));
});

/** The titles of an items read's result (a list of items). */
const titlesOf = (reply) => {
  assert.equal(reply.ok, true, JSON.stringify(reply));
  const rows = Array.isArray(reply.result) ? reply.result : reply.result.data;
  return rows.map((r) => r.title).sort();
};

test('the app user reads only its own rows through items, in both tool modes; the admin reads every row', async () => {
  const read = { action: 'read', collection: notes, query: { fields: ['title'], sort: ['title'] } };
  assert.deepEqual(titlesOf(envelope(await as(users.appToken, '', (c) => c.callTool({ name: 'items', arguments: read })))), ['mine 1', 'mine 2']);
  assert.deepEqual(titlesOf(envelope(await as(users.appToken, '?tool_mode=registry',
    (c) => c.callTool({ name: 'execute', arguments: { name: 'items', input: read } })))), ['mine 1', 'mine 2']);
  assert.deepEqual(titlesOf(envelope(await as(adminToken, '', (c) => c.callTool({ name: 'items', arguments: read })))), ['mine 1', 'mine 2', 'theirs']);
  // a write the app user has no grant for is the store's refusal, as an isError result
  const write = envelope(await as(users.appToken, '', (c) => c.callTool({ name: 'items', arguments: { action: 'create', collection: notes, data: { title: 'x' } } })));
  assert.equal(write.isError, true);
  assert.equal(write.error.code, 'FORBIDDEN');
});

test('writes run without an approval step, and every delete is refused while mcp_allow_deletes is off', async () => {
  await as(adminToken, '', async (c) => {
    const created = envelope(await c.callTool({ name: 'items', arguments: { action: 'create', collection: notes, data: { title: 'doomed' } } }));
    assert.equal(created.ok, true, JSON.stringify(created));
    const row = Array.isArray(created.result) ? created.result[0] : created.result;
    const refused = envelope(await c.callTool({ name: 'items', arguments: { action: 'delete', collection: notes, keys: [row.id] } }));
    assert.equal(refused.isError, true);
    assert.equal(refused.error.code, 'INVALID_PAYLOAD');
    assert.match(refused.error.message, /Delete actions are disabled/);
    assert.equal((await api('GET', `/items/${notes}?filter[title][_eq]=doomed`)).length, 1);
    users.doomed = row.id;
  });
  await api('PATCH', '/settings', { mcp_allow_deletes: true });
  try {
    await eventually(async () => {
      const deleted = envelope(await as(adminToken, '', (c) =>
        c.callTool({ name: 'items', arguments: { action: 'delete', collection: notes, keys: [users.doomed] } })));
      assert.equal(deleted.ok, true, JSON.stringify(deleted));
    });
    assert.equal((await api('GET', `/items/${notes}?filter[title][_eq]=doomed`)).length, 0);
  } finally {
    await api('PATCH', '/settings', { mcp_allow_deletes: false });
  }
});

test('system-prompt is offered while mcp_system_prompt_enabled, answers mcp_system_prompt when set, and is gone when disabled', async () => {
  const call = () => as(users.appToken, '', (c) => c.callTool({ name: 'system-prompt', arguments: {} }));
  const defaultText = readFileSync(new URL('../../Services.Tools/AssistantTools/system-prompt/prompt.md', import.meta.url), 'utf8').trim();
  assert.equal(envelope(await call()).result, defaultText);
  await api('PATCH', '/settings', { mcp_system_prompt: 'Answer in one sentence.' });
  try {
    await eventually(async () => assert.equal(envelope(await call()).result, 'Answer in one sentence.'));
    await api('PATCH', '/settings', { mcp_system_prompt_enabled: false });
    await eventually(async () => {
      const names = (await as(users.appToken, '', (c) => c.listTools())).tools.map((t) => t.name);
      assert.ok(!names.includes('system-prompt'), names.join(', '));
    });
    assert.equal(envelope(await call()).error.code, 'UNKNOWN_TOOL');
  } finally {
    await api('PATCH', '/settings', { mcp_system_prompt_enabled: true, mcp_system_prompt: null });
  }
});

// a 2×2 red PNG
const png = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAIAAAACCAIAAAD91JpzAAAAEElEQVR4nGP4z8AARAwQCgAf7gP9i18U1AAAAABJRU5ErkJggg==', 'base64');

test('an image read by the assets tool is MCP image content', async () => {
  const form = new FormData();
  form.append('file', new Blob([png], { type: 'image/png' }), 'red.png');
  const response = await fetch(new URL('/files', url), { method: 'POST', headers: { Authorization: `Bearer ${adminToken}` }, body: form });
  assert.equal(response.status, 200, await response.clone().text());
  const file = (await response.json()).data;
  const result = await as(adminToken, '', (c) => c.callTool({ name: 'assets', arguments: { id: file.id } }));
  assert.notEqual(result.isError, true, JSON.stringify(result));
  assert.equal(result.content.length, 1);
  assert.equal(result.content[0].type, 'image');
  assert.equal(result.content[0].mimeType, 'image/png');
  assert.deepEqual(Buffer.from(result.content[0].data, 'base64'), png);
  // the app user may not read the file: an isError result, no bytes
  const refused = await as(users.appToken, '', (c) => c.callTool({ name: 'assets', arguments: { id: file.id } }));
  assert.equal(refused.isError, true);
  assert.equal(refused.content[0].type, 'text');
});
