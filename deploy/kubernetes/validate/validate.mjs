// node validate.mjs FILE.yaml...: every document is checked against the Kubernetes API schema
// of its apiVersion/kind (kubernetes-models, ajv), offline. Exit 1 with each error, file and
// document index, 2 when a kind is unknown here.
import { readFileSync } from "node:fs";
import { parseAllDocuments } from "yaml";

const groups = { v1: "v1", "apps/v1": "apps/v1", "batch/v1": "batch/v1", "rbac.authorization.k8s.io/v1": "rbac.authorization.k8s.io/v1" };
let failed = 0, checked = 0;
for (const file of process.argv.slice(2)) {
  const docs = parseAllDocuments(readFileSync(file, "utf8"));
  for (const [i, doc] of docs.entries()) {
    if (doc.errors.length) { console.log(`${file}[${i}]: YAML: ${doc.errors[0].message}`); failed++; continue; }
    const obj = doc.toJS();
    if (!obj) continue;
    const where = `${file}[${i}] ${obj.kind}/${obj.metadata?.name}`;
    const mod = groups[obj.apiVersion];
    if (!mod) { console.log(`${where}: apiVersion ${obj.apiVersion} is not one this checker knows`); process.exit(2); }
    const models = await import(`kubernetes-models/${mod}`);
    const Model = models[obj.kind];
    if (!Model) { console.log(`${where}: kind ${obj.kind} is not in ${obj.apiVersion}`); process.exit(2); }
    try { new Model(obj).validate(); checked++; console.log(`ok: ${where}`); }
    catch (e) { console.log(`${where}: ${e.message}`); failed++; }
  }
}
console.log(`${checked} valid, ${failed} invalid`);
process.exit(failed ? 1 : 0);
