// How long a token the provider sends takes to reach the screen of the admin app (issue 11: ≤ 50 ms p95).
// A token source of its own stands in for the provider: it streams OpenAI Chat Completions chunks, each a word that
// names itself, and notes when it wrote each one; the page notes when each word appears in the assistant panel's
// DOM. Both clocks are the machine's wall clock (performance.timeOrigin + performance.now()), in two processes on
// one machine. The tokens cross the real stack: Chat (the compatible provider's client, our stream writer), the
// gateway, the browser's fetch, the AI SDK's Vue client, the markdown renderer, Vue's DOM update.
// Env: GATEWAY_URL, ADMIN_TOKEN (from the C# bench, mode web); TURNS (default 5), TOKENS (200), BETWEEN_MS (30).
import { chromium } from 'playwright-core';
import { createServer } from 'node:http';

const env = process.env;
const turns = Number(env.TURNS ?? 5), tokens = Number(env.TOKENS ?? 200), between = Number(env.BETWEEN_MS ?? 30);
const now = () => performance.timeOrigin + performance.now();
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const sent = new Map();
let run = 0;

const source = createServer(async (req, res) => {
  for await (const _ of req);
  if (!req.url.endsWith('/chat/completions')) { res.writeHead(404).end(); return; }
  const turn = run++;
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  const chunk = (delta, finish = null) =>
    `data: ${JSON.stringify({ id: `c${turn}`, object: 'chat.completion.chunk', created: 0, model: 'bench-model', choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;
  res.write(chunk({ role: 'assistant', content: '' }));
  for (let i = 0; i < tokens; i++) {
    const word = `w${turn}x${i}`;
    sent.set(word, now());
    res.write(chunk({ content: (i ? ' ' : '') + word }));
    await sleep(between);
  }
  res.write(chunk({}, 'stop'));
  res.write(`data: ${JSON.stringify({ id: `c${turn}`, object: 'chat.completion.chunk', created: 0, model: 'bench-model', choices: [], usage: { prompt_tokens: 10, completion_tokens: tokens, total_tokens: tokens + 10 } })}\n\n`);
  res.end('data: [DONE]\n\n');
});
await new Promise((r) => source.listen(0, '127.0.0.1', r));
const sourceUrl = `http://127.0.0.1:${source.address().port}/v1`;

async function rest(method, path, body) {
  const response = await fetch(`${env.GATEWAY_URL}${path}`, {
    method, headers: { Authorization: `Bearer ${env.ADMIN_TOKEN}`, 'content-type': 'application/json' }, body: body && JSON.stringify(body),
  });
  if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${await response.text()}`);
  return response.json();
}

await rest('PATCH', '/settings', {
  ai_openai_compatible_name: 'bench', ai_openai_compatible_base_url: sourceUrl, ai_openai_compatible_api_key: 'sk-bench-web',
  ai_openai_compatible_models: [{ id: 'bench-model', name: 'Bench Model', context: 128000, output: 8192 }],
});
await sleep(1500); // every Chat replica has the new settings
const email = `bench-${Date.now()}@example.com`, password = `pw-${Math.random().toString(16).slice(2)}`;
const admin = (await rest('GET', '/users/me')).data;
await rest('POST', '/users', { email, password, role: admin.role });

const browser = await chromium.launch({ executablePath: env.CHROMIUM || '/usr/bin/chromium', args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'] });
const page = await (await browser.newContext({ viewport: { width: 1400, height: 900 } })).newPage();
await page.goto(`${env.GATEWAY_URL}/admin/login`);
await page.getByLabel('Email').fill(email);
await page.getByLabel('Password').fill(password);
await page.getByRole('button', { name: 'Sign in' }).click();
await page.getByRole('button', { name: 'AI Assistant' }).click();
const model = page.getByLabel('Model');
await model.selectOption(await model.locator('option', { hasText: 'Bench Model' }).getAttribute('value'));
// every word's first appearance in the panel's DOM, and the frame that paints it (the next animation frame), on the
// wall clock
await page.evaluate(() => {
  window.__dom = {};
  window.__frame = {};
  const at = () => performance.timeOrigin + performance.now();
  let waiting = [];
  new MutationObserver(() => {
    const last = [...document.querySelectorAll('.message.assistant .text')].at(-1);
    if (!last) return;
    const fresh = last.textContent.split(/\s+/).filter((w) => w && !(w in window.__dom));
    if (!fresh.length) return;
    const t = at();
    for (const w of fresh) window.__dom[w] = t;
    if (!waiting.length) requestAnimationFrame(() => { const f = at(); for (const w of waiting) window.__frame[w] = f; waiting = []; });
    waiting.push(...fresh);
  }).observe(document.body, { subtree: true, childList: true, characterData: true });
});

const latencies = [], toDom = [];
for (let t = 0; t < turns; t++) {
  await page.getByLabel('Message').fill(`turn ${t}`);
  await page.getByRole('button', { name: 'Send' }).click();
  await page.locator('.message.assistant', { hasText: `w${t}x${tokens - 1}` }).waitFor({ timeout: 120000 });
  await page.getByRole('button', { name: 'Send' }).waitFor();
  await sleep(100); // the last frame
  const { dom, frame } = await page.evaluate(() => ({ dom: window.__dom, frame: window.__frame }));
  for (let i = 0; i < tokens; i++) {
    const word = `w${t}x${i}`;
    if (frame[word] === undefined) throw new Error(`${word} never appeared`);
    latencies.push(frame[word] - sent.get(word));
    toDom.push(dom[word] - sent.get(word));
  }
  await page.getByRole('button', { name: 'Clear' }).click();
}
await browser.close();
source.close();

const summary = (values) => {
  const v = [...values].sort((a, b) => a - b);
  const p = (q) => v[Math.min(v.length - 1, Math.ceil(q / 100 * v.length) - 1)].toFixed(1);
  return `p50 ${p(50)} ms, p95 ${p(95)} ms, p99 ${p(99)} ms, max ${v.at(-1).toFixed(1)} ms`;
};
const load = (await import('node:fs')).readFileSync('/proc/loadavg', 'utf8').trim();
console.log(`web: ${latencies.length} tokens (${turns} turns × ${tokens}, one every ${between} ms), from the provider's write to the frame ` +
  `that paints it: ${summary(latencies)}; to the DOM: ${summary(toDom)}  [${load}]`);
