#!/usr/bin/env python3
"""Offline check of deploy/kubernetes: renders a kustomization and asserts the bridge's invariants.

  check_kubernetes.py [--binary PATH] [--kubectl auto|require|off] DIR...
  check_kubernetes.py --self-test [--binary PATH] KUBERNETES_ROOT

The renderer implements the part of kustomize this repository uses (resources, namespace, images,
strategic-merge patches) and refuses any other kustomization key, so a feature it does not model
cannot pass unseen. When kubectl is on PATH, `kubectl kustomize` renders the same directory and
both renders must be equal. --self-test copies the tree, breaks one invariant at a time and
expects the check to fail with the matching message.

Needs PyYAML (Debian: python3-yaml).
"""

import argparse
import copy
import os
import re
import shutil
import subprocess
import sys
import tempfile

try:
    import yaml
except ImportError:
    sys.exit("check_kubernetes.py: PyYAML is missing (Debian: apt-get install python3-yaml)")


class CheckError(Exception):
    """An invariant is broken or the input cannot be rendered."""


# ---- rendering ------------------------------------------------------------------------------------

SUPPORTED_KEYS = {"apiVersion", "kind", "resources", "namespace", "images", "patches"}
CLUSTER_SCOPED = {"Namespace", "ClusterRole", "ClusterRoleBinding", "PersistentVolume",
                  "StorageClass", "IngressClass", "CustomResourceDefinition", "PriorityClass"}
# Strategic-merge keys of the lists these manifests patch; any other list is replaced whole.
MERGE_KEYS = {"containers": "name", "initContainers": "name", "env": "name", "volumes": "name",
              "volumeMounts": "mountPath", "ports": None}


def load_docs(path):
    with open(path, encoding="utf-8") as f:
        return [d for d in yaml.safe_load_all(f) if d is not None]


def ident(doc):
    meta = doc.get("metadata") or {}
    return (doc.get("kind"), meta.get("name"))


def merge_list(base, patch, key):
    if key is None or not all(isinstance(x, dict) for x in base + patch):
        return copy.deepcopy(patch)
    out = copy.deepcopy(base)
    for item in patch:
        match = [i for i, b in enumerate(out) if b.get(key) == item.get(key)]
        if match:
            out[match[0]] = merge(out[match[0]], item)
        else:
            out.append(copy.deepcopy(item))
    return out


def merge(base, patch, field=None):
    """Strategic merge of patch into base (maps recursively, lists by MERGE_KEYS, null deletes)."""
    if isinstance(base, dict) and isinstance(patch, dict):
        out = copy.deepcopy(base)
        for k, v in patch.items():
            if isinstance(k, str) and k.startswith("$"):
                raise CheckError(f"patch directive {k} is not supported by this checker")
            if v is None:
                out.pop(k, None)
            elif k in out:
                out[k] = merge(out[k], v, k)
            else:
                out[k] = copy.deepcopy(v)
        return out
    if isinstance(base, list) and isinstance(patch, list):
        if field == "ports":  # container ports merge by containerPort, Service ports by port
            key = "containerPort" if any("containerPort" in p for p in patch) else "port"
            return merge_list(base, patch, key)
        return merge_list(base, patch, MERGE_KEYS.get(field))
    return copy.deepcopy(patch)


def pod_specs(doc):
    spec = doc.get("spec") or {}
    if doc.get("kind") in ("Deployment", "StatefulSet", "DaemonSet", "Job"):
        return [spec.get("template", {}).get("spec") or {}]
    if doc.get("kind") == "Pod":
        return [spec]
    return []


