// Drives the content store through the real @directus/sdk, unchanged: schema, items with the query language, writes,
// errors, activity, a non-admin user's row- and field-limited reads, and files, folders and assets. Run by DirectusSdkTests with GATEWAY_URL and
// ADMIN_TOKEN set; the tests run in order and share the collections made by the first.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  createDirectus, rest, staticToken, isDirectusError,
  createCollection, createField, createRelation, readCollections, readFields, readFieldsByCollection, readRelations,
  createItem, createItems, readItems, readItem, aggregate, updateItem, updateItems, updateItemsBatch, deleteItem, deleteItems,
  readActivities, readRevisions, createPolicy, createRole, createUser, createPermission,
  uploadFiles, importFile, readFiles, readFile, createFolder, readFolders, readAssetRaw, updateFile, deleteFile,
} from '@directus/sdk';
import { createServer } from 'node:http';

const url = process.env.GATEWAY_URL;
const adminToken = process.env.ADMIN_TOKEN;
assert.ok(url && adminToken, 'GATEWAY_URL and ADMIN_TOKEN must be set');

// readItems hands back only `data`; the last raw answer is kept so `meta` can be checked as the server sent it.
let lastResponse;
const recordingFetch = async (input, init) => {
  const response = await fetch(input, init);
  lastResponse = response.clone();
  return response;
};
const client = (token) => createDirectus(url, { globals: { fetch: recordingFetch } }).with(rest()).with(staticToken(token));
const admin = client(adminToken);

const suffix = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
const authors = `sdk_authors_${suffix}`;
const articles = `sdk_articles_${suffix}`;
const ids = {};

const titles = (items) => items.map((i) => i.title).sort();

/** Asserts the promise rejects with the SDK's error for a Directus envelope carrying `code`. */
const rejectsWith = (promise, code) => assert.rejects(promise, (error) => {
  assert.ok(isDirectusError(error), `not a Directus error: ${JSON.stringify(error)}`);
  assert.equal(error.errors[0].extensions.code, code);
  return true;
});

test('schema: createCollection with fields, createField, createRelation with its o2m alias, and reading them back', async () => {
  await admin.request(createCollection({
    collection: authors, schema: {}, meta: { note: 'written by the SDK suite' },
    fields: [
      { field: 'id', type: 'integer', schema: { is_primary_key: true, has_auto_increment: true }, meta: { hidden: true } },
      { field: 'name', type: 'string', schema: { is_nullable: false } },
    ],
  }));
  await admin.request(createCollection({
    collection: articles, schema: {},
    fields: [
      { field: 'title', type: 'string' },
      { field: 'views', type: 'integer' },
      { field: 'status', type: 'string' },
      { field: 'author', type: 'integer', meta: { special: ['m2o'], interface: 'select-dropdown-m2o' } },
    ],
  }));
  const body = await admin.request(createField(articles, { field: 'body', type: 'text', meta: { note: 'searched' } }));
  assert.equal(body.field, 'body');
  assert.equal(body.type, 'text');
  await admin.request(createField(authors, { field: 'articles', type: 'alias', meta: { special: ['o2m'], interface: 'list-o2m' } }));
  const relation = await admin.request(createRelation({
    collection: articles, field: 'author', related_collection: authors, meta: { one_field: 'articles' }, schema: { on_delete: 'SET NULL' },
  }));
  assert.equal(relation.related_collection, authors);

  const collections = await admin.request(readCollections());
  const mine = collections.filter((c) => c.collection === authors || c.collection === articles);
  assert.equal(mine.length, 2);
  assert.equal(mine.find((c) => c.collection === authors).meta.note, 'written by the SDK suite');

  const articleFields = await admin.request(readFieldsByCollection(articles));
  assert.deepEqual(articleFields.map((f) => f.field).sort(), ['author', 'body', 'id', 'status', 'title', 'views']);
  const alias = (await admin.request(readFields())).find((f) => f.collection === authors && f.field === 'articles');
  assert.equal(alias.type, 'alias');
  assert.ok(alias.meta.special.includes('o2m'));

  const m2o = (await admin.request(readRelations())).find((r) => r.collection === articles && r.field === 'author');
  assert.equal(m2o.related_collection, authors);
  assert.equal(m2o.meta.one_field, 'articles');
});

