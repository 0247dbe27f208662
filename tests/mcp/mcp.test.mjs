// Drives the MCP server at /mcp through the gateway with the official @modelcontextprotocol/sdk client, unchanged:
// on and off by settings, tools per caller in both tool modes, errors as isError results, prompts with arguments, and
// the audit of every call. Run by McpClientTests with GATEWAY_URL and ADMIN_TOKEN set; the tests run in order and
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