def render(directory):
    """The resource list `kubectl kustomize directory` prints, for the supported subset."""
    kfile = next((os.path.join(directory, n) for n in
                  ("kustomization.yaml", "kustomization.yml", "Kustomization")
                  if os.path.isfile(os.path.join(directory, n))), None)
    if kfile is None:
        raise CheckError(f"{directory}: no kustomization.yaml")
    k = load_docs(kfile)[0]
    unknown = set(k) - SUPPORTED_KEYS
    if unknown:
        raise CheckError(f"{kfile}: kustomization keys not modelled by this checker: "
                         f"{', '.join(sorted(unknown))}")
    docs = []
    for res in k.get("resources") or []:
        path = os.path.normpath(os.path.join(directory, res))
        docs.extend(render(path) if os.path.isdir(path) else load_docs(path))
    for d in docs:
        if not all(d.get(f) for f in ("apiVersion", "kind")) or not (d.get("metadata") or {}).get("name"):
            raise CheckError(f"{directory}: a resource lacks apiVersion, kind or metadata.name")
    seen = set()
    for d in docs:
        if ident(d) in seen:
            raise CheckError(f"{directory}: {ident(d)} appears twice")
        seen.add(ident(d))

    for p in k.get("patches") or []:
        if set(p) - {"path", "patch"}:
            raise CheckError(f"{kfile}: patch options {sorted(set(p) - {'path', 'patch'})} "
                             "are not modelled by this checker")
        patch_docs = (load_docs(os.path.join(directory, p["path"])) if "path" in p
                      else [d for d in yaml.safe_load_all(p["patch"]) if d])
        for pd in patch_docs:
            if not isinstance(pd, dict):
                raise CheckError(f"{kfile}: only strategic-merge patches are modelled")
            targets = [i for i, d in enumerate(docs) if ident(d) == ident(pd)]
            if not targets:
                raise CheckError(f"{kfile}: patch target {ident(pd)} not found")
            docs[targets[0]] = merge(docs[targets[0]], pd)

    ns = k.get("namespace")
    if ns:
        for d in docs:
            if d["kind"] not in CLUSTER_SCOPED:
                d["metadata"]["namespace"] = ns

    for img in k.get("images") or []:
        for d in docs:
            for ps in pod_specs(d):
                for c in (ps.get("containers") or []) + (ps.get("initContainers") or []):
                    c["image"] = set_image(c.get("image", ""), img)
    return docs


def set_image(image, rule):
    name, sep, ref = image, "", ""
    if "@" in image:
        name, ref = image.split("@", 1)
        sep = "@"
    elif ":" in image.rsplit("/", 1)[-1]:
        name, ref = image.rsplit(":", 1)
        sep = ":"
    if name != rule["name"]:
        return image
    name = rule.get("newName", name)
    if "digest" in rule:
        return f"{name}@{rule['digest']}"
    if "newTag" in rule:
        return f"{name}:{rule['newTag']}"
    return f"{name}{sep}{ref}"


def kubectl_render(directory):
    out = subprocess.run(["kubectl", "kustomize", directory], check=False, capture_output=True,
                         text=True)
    if out.returncode != 0:
        raise CheckError(f"kubectl kustomize {directory} failed: {out.stderr.strip()}")
    return [d for d in yaml.safe_load_all(out.stdout) if d is not None]


def canonical(docs):
    return sorted((yaml.safe_dump(d, sort_keys=True) for d in docs))


# ---- invariants -----------------------------------------------------------------------------------

def parse_duration(text):
    """Seconds in a bridge duration such as 25s, 1m30s, 250ms."""
    parts = re.findall(r"(\d+)(ms|s|m|h)", str(text))
    if not parts or "".join(n + u for n, u in parts) != str(text):
        raise CheckError(f"cannot read duration {text!r}")
    scale = {"ms": 0.001, "s": 1, "m": 60, "h": 3600}
    return sum(int(n) * scale[u] for n, u in parts)


def port_of(listen):
    return int(str(listen).rsplit(":", 1)[1])


def one(docs, kind):
    found = [d for d in docs if d["kind"] == kind]
    if len(found) != 1:
        raise CheckError(f"expected exactly one {kind}, found {len(found)}")
    return found[0]


def selects(selector, labels):
    return bool(selector) and all(labels.get(k) == v for k, v in selector.items())