test('createItem and createItems, with a nested m2o object and an o2m array', async () => {
  const ada = await admin.request(createItem(authors, { name: 'Ada' }));
  const [grace] = await admin.request(createItems(authors, [{ name: 'Grace' }]));
  assert.equal(ada.name, 'Ada');
  Object.assign(ids, { ada: ada.id, grace: grace.id });

  const created = await admin.request(createItems(articles, [
    { title: 'First', views: 5, status: 'draft', author: ada.id, body: 'On compilers' },
    { title: 'Second', views: 20, status: 'published', author: grace.id },
    { title: 'Third', views: 30, status: 'published', author: ada.id },
    { title: 'Fourth', views: 10, status: 'archived', author: grace.id },
  ], { fields: ['id', 'title'] }));
  assert.deepEqual(titles(created), ['First', 'Fourth', 'Second', 'Third']);
  for (const item of created) ids[item.title] = item.id;

  const nestedM2o = await admin.request(createItem(articles,
    { title: 'Fifth', views: 40, status: 'draft', author: { name: 'Barbara' } }, { fields: ['id', 'title', 'author.name'] }));
  assert.equal(nestedM2o.author.name, 'Barbara');
  ids.Fifth = nestedM2o.id;

  const nestedO2m = await admin.request(createItem(authors,
    { name: 'Edsger', articles: [{ title: 'Sixth', views: 1, status: 'draft' }] }, { fields: ['name', 'articles.id', 'articles.title'] }));
  assert.deepEqual(nestedO2m.articles.map((a) => a.title), ['Sixth']);
  ids.Sixth = nestedO2m.articles[0].id;
});

test('readItems: fields with dot-notation, the object form and *', async () => {
  const top = await admin.request(readItems(articles, { fields: ['id', 'title', 'author.name'], sort: ['-views'], limit: 2 }));
  assert.deepEqual(top, [
    { id: ids.Fifth, title: 'Fifth', author: { name: 'Barbara' } },
    { id: ids.Third, title: 'Third', author: { name: 'Ada' } },
  ]);

  const objectForm = await admin.request(readItems(articles, { fields: ['title', { author: ['name'] }], filter: { id: { _eq: ids.Second } } }));
  assert.deepEqual(objectForm, [{ title: 'Second', author: { name: 'Grace' } }]);

  const [all] = await admin.request(readItems(articles, { fields: ['*'], filter: { title: { _eq: 'First' } } }));
  assert.deepEqual(all, { id: ids.First, title: 'First', views: 5, status: 'draft', author: ids.ada, body: 'On compilers' });
});

test('readItems: filter operators, _and/_or, relational filters through m2o and o2m', async () => {
  const cases = [
    [{ views: { _gt: 10 } }, ['Fifth', 'Second', 'Third']],
    [{ views: { _between: [10, 20] } }, ['Fourth', 'Second']],
    [{ status: { _in: ['archived', 'published'] } }, ['Fourth', 'Second', 'Third']],
    [{ status: { _neq: 'draft' } }, ['Fourth', 'Second', 'Third']],
    [{ title: { _icontains: 'IR' } }, ['First', 'Third']],
    [{ title: { _starts_with: 'F' } }, ['Fifth', 'First', 'Fourth']],
    [{ body: { _nnull: true } }, ['First']],
    [{ _and: [{ status: { _eq: 'published' } }, { views: { _gte: 30 } }] }, ['Third']],
    [{ _or: [{ status: { _eq: 'archived' } }, { views: { _lt: 5 } }] }, ['Fourth', 'Sixth']],
    [{ author: { name: { _eq: 'Ada' } } }, ['First', 'Third']],
  ];
  for (const [filter, expected] of cases) {
    const items = await admin.request(readItems(articles, { fields: ['title'], filter, limit: -1 }));
    assert.deepEqual(titles(items), expected, `filter ${JSON.stringify(filter)}`);
  }
  const popular = await admin.request(readItems(authors, { fields: ['name'], filter: { articles: { _some: { views: { _gte: 30 } } } } }));
  assert.deepEqual(popular.map((a) => a.name).sort(), ['Ada', 'Barbara']);
  const quiet = await admin.request(readItems(authors, { fields: ['name'], filter: { articles: { _none: { views: { _gte: 10 } } } } }));
  assert.deepEqual(quiet.map((a) => a.name), ['Edsger']);
});

