// deploy/kubernetes: both overlays rendered by `kubectl kustomize` and checked object by object. Run by
// tests/AiAssistant.Tests/Deploy/KubernetesManifestsTests.cs, which passes APPHOST_KEYS: a JSON file of the
// environment variable names the AppHost gives each service, read from the AppHost's own model.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Deployment } from "kubernetes-models/apps/v1";
import { describe, expectedSecrets, overlayProblems, podSpec, render, repositoryRoot, schemaProblems } from "./manifests.mjs";

const overlays = ["local", "production"].map(name => ({ name, folder: join(repositoryRoot, "deploy/kubernetes/overlays", name) }));
const rendered = overlays.map(o => ({ ...o, objects: render(o.folder) }));
const services = ["gateway", "settings", "tools", "chat"];
const servers = ["postgres", "redis", "rabbitmq"];

const ofKind = (objects, kind) => objects.filter(o => o.kind === kind);
const named = (objects, kind, name) => objects.find(o => o.kind === kind && o.metadata.name === name);
const selects = (selector, labels) => Object.entries(selector?.matchLabels ?? {}).every(([k, v]) => labels?.[k] === v);
const podLabels = deployment => deployment.spec.template.metadata.labels;
const container = deployment => podSpec(deployment).containers[0];
/** What the AppHost passes that the manifests leave out on purpose, and why (docs/deploy.md, "Which settings matter"). */
const notCarriedOver = [
  [/^ASPNETCORE_URLS$/, "Aspire's own; Kestrel__Endpoints__* win over it, in the AppHost too"],
  [/^[A-Z]+_(HTTP|GRPC)$/, "Aspire 13's second spelling of the services__* addresses; no service reads it"],
  [/^OTEL_/, "OpenTelemetry's, towards the AppHost's dashboard; OTEL_EXPORTER_OTLP_ENDPOINT is yours to set"],
  [/^Files__Import__AllowPrivateAddresses$/, "off unless set: POST /files/import reaches public addresses only"],
  [/^Secrets__PreviousKeys__/, "only during a master key rotation, in aiassistant-master-key-ring"],
];
/** The ingress rules of every NetworkPolicy that selects pods with these labels. */
const ingressRules = (objects, labels) =>
  ofKind(objects, "NetworkPolicy").filter(p => selects(p.spec.podSelector, labels)).flatMap(p => p.spec.ingress ?? []);