def check(docs, where, binary=None):
    """Raises CheckError naming the first broken invariant of a rendered deployment."""
    def fail(msg):
        raise CheckError(f"{where}: {msg}")

    dep = one(docs, "Deployment")
    spec = dep["spec"]
    pod = spec["template"]["spec"]
    pod_labels = spec["template"]["metadata"].get("labels") or {}
    if spec.get("replicas") != 1:
        fail(f"Deployment replicas is {spec.get('replicas')}: must be 1 (one process per spool)")
    if (spec.get("strategy") or {}).get("type") != "Recreate":
        fail("Deployment strategy must be Recreate (the old pod must release the spool first)")
    if not selects(spec["selector"].get("matchLabels"), pod_labels):
        fail("Deployment selector does not select its pod template")

    containers = pod.get("containers") or []
    if len(containers) != 1:
        fail("expected one container in the pod")
    c = containers[0]
    if not re.search(r"(:[^/:]+|@sha256:[0-9a-f]{64})$", c.get("image", "")) or \
            c["image"].endswith(":latest"):
        fail(f"image {c.get('image')!r} needs an explicit tag or digest (not latest)")

    # The bridge's configuration, from the ConfigMap mounted at the --config path.
    args = c.get("args") or []
    if "--config" not in args:
        fail("container args lack --config")
    config_path = args[args.index("--config") + 1]
    mounts = {m["mountPath"]: m for m in c.get("volumeMounts") or []}
    volumes = {v["name"]: v for v in pod.get("volumes") or []}
    config_dir, config_key = os.path.split(config_path)
    if config_dir not in mounts:
        fail(f"nothing is mounted at {config_dir} for --config {config_path}")
    cm_name = (volumes[mounts[config_dir]["name"]].get("configMap") or {}).get("name")
    cms = [d for d in docs if d["kind"] == "ConfigMap" and d["metadata"]["name"] == cm_name]
    if not cms or config_key not in (cms[0].get("data") or {}):
        fail(f"ConfigMap {cm_name} with key {config_key} is not in the render")
    config_text = cms[0]["data"][config_key]
    config = yaml.safe_load(config_text) or {}

    grace = parse_duration((config.get("shutdown") or {}).get("grace", "25s"))
    tgps = pod.get("terminationGracePeriodSeconds", 30)
    if not tgps > grace:
        fail(f"terminationGracePeriodSeconds {tgps} must exceed shutdown.grace ({grace:g}s)")

    ports = {p["name"]: p["containerPort"] for p in c.get("ports") or []}
    admin_port = port_of((config.get("admin") or {}).get("listen", "0.0.0.0:9090"))
    webhook_port = port_of((config.get("server") or {}).get("listen", "0.0.0.0:8443"))
    webhook_path = (config.get("server") or {}).get("webhook_path", "/webhook")
    if ports.get("admin") != admin_port or ports.get("webhook") != webhook_port:
        fail(f"container ports {ports} do not match the config (webhook {webhook_port}, "
             f"admin {admin_port})")

    def probe_port(probe):
        p = probe["httpGet"]["port"]
        return ports.get(p) if isinstance(p, str) else p

    for name, path in (("livenessProbe", "/healthz"), ("readinessProbe", "/readyz"),
                       ("startupProbe", None)):
        probe = c.get(name)
        if not probe or "httpGet" not in probe:
            fail(f"{name} missing (an httpGet on the admin port)")
        if path and probe["httpGet"].get("path") != path:
            fail(f"{name} path is {probe['httpGet'].get('path')}, expected {path}")
        if probe_port(probe) != admin_port:
            fail(f"{name} is not on the admin port {admin_port}")

    ann = spec["template"]["metadata"].get("annotations") or {}
    if ann.get("prometheus.io/scrape") != "true" or ann.get("prometheus.io/path") != "/metrics" \
            or ann.get("prometheus.io/port") != str(admin_port):
        fail(f"prometheus.io annotations must scrape /metrics on {admin_port}")

    res = c.get("resources") or {}
    if not (res.get("requests") or {}).get("memory") or not (res.get("limits") or {}).get("memory"):
        fail("memory request and limit must be set")

    psc, csc = pod.get("securityContext") or {}, c.get("securityContext") or {}
    if not csc.get("runAsNonRoot", psc.get("runAsNonRoot")):
        fail("runAsNonRoot must be true")
    if csc.get("runAsUser", psc.get("runAsUser")) == 0:
        fail("runAsUser must not be 0")
    if csc.get("readOnlyRootFilesystem") is not True:
        fail("readOnlyRootFilesystem must be true")
    if csc.get("allowPrivilegeEscalation") is not False:
        fail("allowPrivilegeEscalation must be false")
    if csc.get("privileged"):
        fail("the container must not be privileged")
    caps = csc.get("capabilities") or {}
    if "ALL" not in (caps.get("drop") or []) or caps.get("add"):
        fail("capabilities must drop ALL and add none")
    seccomp = (csc.get("seccompProfile") or psc.get("seccompProfile") or {}).get("type")
    if seccomp not in ("RuntimeDefault", "Localhost"):
        fail("seccompProfile must be RuntimeDefault")

    # The spool is a PersistentVolumeClaim in the render, mounted at spool.dir.
    spool_dir = (config.get("spool") or {}).get("dir")
    if not spool_dir or spool_dir not in mounts:
        fail(f"spool.dir {spool_dir!r} must be set and mounted")
    claim = (volumes[mounts[spool_dir]["name"]].get("persistentVolumeClaim") or {}).get("claimName")
    pvcs = [d for d in docs if d["kind"] == "PersistentVolumeClaim"
            and d["metadata"]["name"] == claim]
    if not claim or not pvcs:
        fail(f"spool.dir {spool_dir} must be a PersistentVolumeClaim in the render")
    if "ReadWriteOnce" not in pvcs[0]["spec"].get("accessModes", []) and \
            "ReadWriteOncePod" not in pvcs[0]["spec"].get("accessModes", []):
        fail("the spool claim must be ReadWriteOnce(Pod)")

    # Every *_file secret is a key of the Secret mounted at its directory.
    secret_files = {}
    for section in ("meta", "robofy"):
        for key, value in (config.get(section) or {}).items():
            if key.endswith("_file"):
                secret_files[f"{section}.{key}"] = value
    for key, path in secret_files.items():
        directory, name = os.path.split(path)
        if directory not in mounts:
            fail(f"{key}: nothing mounted at {directory}")
        sname = (volumes[mounts[directory]["name"]].get("secret") or {}).get("secretName")
        secrets = [d for d in docs if d["kind"] == "Secret" and d["metadata"]["name"] == sname]
        if not secrets:
            fail(f"{key}: Secret {sname} is not in the render")
        data = dict(secrets[0].get("data") or {}, **(secrets[0].get("stringData") or {}))
        if name not in data:
            fail(f"{key}: Secret {sname} has no key {name}")
    if len(secret_files) < 4:
        fail("app_secret, verify_token, access_token and api_key must all come from files")

    svc = one(docs, "Service")
    if not selects(svc["spec"].get("selector"), pod_labels):
        fail("Service selector does not select the pod")
    svc_ports = {}
    for p in svc["spec"]["ports"]:
        target = p.get("targetPort", p["port"])
        svc_ports[p.get("name")] = svc_ports[p["port"]] = \
            ports.get(target) if isinstance(target, str) else target
    if webhook_port not in svc_ports.values():
        fail("the Service does not expose the webhook port")

    pdb = one(docs, "PodDisruptionBudget")
    if not selects(pdb["spec"]["selector"].get("matchLabels"), pod_labels):
        fail("PodDisruptionBudget selector does not select the pod")

    ing = one(docs, "Ingress")
    tls_hosts = {h for t in ing["spec"].get("tls") or [] for h in t.get("hosts") or []}
    if "defaultBackend" in ing["spec"]:
        fail("the Ingress must not have a defaultBackend (webhook path only)")
    rules = ing["spec"].get("rules") or []
    if not rules:
        fail("the Ingress has no rules")
    for rule in rules:
        if rule.get("host") not in tls_hosts:
            fail(f"Ingress host {rule.get('host')} is not covered by TLS")
        for path in rule["http"]["paths"]:
            backend = path["backend"]["service"]
            if backend["name"] != svc["metadata"]["name"]:
                fail(f"Ingress backend {backend['name']} is not the bridge's Service")
            port = backend["port"].get("name", backend["port"].get("number"))
            if svc_ports.get(port) != webhook_port:
                fail(f"Ingress routes {path.get('path')} to port {port}, not the webhook port "
                     "(the admin port must stay private)")
            if path.get("path") != webhook_path:
                fail(f"Ingress path {path.get('path')} is not the webhook path {webhook_path}")

    ns = [d["metadata"].get("namespace") for d in docs if d["kind"] not in CLUSTER_SCOPED]
    if len(set(ns)) > 1:
        fail(f"resources are spread over namespaces {sorted(set(map(str, ns)))}")

    if binary:
        check_config(binary, config_text, c, secret_files, where)


