// Copy the parts of GitHub's published descriptions that gharts uses into the test data.
//
//   cd tools/openapi && npm ci && node extract.mjs
//
// Writes tests/contract/github/data/github-openapi-subset.json (the operations the GitHub adapter
// calls, with every component they reference) and tests/data/webhooks/workflow_job.json (the
// workflow_job example deliveries). The tests read only these files, never node_modules.
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, "..", "..");
const require = createRequire(import.meta.url);

const OPENAPI = "@octokit/openapi";
const EXAMPLES = "@octokit/webhooks-examples";

// [description file, path, method]; enterprise runner endpoints are only in the GHEC description.
const OPERATIONS = [
  ["api.github.com", "/app/installations/{installation_id}/access_tokens", "post"],
  ["api.github.com", "/repos/{owner}/{repo}/actions/runs/{run_id}/cancel", "post"],
  ...runnerOperations("api.github.com", "/orgs/{org}"),
  ...runnerOperations("api.github.com", "/repos/{owner}/{repo}"),
  ...runnerOperations("ghec", "/enterprises/{enterprise}"),
];

function runnerOperations(file, prefix) {
  const base = `${prefix}/actions/runners`;
  return [
    [file, base, "get"],
    [file, `${base}/generate-jitconfig`, "post"],
    [file, `${base}/registration-token`, "post"],
    [file, `${base}/{runner_id}`, "get"],
    [file, `${base}/{runner_id}`, "delete"],
  ];
}

function packageVersion(name) {
  return JSON.parse(readFileSync(require.resolve(`${name}/package.json`), "utf8")).version;
}

function loadDescription(file) {
  return JSON.parse(readFileSync(require.resolve(`${OPENAPI}/generated/${file}.json`), "utf8"));
}

// Media-type examples are documentation only; dropping them keeps the subset small.
function stripExamples(node) {
  if (Array.isArray(node)) return node.map(stripExamples);
  if (node === null || typeof node !== "object") return node;
  const out = {};
  for (const [key, value] of Object.entries(node)) {
    if (key === "examples" && !Array.isArray(value)) continue;
    out[key] = stripExamples(value);
  }
  return out;
}

// GHEC's prose links to other docs pages; only the machine-readable parts must agree.
function withoutProse(node) {
  if (Array.isArray(node)) return node.map(withoutProse);
  if (node === null || typeof node !== "object") return node;
  return Object.fromEntries(
    Object.entries(node)
      .filter(([key]) => key !== "description")
      .map(([key, value]) => [key, withoutProse(value)]),
  );
}

function collectRefs(node, found) {
  if (Array.isArray(node)) {
    node.forEach((item) => collectRefs(item, found));
  } else if (node !== null && typeof node === "object") {
    for (const [key, value] of Object.entries(node)) {
      if (key === "$ref" && typeof value === "string") found.add(value);
      else collectRefs(value, found);
    }
  }
}

function extractOpenAPI() {
  const descriptions = {};
  const subset = { paths: {}, components: {} };
  const pending = [];
  for (const [file, path, method] of OPERATIONS) {
    descriptions[file] ??= loadDescription(file);
    const operation = descriptions[file].paths[path]?.[method];
    if (!operation) throw new Error(`${file}: ${method.toUpperCase()} ${path} not found`);
    const cleaned = stripExamples(operation);
    subset.paths[path] ??= {};
    subset.paths[path][method] = cleaned;
    const refs = new Set();
    collectRefs(cleaned, refs);
    refs.forEach((ref) => pending.push([file, ref]));
  }
  const seen = new Set();
  while (pending.length > 0) {
    const [file, ref] = pending.pop();
    const [, , kind, name] = ref.split("/");
    const component = stripExamples(descriptions[file].components[kind][name]);
    subset.components[kind] ??= {};
    const existing = subset.components[kind][name];
    if (existing !== undefined) {
      if (JSON.stringify(withoutProse(existing)) !== JSON.stringify(withoutProse(component))) {
        throw new Error(`${ref} differs between descriptions; namespace it before merging`);
      }
    } else {
      subset.components[kind][name] = component;
    }
    if (seen.has(`${file} ${ref}`)) continue;
    seen.add(`${file} ${ref}`);
    const refs = new Set();
    collectRefs(component, refs);
    refs.forEach((inner) => pending.push([file, inner]));
  }
  for (const kind of Object.keys(subset.components)) {
    subset.components[kind] = Object.fromEntries(
      Object.entries(subset.components[kind]).sort(([a], [b]) => a.localeCompare(b)),
    );
  }
  const main = descriptions["api.github.com"];
  return {
    openapi: main.openapi,
    info: {
      title: "GitHub REST API: the operations gharts uses",
      version: main.info.version,
      "x-source": {
        package: OPENAPI,
        version: packageVersion(OPENAPI),
        files: Object.keys(descriptions).map((file) => `generated/${file}.json`),
        generator: "tools/openapi/extract.mjs",
      },
    },
    paths: subset.paths,
    components: subset.components,
  };
}

function extractWebhooks() {
  const events = JSON.parse(readFileSync(require.resolve(EXAMPLES), "utf8"));
  const workflowJob = events.find((event) => event.name === "workflow_job");
  if (!workflowJob) throw new Error(`${EXAMPLES}: no workflow_job examples`);
  return {
    source: { package: EXAMPLES, version: packageVersion(EXAMPLES), event: "workflow_job" },
    actions: workflowJob.actions,
    examples: workflowJob.examples,
  };
}

function write(relative, document) {
  const target = join(root, relative);
  mkdirSync(dirname(target), { recursive: true });
  const text = `${JSON.stringify(document, null, 1)}\n`;
  writeFileSync(target, text);
  console.log(`${relative}: ${text.length} bytes`);
}

write("tests/contract/github/data/github-openapi-subset.json", extractOpenAPI());
write("tests/data/webhooks/workflow_job.json", extractWebhooks());
