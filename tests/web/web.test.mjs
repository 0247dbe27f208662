// The admin app in a real browser: Debian's chromium driven by playwright-core against the whole stack, the provider
// simulator scripting the model. Env: GATEWAY_URL, AI_OFF_GATEWAY_URL (a gateway with AI_ENABLED=false), ADMIN_TOKEN, SIM_URL, SIM_BASE_URL, ADMIN_EMAIL/ADMIN_PASSWORD,
// APP_EMAIL/APP_PASSWORD (app access, not admin), API_EMAIL/API_PASSWORD (no app access), SCREENSHOTS (a folder),
// CHROMIUM (the browser's path, /usr/bin/chromium by default).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

const env = process.env;
for (const name of ['GATEWAY_URL', 'AI_OFF_GATEWAY_URL', 'ADMIN_TOKEN', 'SIM_URL', 'SIM_BASE_URL', 'ADMIN_EMAIL', 'ADMIN_PASSWORD', 'APP_EMAIL', 'APP_PASSWORD', 'APP_POLICY', 'API_EMAIL', 'API_PASSWORD', 'SCREENSHOTS'])
  assert.ok(env[name], `${name} is required`);
const base = `${env.GATEWAY_URL}/admin`;
mkdirSync(env.SCREENSHOTS, { recursive: true });