def check_config(binary, config_text, container, secret_files, where):
    """robofy-wa-bridge --check-config on the ConfigMap's file, with the container's env."""
    with tempfile.TemporaryDirectory() as tmp:
        for key, path in secret_files.items():
            local = os.path.join(tmp, "secrets", path.lstrip("/"))
            os.makedirs(os.path.dirname(local), exist_ok=True)
            with open(local, "w", encoding="utf-8") as f:
                f.write("test-secret\n")
            config_text = config_text.replace(path, local)
        cfg = os.path.join(tmp, "config.yaml")
        with open(cfg, "w", encoding="utf-8") as f:
            f.write(config_text)
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin")}
        env.update({e["name"]: str(e.get("value", "")) for e in container.get("env") or []})
        out = subprocess.run([binary, "--config", cfg, "--check-config"], env=env,
                             capture_output=True, text=True, check=False)
        if out.returncode != 0:
            raise CheckError(f"{where}: robofy-wa-bridge --check-config refused the ConfigMap's "
                             f"config:\n{out.stdout}{out.stderr}")


def run(directories, binary, kubectl):
    have_kubectl = shutil.which("kubectl") is not None
    if kubectl == "require" and not have_kubectl:
        raise CheckError("kubectl is not on PATH (--kubectl require)")
    for d in directories:
        docs = render(d)
        check(docs, d, binary)
        note = "checker render"
        if kubectl != "off" and have_kubectl:
            if canonical(kubectl_render(d)) != canonical(docs):
                raise CheckError(f"{d}: kubectl kustomize renders differently from the checker")
            note += " == kubectl kustomize"
        elif kubectl != "off":
            note += "; kubectl not on PATH, render cross-check skipped"
        print(f"ok: {d}: {len(docs)} resources, invariants hold ({note})")