test('readItems: sort, limit, offset, page and search', async () => {
  const bySort = await admin.request(readItems(articles, { fields: ['title'], sort: ['status', '-views'] }));
  assert.deepEqual(bySort.map((i) => i.title), ['Fourth', 'Fifth', 'First', 'Sixth', 'Third', 'Second']);
  const byAuthor = await admin.request(readItems(articles, { fields: ['title'], sort: ['author.name', 'title'] }));
  assert.deepEqual(byAuthor.map((i) => i.title), ['First', 'Third', 'Fifth', 'Sixth', 'Fourth', 'Second']);

  const offset = await admin.request(readItems(articles, { fields: ['title'], sort: ['views'], limit: 2, offset: 1 }));
  assert.deepEqual(offset.map((i) => i.title), ['First', 'Fourth']);
  const page = await admin.request(readItems(articles, { fields: ['title'], sort: ['views'], limit: 2, page: 3 }));
  assert.deepEqual(page.map((i) => i.title), ['Third', 'Fifth']);

  const found = await admin.request(readItems(articles, { fields: ['title'], search: 'compilers' }));
  assert.deepEqual(titles(found), ['First']);
});

test('readItems: meta total_count and filter_count, as the SDK passes them through', async () => {
  const items = await admin.request(readItems(articles, { filter: { status: { _eq: 'published' } }, limit: 1, meta: 'total_count,filter_count' }));
  assert.equal(items.length, 1);
  const { meta } = await lastResponse.json();
  assert.equal(Number(meta.total_count), 6);
  assert.equal(Number(meta.filter_count), 2);
});

test('aggregate with groupBy, and readItems with aggregate', async () => {
  const groups = await admin.request(aggregate(articles, { aggregate: { count: '*', sum: 'views' }, groupBy: ['status'] }));
  const byStatus = Object.fromEntries(groups.map((g) => [g.status, { count: Number(g.count), views: Number(g.sum.views) }]));
  assert.deepEqual(byStatus, { draft: { count: 3, views: 46 }, published: { count: 2, views: 50 }, archived: { count: 1, views: 10 } });

  const [max] = await admin.request(readItems(articles, { aggregate: { max: ['views'] }, filter: { author: { name: { _eq: 'Grace' } } } }));
  assert.equal(Number(max.max.views), 20);
});

test('readItems: deep and alias', async () => {
  const [ada] = await admin.request(readItems(authors, {
    fields: ['name', 'articles.title'], filter: { name: { _eq: 'Ada' } }, deep: { articles: { _sort: ['-views'], _limit: 1 } },
  }));
  assert.deepEqual(ada, { name: 'Ada', articles: [{ title: 'Third' }] });

  const [grace] = await admin.request(readItems(authors, {
    fields: ['name', 'writing.title'], filter: { name: { _eq: 'Grace' } }, alias: { writing: 'articles' },
    deep: { writing: { _filter: { status: { _eq: 'archived' } } } },
  }));
  assert.deepEqual(grace, { name: 'Grace', writing: [{ title: 'Fourth' }] });
});

test('readItem by key with fields, and a missing key as FORBIDDEN', async () => {
  const item = await admin.request(readItem(articles, ids.Third, { fields: ['title', 'views', 'author.name'] }));
  assert.deepEqual(item, { title: 'Third', views: 30, author: { name: 'Ada' } });
  await rejectsWith(admin.request(readItem(articles, 999999)), 'FORBIDDEN');
});

test('errors: a bad filter operator is INVALID_QUERY, an unknown collection FORBIDDEN', async () => {
  await rejectsWith(admin.request(readItems(articles, { filter: { views: { _like: 1 } } })), 'INVALID_QUERY');
  await rejectsWith(admin.request(readItems(`sdk_missing_${suffix}`)), 'FORBIDDEN');
});

test('a user whose policy grants a row filter and some fields reads only those, through the SDK', async () => {
  const policy = await admin.request(createPolicy({ name: `SDK readers ${suffix}`, app_access: true, admin_access: false }));
  const role = await admin.request(createRole({ name: `SDK reader ${suffix}`, policies: [{ policy: policy.id }] }));
  const token = `sdk-${suffix}-${Math.random().toString(36).slice(2)}`;
  const user = await admin.request(createUser({ email: `sdk-${suffix}@example.com`, password: `pw-${suffix}-long`, role: role.id, token }));
  assert.equal(user.role, role.id);
  const reader = client(token);
  await rejectsWith(reader.request(readItems(articles)), 'FORBIDDEN');

  await admin.request(createPermission({
    policy: policy.id, collection: articles, action: 'read', fields: ['id', 'title', 'status'], permissions: { status: { _eq: 'published' } },
  }));
  let items;
  for (const started = Date.now(); !items && Date.now() - started <= 1000;) {
    items = await reader.request(readItems(articles, { sort: ['title'] })).catch(() => undefined);
    if (!items) await new Promise((resolve) => setTimeout(resolve, 50));
  }
  assert.ok(items, 'the permission did not apply within a second');
  assert.deepEqual(items, [
    { id: ids.Second, title: 'Second', status: 'published' },
    { id: ids.Third, title: 'Third', status: 'published' },
  ]);
  await rejectsWith(reader.request(readItems(articles, { fields: ['views'] })), 'FORBIDDEN');
  await rejectsWith(reader.request(readItem(articles, ids.First)), 'FORBIDDEN');
  await rejectsWith(reader.request(readItems(authors)), 'FORBIDDEN');
});