for (const { name, folder, objects } of rendered) {
  test(`${name}: every rendered object validates against the Kubernetes API schemas, and the overlay declares every Secret it references`, async () => {
    assert.ok(objects.length >= 20, `only ${objects.length} objects rendered`);
    assert.deepEqual(await overlayProblems(folder), []);
  });

  test(`${name}: no Secret is written into the manifests`, () => {
    assert.deepEqual(ofKind(objects, "Secret").map(describe), []);
  });

  test(`${name}: a Deployment per service, ready on /health, alive on /alive, with cpu and memory requests and limits`, () => {
    assert.deepEqual(ofKind(objects, "Deployment").map(d => d.metadata.name).sort(), [...services].sort());
    for (const d of ofKind(objects, "Deployment")) {
      const c = container(d);
      assert.equal(c.readinessProbe?.httpGet?.path, "/health", `${describe(d)} readiness`);
      assert.equal(c.livenessProbe?.httpGet?.path, "/alive", `${describe(d)} liveness`);
      for (const kind of ["requests", "limits"])
        for (const resource of ["cpu", "memory"]) assert.ok(c.resources?.[kind]?.[resource], `${describe(d)} has no ${resource} ${kind}`);
      assert.ok(named(objects, "Service", d.metadata.name), `${describe(d)} has no Service`);
    }
  });

  test(`${name}: Chat runs at least 2 replicas with a HorizontalPodAutoscaler, and every service has a PodDisruptionBudget`, () => {
    const chat = named(objects, "Deployment", "chat");
    assert.ok(chat.spec.replicas >= 2, `chat replicas: ${chat.spec.replicas}`);
    const hpa = ofKind(objects, "HorizontalPodAutoscaler").find(h => h.spec.scaleTargetRef.kind === "Deployment" && h.spec.scaleTargetRef.name === "chat");
    assert.ok(hpa, "no HorizontalPodAutoscaler scales Deployment/chat");
    assert.ok(hpa.spec.minReplicas >= 2 && hpa.spec.maxReplicas > hpa.spec.minReplicas, `HPA ${hpa.spec.minReplicas}..${hpa.spec.maxReplicas}`);
    for (const d of ofKind(objects, "Deployment"))
      assert.ok(ofKind(objects, "PodDisruptionBudget").some(p => selects(p.spec.selector, podLabels(d))), `no PodDisruptionBudget for ${describe(d)}`);
  });

  test(`${name}: NetworkPolicies deny by default and let only the gateway be reached from outside`, () => {
    const policies = ofKind(objects, "NetworkPolicy");
    assert.ok(policies.some(p => Object.keys(p.spec.podSelector).length === 0 && p.spec.policyTypes.includes("Ingress") && !p.spec.ingress),
      "no default-deny ingress policy");
    const pods = [...ofKind(objects, "Deployment"), ...ofKind(objects, "StatefulSet")];
    for (const p of policies)
      for (const rule of p.spec.ingress ?? []) {
        const fromOutside = !rule.from || rule.from.some(peer => peer.ipBlock || peer.namespaceSelector);
        const targets = pods.filter(w => selects(p.spec.podSelector, podLabels(w))).map(w => w.metadata.name);
        if (fromOutside) assert.deepEqual(targets, ["gateway"], `${describe(p)} lets in from outside: ${targets}`);
      }
  });

  test(`${name}: Chat reaches Settings and Tools on their gRPC ports`, () => {
    for (const target of ["settings", "tools"]) {
      const grpcPort = named(objects, "Deployment", target).spec.template.spec.containers[0].ports.find(p => p.name === "grpc");
      assert.ok(grpcPort, `${target} has no grpc port`);
      assert.ok(ingressRules(objects, { "app.kubernetes.io/name": target }).some(rule => rule.from?.some(peer => selects(peer.podSelector, { "app.kubernetes.io/name": "chat" }))
        && rule.ports?.some(p => p.port === "grpc" || p.port === grpcPort.containerPort)), `chat may not reach ${target}'s grpc port`);
    }
  });

  test(`${name}: every $(VAR) in a container's environment names a variable defined above it`, () => {
    for (const w of [...ofKind(objects, "Deployment"), ...ofKind(objects, "StatefulSet")])
      for (const c of podSpec(w).containers) {
        const defined = new Set();
        for (const e of c.env ?? []) {
          for (const [, reference] of (e.value ?? "").matchAll(/\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g))
            assert.ok(defined.has(reference), `${describe(w)}: ${e.name} names $(${reference}) before it is defined`);
          defined.add(e.name);
        }
      }
  });

  test(`${name}: every key a service is configured with is one the AppHost passes to it`, () => {
    assert.ok(process.env.APPHOST_KEYS, "APPHOST_KEYS is not set: run this suite through KubernetesManifestsTests (dotnet test), which reads the keys from the AppHost");
    const apphost = JSON.parse(readFileSync(process.env.APPHOST_KEYS, "utf8"));
    const declared = new Map(expectedSecrets(folder).map(s => [s.name, s.keys ?? []]));
    for (const d of ofKind(objects, "Deployment")) {
      const c = container(d);
      const passed = new Set(apphost[d.metadata.name]);
      assert.ok(passed.size > 0, `the AppHost passes nothing to ${d.metadata.name}`);
      const keys = [];
      for (const e of c.envFrom ?? []) {
        if (e.configMapRef) keys.push(...Object.keys(named(objects, "ConfigMap", e.configMapRef.name).data).map(k => [k, `ConfigMap/${e.configMapRef.name}`]));
        if (e.secretRef) keys.push(...declared.get(e.secretRef.name).map(k => [k, `Secret/${e.secretRef.name}`]));
      }
      // a variable that only composes another value ($(…)) is Kubernetes' own, not the service's configuration
      const composing = new Set((c.env ?? []).flatMap(e => [...(e.value ?? "").matchAll(/\$\(([A-Za-z0-9_]+)\)/g)].map(m => m[1])));
      keys.push(...(c.env ?? []).filter(e => !composing.has(e.name)).map(e => [e.name, "env"]));
      for (const [key, from] of keys)
        // OTEL_*: OpenTelemetry's own variables, which the AppHost sets only in run mode (towards its dashboard)
        assert.ok(passed.has(key) || key.startsWith("OTEL_"), `${describe(d)}: ${key} (${from}) is not a key the AppHost passes to ${d.metadata.name}`);
      for (const key of passed)
        assert.ok(keys.some(([k]) => k === key) || notCarriedOver.some(([pattern]) => pattern.test(key)),
          `${describe(d)}: the AppHost passes ${key}, the manifests do not (set it, or say in notCarriedOver why not)`);
    }
  });
}