# ---- self-test: each broken copy must fail with its message --------------------------------------

def edit(root, rel, fn, index=0):
    path = os.path.join(root, rel)
    docs = load_docs(path)
    fn(docs[index])
    with open(path, "w", encoding="utf-8") as f:
        yaml.safe_dump_all(docs, f, sort_keys=False)


def container_of(doc):
    return doc["spec"]["template"]["spec"]["containers"][0]


def set_config(doc, fn):
    cfg = yaml.safe_load(doc["data"]["config.yaml"])
    fn(cfg)
    doc["data"]["config.yaml"] = yaml.safe_dump(cfg, sort_keys=False)


MUTATIONS = [
    ("two replicas", "base/deployment.yaml",
     lambda d: d["spec"].update(replicas=2), "replicas is 2"),
    ("rolling update", "base/deployment.yaml",
     lambda d: d["spec"].update(strategy={"type": "RollingUpdate"}), "Recreate"),
    ("grace period below shutdown.grace", "base/deployment.yaml",
     lambda d: d["spec"]["template"]["spec"].update(terminationGracePeriodSeconds=20),
     "terminationGracePeriodSeconds"),
    ("shutdown.grace raised above the grace period", "base/configmap.yaml",
     lambda d: set_config(d, lambda c: c["shutdown"].update(grace="1m")),
     "terminationGracePeriodSeconds"),
    ("liveness on /readyz", "base/deployment.yaml",
     lambda d: container_of(d)["livenessProbe"]["httpGet"].update(path="/readyz"),
     "livenessProbe path"),
    ("readiness on the webhook port", "base/deployment.yaml",
     lambda d: container_of(d)["readinessProbe"]["httpGet"].update(port="webhook"),
     "readinessProbe is not on the admin port"),
    ("no startup probe", "base/deployment.yaml",
     lambda d: container_of(d).pop("startupProbe"), "startupProbe missing"),
    ("admin port moved in the config only", "base/configmap.yaml",
     lambda d: set_config(d, lambda c: c["admin"].update(listen="0.0.0.0:9091")),
     "do not match the config"),
    ("root allowed", "base/deployment.yaml",
     lambda d: d["spec"]["template"]["spec"]["securityContext"].pop("runAsNonRoot"),
     "runAsNonRoot"),
    ("writable root file system", "base/deployment.yaml",
     lambda d: container_of(d)["securityContext"].update(readOnlyRootFilesystem=False),
     "readOnlyRootFilesystem"),
    ("privilege escalation", "base/deployment.yaml",
     lambda d: container_of(d)["securityContext"].pop("allowPrivilegeEscalation"),
     "allowPrivilegeEscalation"),
    ("capabilities kept", "base/deployment.yaml",
     lambda d: container_of(d)["securityContext"].update(capabilities={"add": ["NET_ADMIN"]}),
     "capabilities"),
    ("no seccomp profile", "base/deployment.yaml",
     lambda d: d["spec"]["template"]["spec"]["securityContext"].pop("seccompProfile"),
     "seccompProfile"),
    ("spool on emptyDir", "base/deployment.yaml",
     lambda d: d["spec"]["template"]["spec"]["volumes"].__setitem__(
         2, {"name": "spool", "emptyDir": {}}), "PersistentVolumeClaim"),
    ("secret key missing", "base/secret.yaml",
     lambda d: d["stringData"].pop("robofy_api_key"), "has no key robofy_api_key"),
    ("admin port in the Ingress", "base/ingress.yaml",
     lambda d: d["spec"]["rules"][0]["http"]["paths"].append(
         {"path": "/metrics", "pathType": "Exact",
          "backend": {"service": {"name": "robofy-wa-bridge", "port": {"name": "admin"}}}}),
     "admin port must stay private"),
    ("Ingress without TLS", "base/ingress.yaml",
     lambda d: d["spec"].pop("tls"), "not covered by TLS"),
    ("scrape annotation on the webhook port", "base/deployment.yaml",
     lambda d: d["spec"]["template"]["metadata"]["annotations"].update(
         {"prometheus.io/port": "8443"}), "prometheus.io"),
    ("PDB selecting nothing", "base/pdb.yaml",
     lambda d: d["spec"]["selector"].update(matchLabels={"app": "other"}), "PodDisruptionBudget"),
    ("no memory limit", "base/deployment.yaml",
     lambda d: container_of(d)["resources"].pop("limits"), "memory"),
    ("untagged image", "base/deployment.yaml",
     lambda d: container_of(d).update(image="robofy-wa-bridge"), "explicit tag"),
    ("kustomize feature the checker does not model", "base/kustomization.yaml",
     lambda d: d.update(commonLabels={"team": "x"}), "not modelled"),
]