test('updateItem, updateItems by keys and by query, updateItemsBatch', async () => {
  const one = await admin.request(updateItem(articles, ids.First, { views: 6 }, { fields: ['title', 'views'] }));
  assert.deepEqual(one, { title: 'First', views: 6 });

  const byKeys = await admin.request(updateItems(articles, [ids.Second, ids.Fourth], { status: 'featured' }, { fields: ['title', 'status'] }));
  assert.deepEqual(titles(byKeys), ['Fourth', 'Second']);
  assert.ok(byKeys.every((i) => i.status === 'featured'));

  const byQuery = await admin.request(updateItems(articles, { filter: { views: { _gte: 30 } } }, { status: 'top' }, { fields: ['title'] }));
  assert.deepEqual(titles(byQuery), ['Fifth', 'Third']);

  const batch = await admin.request(updateItemsBatch(articles, [{ id: ids.Sixth, views: 2 }, { id: ids.First, title: 'First, revised' }]));
  assert.equal(batch.length, 2);

  const after = await admin.request(readItems(articles, { fields: ['title', 'views', 'status'], sort: ['id'] }));
  assert.deepEqual(after, [
    { title: 'First, revised', views: 6, status: 'draft' },
    { title: 'Second', views: 20, status: 'featured' },
    { title: 'Third', views: 30, status: 'top' },
    { title: 'Fourth', views: 10, status: 'featured' },
    { title: 'Fifth', views: 40, status: 'top' },
    { title: 'Sixth', views: 2, status: 'draft' },
  ]);
});

test('deleteItem, deleteItems by keys and by query', async () => {
  assert.equal(await admin.request(deleteItem(articles, ids.Sixth)), null);
  await admin.request(deleteItems(articles, [ids.Second, ids.Fourth]));
  await admin.request(deleteItems(articles, { filter: { status: { _eq: 'top' } } }));
  const left = await admin.request(readItems(articles, { fields: ['title'] }));
  assert.deepEqual(titles(left), ['First, revised']);
});

test('readActivities and readRevisions record what the SDK did', async () => {
  const activity = await admin.request(readActivities({ filter: { collection: { _eq: articles } }, fields: ['action'], limit: -1 }));
  const counts = {};
  for (const a of activity) counts[a.action] = (counts[a.action] ?? 0) + 1;
  // 6 creates (one nested under an author), 1 + 2 + 2 + 2 updates, 1 + 2 + 2 deletes
  assert.deepEqual(counts, { create: 6, update: 7, delete: 5 });

  const revisions = await admin.request(readRevisions({
    filter: { collection: { _eq: articles }, item: { _eq: String(ids.First) } }, fields: ['data', 'delta', 'activity.action'], sort: ['id'],
  }));
  assert.equal(revisions[0].activity.action, 'create');
  assert.equal(revisions[0].data.title, 'First');
  assert.deepEqual(revisions.at(-1).delta, { title: 'First, revised' });
});

// A 2×1 PNG (one red, one blue pixel), small enough to write down.
const png = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAIAAAABCAIAAAB7QOjdAAAADUlEQVR4nGP4zwAE/wEHAAH/4iOeWQAAAABJRU5ErkJggg==', 'base64');
const bytesOf = async (stream) => Buffer.from(await new Response(stream).arrayBuffer());

