// Renders a kustomization of deploy/kubernetes with `kubectl kustomize` and checks what a cluster would be given:
// every object against the Kubernetes API schemas (kubernetes-models), no Secret written into the manifests, and every
// Secret the objects reference declared by the overlay (its expected-secrets.yaml), by name and key.
//   node tests/kubernetes/manifests.mjs deploy/kubernetes/overlays/production [more overlays]   (exit 1 on a problem)
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { parse, parseAllDocuments } from "yaml";

export const repositoryRoot = resolve(import.meta.dirname, "../..");
export const expectedSecretsFile = "expected-secrets.yaml";

/** The objects `kubectl kustomize <folder>` renders; a missing kubectl or a failing render throws saying so. */
export function render(folder) {
  let text;
  try {
    text = execFileSync("kubectl", ["kustomize", folder], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
  } catch (e) {
    if (e.code === "ENOENT") throw new Error("kubectl is not on PATH: it renders the manifests (kubectl kustomize); install kubectl (tested with 1.32; an old one's kustomize may lack labels and components)");
    throw new Error(`kubectl kustomize ${folder} failed: ${e.stderr || e.message}`);
  }
  return parseAllDocuments(text).map(d => d.toJS()).filter(o => o);
}

export const describe = o => `${o.kind}/${o.metadata?.name}`;

/** Each object validated by the kubernetes-models class of its apiVersion and kind; one line per problem. */
export async function schemaProblems(objects) {
  const problems = [];
  for (const o of objects) {
    let model;
    try {
      model = (await import(`kubernetes-models/${o.apiVersion}`))[o.kind];
    } catch {
      model = undefined;
    }
    if (!model) {
      problems.push(`${describe(o)}: no Kubernetes API schema for ${o.apiVersion} ${o.kind}`);
      continue;
    }
    try {
      new model(o).validate();
    } catch (e) {
      problems.push(`${describe(o)}: ${e.message}`);
    }
  }
  return problems;
}

/** The pod template of a workload, or undefined. */
export const podSpec = o => o.spec?.template?.spec;

/** Every Secret an object needs: {name, key (undefined: the whole Secret), by}. Optional references are left out. */
export function secretReferences(objects) {
  const references = [];
  for (const o of objects) {
    const by = describe(o);
    const pod = podSpec(o);
    for (const container of [...(pod?.initContainers ?? []), ...(pod?.containers ?? [])]) {
      for (const e of container.env ?? [])
        if (e.valueFrom?.secretKeyRef && !e.valueFrom.secretKeyRef.optional)
          references.push({ name: e.valueFrom.secretKeyRef.name, key: e.valueFrom.secretKeyRef.key, by });
      for (const e of container.envFrom ?? [])
        if (e.secretRef && !e.secretRef.optional) references.push({ name: e.secretRef.name, by });
    }
    for (const v of pod?.volumes ?? [])
      if (v.secret && !v.secret.optional) references.push({ name: v.secret.secretName, by });
    for (const tls of o.kind === "Ingress" ? o.spec?.tls ?? [] : [])
      if (tls.secretName) references.push({ name: tls.secretName, by });
  }
  return references;
}

/** The overlay's declaration of the Secrets it expects in its namespace: [{name, keys: [...]}]. */
export function expectedSecrets(folder) {
  const file = join(folder, expectedSecretsFile);
  if (!existsSync(file)) throw new Error(`${folder} has no ${expectedSecretsFile}: list the Secrets its objects reference`);
  return parse(readFileSync(file, "utf8")) ?? [];
}

/** Everything wrong with an overlay, one line each, each naming the object and the Secret or field concerned. */
export async function overlayProblems(folder) {
  const objects = render(folder);
  const problems = await schemaProblems(objects);
  for (const o of objects.filter(o => o.kind === "Secret" && (o.data || o.stringData)))
    problems.push(`${describe(o)}: a Secret with data is rendered; Secrets are created with kubectl, never written into the manifests`);
  const declared = new Map(expectedSecrets(folder).map(s => [s.name, s]));
  for (const r of secretReferences(objects)) {
    const secret = declared.get(r.name);
    if (!secret)
      problems.push(`missing secret "${r.name}": ${r.by} references it, but ${join(folder, expectedSecretsFile)} does not declare it`);
    else if (r.key !== undefined && !(secret.keys ?? []).includes(r.key))
      problems.push(`missing key "${r.key}" of secret "${r.name}": ${r.by} references it, but ${join(folder, expectedSecretsFile)} does not declare it`);
  }
  const referenced = new Set(secretReferences(objects).map(r => r.name));
  for (const name of declared.keys())
    if (!referenced.has(name)) problems.push(`secret "${name}" is declared in ${join(folder, expectedSecretsFile)} but no object references it`);
  return problems;
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  let failed = false;
  for (const folder of process.argv.slice(2)) {
    const problems = await overlayProblems(folder);
    for (const p of problems) console.error(`${folder}: ${p}`);
    if (problems.length === 0) console.log(`${folder}: ok`);
    failed ||= problems.length > 0;
  }
  process.exit(failed ? 1 : 0);
}