test("local: PostgreSQL 15, Redis 7 and RabbitMQ 3 run as StatefulSets of their official images with volumes, reached only by the services", () => {
  const { objects } = rendered.find(r => r.name === "local");
  const images = { postgres: /^postgres:15/, redis: /^redis:7/, rabbitmq: /^rabbitmq:3\./ };
  for (const server of servers) {
    const set = named(objects, "StatefulSet", server);
    assert.match(podSpec(set).containers[0].image, images[server]);
    assert.ok(set.spec.volumeClaimTemplates?.length > 0, `${server} has no persistent volume`);
    const peers = ingressRules(objects, podLabels(set)).flatMap(rule => rule.from ?? [{}]);
    assert.ok(peers.length > 0 && peers.every(peer => services.includes(peer.podSelector?.matchLabels?.["app.kubernetes.io/name"])), `${server} is reached by more than the services`);
  }
  const init = Object.values(ofKind(objects, "ConfigMap").find(c => c.metadata.name.startsWith("postgres-init")).data).join("\n");
  for (const database of ["settings", "content", "chat"]) assert.match(init, new RegExp(`CREATE DATABASE ${database};`));
});

test("production: no server runs in the cluster; the connection strings come from the Secret aiassistant-servers", () => {
  const { objects } = rendered.find(r => r.name === "production");
  assert.deepEqual(ofKind(objects, "StatefulSet"), []);
  for (const d of ofKind(objects, "Deployment"))
    for (const e of container(d).env.filter(e => e.name.startsWith("ConnectionStrings__")))
      assert.equal(e.valueFrom?.secretKeyRef?.name, "aiassistant-servers", `${describe(d)}: ${e.name}`);
});

for (const [fixture, message, count] of [
  ["missing-secret", /^missing secret "aiassistant-master-key-ring": Deployment\/settings references it, but .*expected-secrets.yaml does not declare it$/, 1],
  ["missing-key", /^missing key "Auth__JwtKey" of secret "aiassistant-service-credentials": Deployment\/\w+ references it/, services.length],
])
  test(`an overlay missing a required secret fails validation with a message naming it (fixtures/${fixture})`, async () => {
    const problems = await overlayProblems(join(import.meta.dirname, "fixtures", fixture));
    assert.equal(problems.length, count, problems.join("\n"));
    for (const problem of problems) assert.match(problem, message);
  });

test("the schema validation rejects what the API server would: a wrong type, a missing required field", async () => {
  const deployment = structuredClone(rendered[0].objects.find(o => o.kind === "Deployment"));
  deployment.spec.replicas = "two";
  delete deployment.spec.template.spec.containers[0].name;
  const problems = await schemaProblems([deployment, { apiVersion: "v1", kind: "Nonsense", metadata: { name: "x" } }]);
  assert.match(problems[0], /replicas must be integer/);
  assert.match(problems[0], /must have required property 'name'|required property name/);
  assert.match(problems[1], /no Kubernetes API schema for v1 Nonsense/);
  assert.throws(() => new Deployment({ metadata: { name: "x" }, spec: {} }).validate());
});

test("the Dockerfile copies every project a service's image is built from, and each Deployment's image is one it builds", () => {
  const dockerfile = readFileSync(join(repositoryRoot, "deploy/docker/Dockerfile"), "utf8");
  // a project is copied twice: its project file for the restore layer, then its sources
  const copiedAs = pattern => new Set([...dockerfile.matchAll(pattern)].map(m => m[1]));
  const projectFiles = copiedAs(/^COPY (\S+)\/\*\.csproj /gm), sources = copiedAs(/^COPY (\S+)\/ \1\/$/gm);
  const copied = new Set([...projectFiles].filter(folder => sources.has(folder)));
  const project = { gateway: "Gateway", settings: "Services.Settings", tools: "Services.Tools", chat: "Services.Chat" };
  const references = folder => [...readFileSync(join(repositoryRoot, folder, `${folder}.csproj`), "utf8").matchAll(/<ProjectReference Include="\.\.\/([^/]+)\//g)].map(m => m[1]);
  for (const d of ofKind(rendered.find(r => r.name === "local").objects, "Deployment")) {
    assert.equal(container(d).image, `aiassistant/${d.metadata.name}`);
    const needed = new Set();
    for (let pending = [project[d.metadata.name]]; pending.length > 0;) {
      const folder = pending.pop();
      if (needed.has(folder)) continue;
      needed.add(folder);
      pending.push(...references(folder));
    }
    for (const folder of needed)
      assert.ok(folder === project[d.metadata.name] || copied.has(folder), `${d.metadata.name}'s image needs ${folder}, which the Dockerfile does not copy`);
  }
  assert.ok(copied.has("${PROJECT}"), "the Dockerfile does not copy the service's own project");
});