# Patches in the overlay are applied, not skipped: a patch that breaks an invariant is caught.
OVERLAY_MUTATIONS = [
    ("overlay patch raising replicas", "overlays/example/agent.yaml",
     lambda d: d["spec"].update(replicas=3), "replicas is 3"),
    ("overlay patch adding a capability", "overlays/example/agent.yaml",
     lambda d: container_of(d).update(securityContext={"capabilities": {"add": ["SYS_ADMIN"]}}),
     "capabilities"),
    ("overlay patch of a resource that does not exist", "overlays/example/ingress-host.yaml",
     lambda d: d["metadata"].update(name="other"), "not found"),
]

BINARY_MUTATIONS = [
    ("config the bridge rejects", "base/configmap.yaml",
     lambda d: set_config(d, lambda c: c["queue"].update(workerz=3)), "--check-config refused"),
]


def self_test(root, binary):
    failures = 0
    mutations = [m + ("base",) for m in MUTATIONS + (BINARY_MUTATIONS if binary else [])]
    mutations += [m + ("overlays/example",) for m in OVERLAY_MUTATIONS]
    with tempfile.TemporaryDirectory() as tmp:
        pristine = os.path.join(tmp, "pristine")
        shutil.copytree(root, pristine)
        for target in ("base", "overlays/example"):
            try:
                check(render(os.path.join(pristine, target)), "pristine copy", binary)
            except CheckError as e:
                print(f"FAIL: the unmodified copy of {target} does not pass: {e}")
                return 1
        for i, (what, rel, fn, expect, target) in enumerate(mutations):
            copy_root = os.path.join(tmp, f"m{i}")
            shutil.copytree(root, copy_root)
            edit(copy_root, rel, fn)
            try:
                check(render(os.path.join(copy_root, target)), what, binary)
                print(f"FAIL: {what}: the check passed")
                failures += 1
            except CheckError as e:
                if expect not in str(e):
                    print(f"FAIL: {what}: failed for another reason: {e}")
                    failures += 1
                else:
                    print(f"ok: {what} -> {str(e).splitlines()[0]}")
    print(f"self-test: {len(mutations) - failures} of {len(mutations)} broken copies caught")
    return 1 if failures else 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("dirs", nargs="+")
    ap.add_argument("--binary", help="robofy-wa-bridge, to --check-config the ConfigMap")
    ap.add_argument("--kubectl", choices=("auto", "require", "off"), default="auto")
    ap.add_argument("--self-test", action="store_true")
    a = ap.parse_args()
    try:
        if a.self_test:
            return self_test(a.dirs[0], a.binary)
        run(a.dirs, a.binary, a.kubectl)
    except CheckError as e:
        print(f"FAIL: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