let browser;
before(async () => {
  browser = await chromium.launch({ executablePath: env.CHROMIUM || '/usr/bin/chromium', args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'] });
});
after(async () => browser?.close());

async function newPage() {
  const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
  const page = await context.newPage();
  const problems = [];
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('dialog', (d) => { problems.push(`dialog: ${d.message()}`); void d.dismiss(); });
  return { page, context, problems };
}

const shot = (page, name) => page.screenshot({ path: join(env.SCREENSHOTS, `${name}.png`), fullPage: true });

async function signIn(page, email, password, at = base) {
  await page.goto(`${at}/login`);
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

async function rest(method, path, body) {
  const response = await fetch(`${env.GATEWAY_URL}${path}`, {
    method, headers: { Authorization: `Bearer ${env.ADMIN_TOKEN}`, 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  assert.ok(response.ok, `${method} ${path} answered ${response.status}: ${text}`);
  return text ? JSON.parse(text) : null;
}

async function script(...replies) {
  const response = await fetch(`${env.SIM_URL}/_sim/replies`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(replies) });
  assert.equal(response.status, 200, await response.text());
}

const providerKey = `sk-browser-${Math.random().toString(16).slice(2)}${Math.random().toString(16).slice(2)}`;
const modelName = 'Browser Model';

test('a wrong password shows the server message', async () => {
  const { page, context } = await newPage();
  await signIn(page, env.ADMIN_EMAIL, 'not-the-password');
  await assert.doesNotReject(page.getByRole('alert').filter({ hasText: 'Invalid user credentials.' }).waitFor());
  await shot(page, 'login-error');
  await context.close();
});

test('an API-only user cannot sign in to the app', async () => {
  const { page, context } = await newPage();
  await signIn(page, env.API_EMAIL, env.API_PASSWORD);
  await page.getByRole('alert').filter({ hasText: 'no access to the app' }).waitFor();
  assert.match(page.url(), /\/admin\/login/);
  assert.equal(await page.evaluate(() => localStorage.getItem('aiassistant-auth')), null, 'no tokens are kept');
  await context.close();
});

test('an admin saves an OpenAI-compatible provider and sees its key masked after a reload', async () => {
  const { page, context, problems } = await newPage();
  await signIn(page, env.ADMIN_EMAIL, env.ADMIN_PASSWORD);
  await page.getByRole('link', { name: 'Settings → AI' }).click();
  await page.getByRole('heading', { name: 'Settings → AI' }).waitFor();
  const section = page.getByRole('region', { name: 'OpenAI-Compatible Providers' });
  const before = await section.getByRole('group', { name: /^Provider \d+$/ }).count();
  await section.getByRole('button', { name: 'Add provider' }).click();
  const provider = section.getByRole('group', { name: `Provider ${before + 1}` });
  await provider.getByLabel('Provider Name').fill('Browser Provider');
  await provider.getByLabel('Base URL').fill(env.SIM_BASE_URL);
  await provider.getByLabel('API Key', { exact: true }).fill(providerKey);
  await provider.getByRole('button', { name: 'Add model' }).click();
  await provider.getByLabel('Model ID').fill('browser-model');
  await provider.getByLabel('Display Name').fill(modelName);
  await page.getByRole('button', { name: 'Save' }).click();
  await page.getByRole('status').filter({ hasText: 'Saved.' }).waitFor();

  await page.reload();
  await page.getByRole('heading', { name: 'Settings → AI' }).waitFor();
  const saved = page.getByRole('region', { name: 'OpenAI-Compatible Providers' }).getByRole('group', { name: `Provider ${before + 1}` });
  assert.equal(await saved.getByLabel('Provider Name').inputValue(), 'Browser Provider');
  const key = saved.getByLabel('API Key', { exact: true });
  assert.equal(await key.inputValue(), '', 'the stored key never comes into the page');
  assert.equal(await key.getAttribute('placeholder'), 'Value securely stored');
  assert.ok(!(await page.content()).includes(providerKey), 'the key is nowhere in the page');
  await shot(page, 'settings-ai');

  // Saving another field leaves the key alone: only the changed field is sent, and the stored key is kept.
  const prompt = page.getByRole('textbox', { name: 'Custom System Prompt' });
  await prompt.fill('Answer briefly.');
  await page.getByRole('button', { name: 'Save' }).click();
  await page.getByRole('status').filter({ hasText: 'Saved.' }).waitFor();
  assert.equal((await rest('GET', '/settings')).data.ai_system_prompt, 'Answer briefly.');
  await prompt.fill('');
  await page.getByRole('button', { name: 'Save' }).click();
  await page.getByRole('status').filter({ hasText: 'Saved.' }).waitFor();
  const { data } = await rest('GET', '/settings');
  assert.equal(data.ai_system_prompt, null);
  const stored = data.ai_openai_compatible_providers.find((p) => p.name === 'Browser Provider');
  assert.equal(stored.api_key, '**********');
  assert.deepEqual(problems, []);
  await context.close();

  // Every Chat replica learns of the provider through the settings event; wait until they all list its model.
  const started = Date.now();
  for (let inARow = 0; inARow < 6;) {
    assert.ok(Date.now() - started < 15000, 'every replica lists the saved model within 15 s');
    const listed = (await rest('GET', '/ai/models')).data.some((m) => m.model === 'browser-model');
    inARow = listed ? inARow + 1 : 0;
    if (!listed) await new Promise((r) => setTimeout(r, 100));
  }
});

test('an admin sets a usage limit for a role and finds it after a reload', async () => {
  const role = (await rest('POST', '/roles', { name: `Limited ${Math.random().toString(16).slice(2, 8)}` })).data;
  const { page, context, problems } = await newPage();
  await signIn(page, env.ADMIN_EMAIL, env.ADMIN_PASSWORD);
  await page.getByRole('link', { name: 'Settings → AI' }).click();
  const section = page.getByRole('region', { name: 'Usage Limits' });
  const before = await section.getByRole('group', { name: /^Limit \d+$/ }).count();
  await section.getByRole('button', { name: 'Add limit' }).click();
  const limit = section.getByRole('group', { name: `Limit ${before + 1}` });
  await limit.getByLabel('Role').selectOption({ label: role.name });
  await limit.getByLabel('Requests per Minute').fill('1000');
  await limit.getByLabel('Tokens per Day').fill('5000000');
  await page.getByRole('button', { name: 'Save' }).click();
  await page.getByRole('status').filter({ hasText: 'Saved.' }).waitFor();
  assert.deepEqual((await rest('GET', '/settings')).data.ai_usage_limits.find((l) => l.role === role.id),
    { role: role.id, requests_per_minute: 1000, tokens_per_day: 5000000 });

  await page.reload();
  const saved = page.getByRole('region', { name: 'Usage Limits' }).getByRole('group', { name: `Limit ${before + 1}` });
  assert.equal(await saved.getByLabel('Role').inputValue(), role.id);
  assert.equal(await saved.getByLabel('Requests per Minute').inputValue(), '1000');
  await shot(page, 'settings-ai-limits');
  await saved.getByRole('button', { name: 'Remove limit' }).click();
  await page.getByRole('button', { name: 'Save' }).click();
  await page.getByRole('status').filter({ hasText: 'Saved.' }).waitFor();
  assert.equal((await rest('GET', '/settings')).data.ai_usage_limits.some((l) => l.role === role.id), false);
  assert.deepEqual(problems, []);
  await context.close();
});

async function openPanel(page) {
  await page.getByRole('button', { name: 'AI Assistant' }).click();
  const model = page.getByLabel('Model');
  await model.waitFor();
  const value = await model.locator('option', { hasText: modelName }).getAttribute('value');
  await model.selectOption(value);
  return page.getByRole('complementary', { name: 'AI Assistant panel' });
}

test('a chat streams its reply, rendered inert', async () => {
  const { page, context, problems } = await newPage();
  await signIn(page, env.ADMIN_EMAIL, env.ADMIN_PASSWORD);
  const panel = await openPanel(page);
  await script({ text: 'Hello **from** the browser. <img src=x onerror="window.__pwned=1"> [x](javascript:window.__pwned=2)' });
  await panel.getByLabel('Message').fill('Hi');
  await panel.getByLabel('Message').press('Enter');
  await panel.locator('.message.assistant strong', { hasText: 'from' }).waitFor();
  await panel.getByRole('button', { name: 'Send' }).waitFor();
  assert.equal(await page.evaluate(() => window.__pwned), undefined, 'nothing from the model ran');
  assert.equal(await panel.locator('.message.assistant [onerror]').count(), 0);
  assert.equal(await panel.locator('.message.assistant a[href^="javascript"]').count(), 0);
  await shot(page, 'chat');

  // The provider got the key typed in Settings → AI, kept through the later saves.
  const requests = await (await fetch(`${env.SIM_URL}/_sim/requests`)).json();
  const turn = requests.filter((r) => r.body.includes('"browser-model"')).at(-1);
  assert.ok(turn, 'the simulator saw the chat turn');
  const auth = Object.entries(turn.headers).find(([name]) => name.toLowerCase() === 'authorization')?.[1];
  assert.equal(auth, `Bearer ${providerKey}`);

  // The conversation survives a reload.
  await page.reload();
  await page.getByRole('complementary', { name: 'AI Assistant panel' }).locator('.message.assistant strong', { hasText: 'from' }).waitFor();
  await page.getByRole('button', { name: 'Clear' }).click();
  assert.equal(await page.locator('.message').count(), 0);
  assert.deepEqual(problems, []);
  await context.close();
});

async function newCollection() {
  const collection = `web_${Math.random().toString(16).slice(2, 8)}`;
  await rest('POST', '/collections', { collection, schema: {}, fields: [{ field: 'title', type: 'string' }] });
  return collection;
}
const count = async (collection) => (await rest('GET', `/items/${collection}?aggregate[count]=*`)).data[0].count;

test('a write asks for approval; Approve runs it and its output appears', async () => {
  const collection = await newCollection();
  const { page, context, problems } = await newPage();
  await signIn(page, env.ADMIN_EMAIL, env.ADMIN_PASSWORD);
  const panel = await openPanel(page);
  await script({ toolCalls: [{ name: 'execute', arguments: { name: 'items', input: { action: 'create', collection, data: { title: 'From the browser' } } } }] }, { text: 'Created it.' });
  await panel.getByLabel('Message').fill('Create a post');
  await panel.getByRole('button', { name: 'Send' }).click();
  await panel.getByRole('button', { name: 'Approve' }).waitFor();
  assert.equal(await count(collection), 0, 'nothing ran before the approval');
  await shot(page, 'approval');
  await panel.getByRole('button', { name: 'Approve' }).click();
  await panel.locator('.tool-card[data-state="output-available"] .output', { hasText: 'From the browser' }).waitFor();
  await panel.getByText('Created it.').waitFor();
  assert.equal(await count(collection), 1);
  await page.getByRole('button', { name: 'Clear' }).click();
  assert.deepEqual(problems, []);
  await context.close();
});

test('Deny (Esc) runs nothing', async () => {
  const collection = await newCollection();
  const { page, context, problems } = await newPage();
  await signIn(page, env.ADMIN_EMAIL, env.ADMIN_PASSWORD);
  const panel = await openPanel(page);
  await script({ toolCalls: [{ name: 'execute', arguments: { name: 'items', input: { action: 'create', collection, data: { title: 'Denied' } } } }] }, { text: 'Left it.' });
  await panel.getByLabel('Message').fill('Create a post');
  await panel.getByRole('button', { name: 'Send' }).click();
  await panel.getByRole('button', { name: 'Deny' }).waitFor();
  await page.keyboard.press('Escape');
  await panel.locator('.tool-card[data-state="output-denied"]').waitFor();
  await panel.getByText('Left it.').waitFor();
  assert.equal(await count(collection), 0);
  await page.getByRole('button', { name: 'Clear' }).click();
  assert.deepEqual(problems, []);
  await context.close();
});

test('Stop ends a reply mid-stream', async () => {
  const { page, context, problems } = await newPage();
  await signIn(page, env.ADMIN_EMAIL, env.ADMIN_PASSWORD);
  const panel = await openPanel(page);
  const words = Array.from({ length: 200 }, (_, i) => `word${i}`).join(' ');
  await script({ text: words, pacing: { timeToFirstTokenMs: 0, betweenTokensMs: 50 } });
  await panel.getByLabel('Message').fill('Talk a lot');
  await panel.getByRole('button', { name: 'Send' }).click();
  await panel.locator('.message.assistant', { hasText: 'word3' }).waitFor();
  await panel.getByRole('button', { name: 'Stop' }).click();
  await panel.getByRole('button', { name: 'Send' }).waitFor();
  const shown = await panel.locator('.message.assistant').last().innerText();
  await new Promise((r) => setTimeout(r, 500));
  assert.equal(await panel.locator('.message.assistant').last().innerText(), shown, 'nothing arrives after Stop');
  assert.ok(!shown.includes('word199'), 'the reply was cut');
  // Stop reached the provider: the simulator saw its request's connection closed before the answer ended
  let closed;
  for (const started = Date.now(); closed === undefined && Date.now() - started < 10000; await new Promise((r) => setTimeout(r, 100))) {
    const requests = await (await fetch(`${env.SIM_URL}/_sim/requests`)).json();
    const turn = requests.filter((r) => r.body.includes('Talk a lot')).at(-1);
    if (turn?.closedByClient !== null && turn?.closedByClient !== undefined) closed = turn.closedByClient;
  }
  assert.equal(closed, true, 'the provider request was cancelled');
  await page.getByRole('button', { name: 'Clear' }).click();
  assert.deepEqual(problems, []);
  await context.close();
});

test('a non-admin app user has the panel but not Settings', async () => {
  const { page, context } = await newPage();
  await signIn(page, env.APP_EMAIL, env.APP_PASSWORD);
  await page.getByRole('heading', { name: 'Content' }).waitFor();
  await page.getByRole('button', { name: 'AI Assistant' }).waitFor();
  assert.equal(await page.getByRole('link', { name: 'Settings → AI' }).count(), 0);
  await page.goto(`${base}/settings/ai`);
  await page.getByRole('heading', { name: 'Content' }).waitFor();
  assert.match(page.url(), /\/admin\/content/);
  await shot(page, 'content-app-user');
  await context.close();
});

test('a prompt of the prompts collection, its variable filled in a dialog, reaches the model', async () => {
  const collection = `web_prompts_${Math.random().toString(16).slice(2, 8)}`;
  await rest('POST', '/ai/prompts-collection', { collection });
  await rest('PATCH', '/settings', { mcp_prompts_collection: collection });
  await rest('POST', `/items/${collection}`, {
    name: 'translate', status: 'published', description: 'Answer in another language',
    system_prompt: 'Answer in {{ language: the target language }} only.', messages: [{ role: 'user', text: 'Say hello in {{language}}' }],
  });
  await rest('POST', `/items/${collection}`, { name: 'unpublished', status: 'draft', system_prompt: 'Never shown.', messages: [] });
  // the app user may read the collection (its own permission), and the settings field that names it
  await rest('POST', '/permissions', { policy: env.APP_POLICY, collection, action: 'read', fields: ['*'] });
  try {
    const { page, context, problems } = await newPage();
    await signIn(page, env.APP_EMAIL, env.APP_PASSWORD);
    const panel = await openPanel(page);
    await panel.getByText('Prompts').click();
    assert.equal(await panel.getByRole('button', { name: 'unpublished' }).count(), 0, 'only published prompts');
    await panel.getByRole('button', { name: 'translate' }).click();
    const dialog = page.getByRole('dialog', { name: 'Prompt variables' });
    await dialog.getByLabel('language').fill('French');
    await shot(page, 'prompt-dialog');
    await dialog.getByRole('button', { name: 'Apply' }).click();
    await panel.getByRole('list', { name: 'Applied prompts' }).getByText('translate').waitFor();
    await script({ text: 'Bonjour.' });
    await panel.getByLabel('Message').fill('Greet me');
    await panel.getByRole('button', { name: 'Send' }).click();
    await panel.getByText('Bonjour.').waitFor();
    const requests = await (await fetch(`${env.SIM_URL}/_sim/requests`)).json();
    const turn = requests.filter((r) => r.body.includes('Greet me')).at(-1);
    assert.ok(turn, 'the simulator saw the chat turn');
    assert.ok(turn.body.includes('Answer in French only.'), 'the rendered prompt reached the model');
    assert.ok(turn.body.includes('Say hello in French'), "the prompt's example exchange reached the model");
    await page.getByRole('button', { name: 'Remove translate' }).click();
    assert.equal(await panel.getByRole('list', { name: 'Applied prompts' }).count(), 0);
    await page.getByRole('button', { name: 'Clear' }).click();
    assert.deepEqual(problems, []);
    await context.close();
  } finally {
    await rest('PATCH', '/settings', { mcp_prompts_collection: null });
  }
});

test('an attachment is uploaded to the provider and reaches the model as its file', async () => {
  // OpenAI (the simulator, through AI_OPENAI_BASE_URL) has a file API; the compatible provider has none
  const { data: settings } = await rest('GET', '/settings');
  const allowed = [...new Set([...(settings.ai_openai_allowed_models ?? []), 'gpt-5.4-mini'])];
  await rest('PATCH', '/settings', { ai_openai_api_key: `sk-files-${Math.random().toString(16).slice(2)}`, ai_openai_allowed_models: allowed });
  const started = Date.now();
  for (let inARow = 0; inARow < 6;) {
    assert.ok(Date.now() - started < 15000, 'every replica lists the OpenAI model within 15 s');
    const listed = (await rest('GET', '/ai/models')).data.some((m) => m.provider === 'openai' && m.model === 'gpt-5.4-mini');
    inARow = listed ? inARow + 1 : 0;
    if (!listed) await new Promise((r) => setTimeout(r, 100));
  }
  const { page, context, problems } = await newPage();
  await signIn(page, env.ADMIN_EMAIL, env.ADMIN_PASSWORD);
  const panel = await openPanel(page);
  assert.equal(await panel.getByRole('button', { name: 'Attach' }).count(), 0, 'no attachments for a provider without a file API');
  await page.getByLabel('Model').selectOption('openai:gpt-5.4-mini');
  await panel.getByLabel('Attach a file').setInputFiles({ name: 'notes.zip', mimeType: 'application/zip', buffer: Buffer.from('PK') });
  await panel.getByRole('alert').filter({ hasText: 'cannot be attached' }).waitFor();
  await panel.getByLabel('Attach a file').setInputFiles({ name: 'notes.pdf', mimeType: 'application/pdf', buffer: Buffer.from('%PDF-1.4 notes') });
  await panel.getByRole('list', { name: 'Attachments' }).getByText('notes.pdf').waitFor();
  await shot(page, 'attachment');
  await script({ text: 'Read your notes.' });
  const probe = `What do my notes say ${Math.random().toString(16).slice(2)}`;
  await panel.getByLabel('Message').fill(probe);
  await panel.getByRole('button', { name: 'Send' }).click();
  await panel.getByText('Read your notes.').waitFor();
  await panel.locator('.message.user .file-chip', { hasText: 'notes.pdf' }).waitFor();
  assert.equal(await panel.getByRole('list', { name: 'Attachments' }).count(), 0, 'sent attachments leave the composer');

  const requests = await (await fetch(`${env.SIM_URL}/_sim/requests`)).json();
  const uploadRequest = requests.filter((r) => r.path === '/v1/files').at(-1);
  assert.ok(uploadRequest?.body.includes('%PDF-1.4 notes'), 'the file went to the provider\'s file API');
  const turn = requests.filter((r) => r.body.includes(probe)).at(-1);
  assert.ok(turn, 'the simulator saw the chat turn');
  const parts = JSON.parse(turn.body).input.flatMap((i) => i.content ?? []);
  assert.ok(parts.some((p) => p.type === 'input_file' && /^file-/.test(p.file_id)), `the turn names the uploaded file: ${turn.body.slice(0, 400)}`);
  await page.getByRole('button', { name: 'Clear' }).click();
  assert.deepEqual(problems, []);
  await context.close();
});

test('AI_ENABLED=false hides the panel', async () => {
  const { page, context, problems } = await newPage();
  const asked = [];
  page.on('response', (r) => { if (/\/(server\/info|ai\/models)$/.test(new URL(r.url()).pathname)) asked.push(`${new URL(r.url()).pathname} ${r.status()}`); });
  await signIn(page, env.APP_EMAIL, env.APP_PASSWORD, `${env.AI_OFF_GATEWAY_URL}/admin`);
  await page.getByRole('heading', { name: 'Content' }).waitFor();
  // the app asked and was told: /ai is not there
  const started = Date.now();
  while (!asked.some((a) => a.startsWith('/ai/models')) && Date.now() - started < 10000) await new Promise((r) => setTimeout(r, 50));
  assert.ok(asked.includes('/ai/models 404'), `the app asked for the models and got 404 (${asked.join(', ')})`);
  await page.waitForLoadState('networkidle');
  assert.equal(await page.getByRole('button', { name: 'AI Assistant' }).count(), 0);
  assert.equal(await page.getByRole('complementary', { name: 'AI Assistant panel' }).count(), 0);
  await shot(page, 'ai-disabled');
  assert.deepEqual(problems, []);
  await context.close();
});