test('files: uploadFiles into a folder, readFiles, readFolders, readAssetRaw with a transform, updateFile, deleteFile', async () => {
  const folder = await admin.request(createFolder({ name: `sdk_folder_${suffix}` }));
  const form = new FormData();
  form.append('folder', folder.id);
  form.append('title', 'SDK pixel');
  form.append('file', new Blob([png], { type: 'image/png' }), 'pixel.png');
  const file = await admin.request(uploadFiles(form));
  assert.equal(file.type, 'image/png');
  assert.deepEqual([file.width, file.height, file.title, file.folder, file.filename_download], [2, 1, 'SDK pixel', folder.id, 'pixel.png']);

  const inFolder = await admin.request(readFiles({ filter: { folder: { _eq: folder.id } }, fields: ['id', 'title', 'folder.name'] }));
  assert.deepEqual(inFolder, [{ id: file.id, title: 'SDK pixel', folder: { name: `sdk_folder_${suffix}` } }]);
  const folders = await admin.request(readFolders({ filter: { name: { _eq: `sdk_folder_${suffix}` } } }));
  assert.deepEqual(folders.map((f) => [f.id, f.parent]), [[folder.id, null]]);

  assert.deepEqual(await bytesOf(await admin.request(readAssetRaw(file.id))), png);
  const webp = await bytesOf(await admin.request(readAssetRaw(file.id, { width: 4, format: 'webp' })));
  assert.equal(webp.subarray(0, 4).toString('latin1'), 'RIFF');
  assert.equal(webp.subarray(8, 12).toString('latin1'), 'WEBP');

  const renamed = await admin.request(updateFile(file.id, { title: 'Renamed pixel' }));
  assert.equal(renamed.title, 'Renamed pixel');
  await admin.request(deleteFile(file.id));
  await rejectsWith(admin.request(readFile(file.id)), 'FORBIDDEN');
  await rejectsWith(admin.request(readAssetRaw(file.id)), 'FORBIDDEN');
});

test('files: importFile from a server by an allowed name, and refused for loopback and private addresses', async () => {
  const server = createServer((request, response) => {
    response.writeHead(200, { 'content-type': 'image/png' });
    response.end(png);
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  try {
    // the fixture trusts the name localhost; 127.0.0.1 itself and private networks stay refused
    const imported = await admin.request(importFile(`http://localhost:${port}/remote.png`, { title: 'Imported by the SDK' }));
    assert.deepEqual([imported.type, imported.width, imported.title, imported.filename_download], ['image/png', 2, 'Imported by the SDK', 'remote.png']);
    assert.deepEqual(await bytesOf(await admin.request(readAssetRaw(imported.id))), png);
    for (const url of [`http://127.0.0.1:${port}/remote.png`, 'http://10.1.2.3/x.png', 'http://192.168.0.10/x.png', 'http://[::1]/x.png']) {
      await rejectsWith(admin.request(importFile(url)), 'INVALID_PAYLOAD');
    }
  } finally {
    server.close();
  }
});

test('createItem with a many-to-many: junction objects creating a new tag and linking an existing one, then updateItem replacing the set', async () => {
  const tags = `sdk_tags_${suffix}`;
  const junction = `sdk_articles_tags_${suffix}`;
  await admin.request(createCollection({ collection: tags, schema: {}, fields: [{ field: 'name', type: 'string', schema: { is_nullable: false } }] }));
  await admin.request(createCollection({
    collection: junction, schema: {}, meta: { hidden: true },
    fields: [{ field: 'articles_id', type: 'integer' }, { field: 'tags_id', type: 'integer' }],
  }));
  await admin.request(createRelation({
    collection: junction, field: 'articles_id', related_collection: articles, meta: { one_field: 'tags', junction_field: 'tags_id' }, schema: { on_delete: 'CASCADE' },
  }));
  await admin.request(createRelation({
    collection: junction, field: 'tags_id', related_collection: tags, meta: { junction_field: 'articles_id' }, schema: { on_delete: 'CASCADE' },
  }));
  const old = await admin.request(createItem(tags, { name: 'old' }));

  const tagged = await admin.request(createItem(articles,
    { title: 'Tagged', tags: [{ tags_id: { name: 'new' } }, { tags_id: old.id }] }, { fields: ['id', 'tags.id', 'tags.tags_id.name'] }));
  assert.deepEqual(tagged.tags.map((t) => t.tags_id.name).sort(), ['new', 'old']);

  // a list in an update is the whole set: the junction row of "old" stays (named by its key), the other goes
  const kept = tagged.tags.find((t) => t.tags_id.name === 'old');
  const replaced = await admin.request(updateItem(articles, tagged.id, { tags: [kept.id, { tags_id: { name: 'newer' } }] }, { fields: ['tags.id', 'tags.tags_id.name'] }));
  assert.deepEqual(replaced.tags.map((t) => t.tags_id.name).sort(), ['newer', 'old']);
  assert.ok(replaced.tags.some((t) => t.id === kept.id));

  const links = await admin.request(readItems(junction, { fields: ['tags_id'], filter: { articles_id: { _eq: tagged.id } }, limit: -1 }));
  assert.equal(links.length, 2);
  const names = await admin.request(readItems(tags, { fields: ['name'], sort: ['name'] }));
  assert.deepEqual(names.map((t) => t.name), ['new', 'newer', 'old']); // deselecting drops the link, not the tag

  await rejectsWith(admin.request(createItem(articles, { title: 'Bad', tags: { insert: [] } })), 'INVALID_PAYLOAD');
});
