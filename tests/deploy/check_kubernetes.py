#!/usr/bin/env python3
"""Offline check of deploy/kubernetes: renders a kustomization and asserts the bridge's invariants.

  check_kubernetes.py [--binary PATH] [--kubectl auto|require|off] DIR...
  check_kubernetes.py --self-test [--binary PATH] KUBERNETES_ROOT

The renderer implements the part of kustomize this repository uses (resources, components,
namespace, images, strategic-merge patches with `$patch: delete`) and refuses any other
kustomization key, so a feature it does not model cannot pass unseen. When kubectl is on PATH,
`kubectl kustomize` renders the same directory and both renders must be equal.

A render holds the bridge (its Deployment and what it needs), Redis (StatefulSets running
redis-server or redis-sentinel), or both, and each is checked: the bridge as one process on a
spool, or as several replicas when its config has a redis block; Redis for the durability the
bridge relies on; both together for agreeing on addresses, passwords and replica acknowledgements.
--self-test copies the tree, breaks one invariant at a time and expects the check to fail with
the matching message.

Needs PyYAML (Debian: python3-yaml).
"""

import argparse
import copy
import os
import re
import shlex
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

SUPPORTED_KEYS = {"apiVersion", "kind", "resources", "components", "namespace", "images", "patches"}
COMPONENT_KEYS = {"apiVersion", "kind", "resources", "patches"}
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


def directive(item, where):
    """The item without its `$patch` key, and that key's value (only delete is modelled)."""
    if not isinstance(item, dict) or "$patch" not in item:
        return item, None
    if item["$patch"] != "delete":
        raise CheckError(f"patch directive $patch: {item['$patch']} ({where}) is not supported by "
                         "this checker")
    return {k: v for k, v in item.items() if k != "$patch"}, "delete"


def merge_list(base, patch, key):
    """Like kustomize: the patch's items first, in its order (merged into the base's item of the
    same key, or new), then the base's other items in their order; `$patch: delete` drops one."""
    if key is None or not all(isinstance(x, dict) for x in base + patch):
        if any(isinstance(x, dict) and "$patch" in x for x in patch):
            raise CheckError("$patch in a list without a merge key is not modelled by this checker")
        return copy.deepcopy(patch)
    out, taken = [], set()
    for item in patch:
        body, action = directive(item, f"list item {item.get(key)}")
        taken.add(body.get(key))
        if action == "delete":
            continue
        match = [b for b in base if b.get(key) == body.get(key)]
        out.append(merge(match[0], body) if match else copy.deepcopy(body))
    return out + [copy.deepcopy(b) for b in base if b.get(key) not in taken]


def merge(base, patch, field=None):
    """Strategic merge of patch into base (maps recursively, lists by MERGE_KEYS, null deletes)."""
    if isinstance(base, dict) and isinstance(patch, dict):
        out = copy.deepcopy(base)
        for k, v in patch.items():
            if isinstance(k, str) and k.startswith("$"):
                raise CheckError(f"patch directive {k} is not supported by this checker here")
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


def render(directory, accumulated=None, component=False):
    """The resource list `kubectl kustomize directory` prints, for the supported subset. A
    component (kind Component) adds its resources to `accumulated` and patches all of them."""
    kfile = next((os.path.join(directory, n) for n in
                  ("kustomization.yaml", "kustomization.yml", "Kustomization")
                  if os.path.isfile(os.path.join(directory, n))), None)
    if kfile is None:
        raise CheckError(f"{directory}: no kustomization.yaml")
    k = load_docs(kfile)[0]
    kind = k.get("kind", "Kustomization")
    if kind != ("Component" if component else "Kustomization"):
        expected = "Component" if component else "Kustomization"
        raise CheckError(f"{kfile}: a {kind} where a {expected} is expected")
    unknown = set(k) - (COMPONENT_KEYS if component else SUPPORTED_KEYS)
    if unknown:
        raise CheckError(f"{kfile}: kustomization keys not modelled by this checker: "
                         f"{', '.join(sorted(unknown))}")
    docs = list(accumulated or [])
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
    # Components see the resources accumulated so far, before this kustomization's own patches.
    for c in k.get("components") or []:
        docs = render(os.path.normpath(os.path.join(directory, c)), docs, component=True)

    for p in k.get("patches") or []:
        if set(p) - {"path", "patch"}:
            raise CheckError(f"{kfile}: patch options {sorted(set(p) - {'path', 'patch'})} "
                             "are not modelled by this checker")
        patch_docs = (load_docs(os.path.join(directory, p["path"])) if "path" in p
                      else [d for d in yaml.safe_load_all(p["patch"]) if d])
        for pd in patch_docs:
            if not isinstance(pd, dict):
                raise CheckError(f"{kfile}: only strategic-merge patches are modelled")
            body, action = directive(pd, f"patch of {ident(pd)}")
            targets = [i for i, d in enumerate(docs) if ident(d) == ident(body)]
            if not targets:
                raise CheckError(f"{kfile}: patch target {ident(body)} not found")
            if action == "delete":
                del docs[targets[0]]
            else:
                docs[targets[0]] = merge(docs[targets[0]], body)
    if component:
        return docs

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


def redis_role(workload):
    """"server" or "sentinel" for a workload whose container runs Redis, else None."""
    for c in pod_specs(workload)[0].get("containers") or []:
        words = [os.path.basename(str(w)) for w in (c.get("command") or []) + (c.get("args") or [])]
        program = words[0] if words else None
        if program == "redis-sentinel" or (program == "redis-server" and "--sentinel" in words):
            return "sentinel"
        if program == "redis-server":
            return "server"
    return None


def labels_of(workload):
    return (workload["spec"].get("template", {}).get("metadata") or {}).get("labels") or {}


def spreads_over_nodes(pod, labels):
    """True when a pod anti-affinity term keeps pods with these labels on different nodes."""
    anti = (pod.get("affinity") or {}).get("podAntiAffinity") or {}
    terms = list(anti.get("requiredDuringSchedulingIgnoredDuringExecution") or []) + \
        [t.get("podAffinityTerm") or {}
         for t in anti.get("preferredDuringSchedulingIgnoredDuringExecution") or []]
    return any(t.get("topologyKey") == "kubernetes.io/hostname" and
               selects((t.get("labelSelector") or {}).get("matchLabels"), labels) for t in terms)


def check_hardening(pod, c, fail, who=""):
    """The restricted Pod Security profile and a memory budget, for one container."""
    psc, csc = pod.get("securityContext") or {}, c.get("securityContext") or {}
    if not csc.get("runAsNonRoot", psc.get("runAsNonRoot")):
        fail(f"{who}runAsNonRoot must be true")
    if csc.get("runAsUser", psc.get("runAsUser")) == 0:
        fail(f"{who}runAsUser must not be 0")
    if csc.get("readOnlyRootFilesystem") is not True:
        fail(f"{who}readOnlyRootFilesystem must be true")
    if csc.get("allowPrivilegeEscalation") is not False:
        fail(f"{who}allowPrivilegeEscalation must be false")
    if csc.get("privileged"):
        fail(f"{who}the container must not be privileged")
    caps = csc.get("capabilities") or {}
    if "ALL" not in (caps.get("drop") or []) or caps.get("add"):
        fail(f"{who}capabilities must drop ALL and add none")
    seccomp = (csc.get("seccompProfile") or psc.get("seccompProfile") or {}).get("type")
    if seccomp not in ("RuntimeDefault", "Localhost"):
        fail(f"{who}seccompProfile must be RuntimeDefault")
    res = c.get("resources") or {}
    if not (res.get("requests") or {}).get("memory") or not (res.get("limits") or {}).get("memory"):
        fail(f"{who}memory request and limit must be set")


def check_image(c, fail, who=""):
    if not re.search(r"(:[^/:]+|@sha256:[0-9a-f]{64})$", c.get("image", "")) or \
            c["image"].endswith(":latest"):
        fail(f"{who}image {c.get('image')!r} needs an explicit tag or digest (not latest)")


def secret_key(docs, volumes, mounts, path, key, fail):
    """(Secret name, key) of the file at path, which must be a key of a Secret in the render."""
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
    return (sname, name)


def check(docs, where, binary=None):
    """Raises CheckError naming the first broken invariant of a rendered deployment."""
    def fail(msg):
        raise CheckError(f"{where}: {msg}")

    workloads = [d for d in docs if d["kind"] in ("Deployment", "StatefulSet", "DaemonSet")]
    redis = [w for w in workloads if redis_role(w)]
    bridges = [w for w in workloads if not redis_role(w)]
    if len(bridges) > 1 or bridges and bridges[0]["kind"] != "Deployment":
        fail(f"expected the bridge as one Deployment, found "
             f"{', '.join(w['kind'] + ' ' + w['metadata']['name'] for w in bridges)}")
    if not bridges and not redis:
        fail("the render has neither the bridge's Deployment nor a Redis StatefulSet")
    bridge = check_bridge(docs, bridges[0], fail, binary) if bridges else None
    if redis:
        check_redis(docs, redis, fail, bridge)
    elif bridge and bridge["redis"] is not None and bridge["redis"].get("sentinel"):
        fail("redis.sentinel is set but the render has no sentinels")

    # One workload behind each Service and each PodDisruptionBudget.
    for d in docs:
        if d["kind"] == "Service":
            selector = d["spec"].get("selector")
        elif d["kind"] == "PodDisruptionBudget":
            selector = d["spec"]["selector"].get("matchLabels")
        else:
            continue
        chosen = [w["metadata"]["name"] for w in workloads if selects(selector, labels_of(w))]
        if len(chosen) != 1:
            fail(f"{d['kind']} {d['metadata']['name']} selects the pods of "
                 f"{', '.join(chosen) or 'no workload'}: it must select exactly one")

    ns = [d["metadata"].get("namespace") for d in docs if d["kind"] not in CLUSTER_SCOPED]
    if len(set(ns)) > 1:
        fail(f"resources are spread over namespaces {sorted(set(map(str, ns)))}")


def check_bridge(docs, dep, fail, binary):
    """The bridge's Deployment and what it needs; returns what the Redis checks compare with."""
    spec = dep["spec"]
    pod = spec["template"]["spec"]
    pod_labels = spec["template"]["metadata"].get("labels") or {}
    if not selects(spec["selector"].get("matchLabels"), pod_labels):
        fail("Deployment selector does not select its pod template")

    containers = pod.get("containers") or []
    if len(containers) != 1:
        fail("expected one container in the pod")
    c = containers[0]
    check_image(c, fail)

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
    redis = config.get("redis")

    # One process on a spool, or several replicas sharing Redis (DESIGN.md §8).
    replicas = spec.get("replicas", 1)
    strategy = spec.get("strategy") or {}
    if redis is None:
        if replicas != 1:
            fail(f"Deployment replicas is {replicas}: must be 1 (one process per spool; several "
                 "replicas need a redis block in the config)")
        if strategy.get("type") != "Recreate":
            fail("Deployment strategy must be Recreate (the old pod must release the spool first)")
    else:
        if not isinstance(replicas, int) or replicas < 2:
            fail(f"Deployment replicas is {replicas}: replicas sharing Redis must be at least 2")
        if strategy.get("type") != "RollingUpdate":
            fail("Deployment strategy must be RollingUpdate with Redis (replicas replace one "
                 "another without downtime)")
        rolling = strategy.get("rollingUpdate") or {}
        if rolling.get("maxUnavailable") not in (0, "0%"):
            unavailable = rolling.get("maxUnavailable", "25% (default)")
            fail(f"rollingUpdate.maxUnavailable is {unavailable}: must be 0 (a new pod is ready "
                 "before an old one stops)")
        if rolling.get("maxSurge", "25%") in (0, "0%"):
            fail("rollingUpdate.maxSurge must be above 0 when maxUnavailable is 0")
        if not spreads_over_nodes(pod, pod_labels):
            fail("pod anti-affinity must spread the replicas over nodes (topologyKey "
                 "kubernetes.io/hostname, selecting the bridge's pods)")
        env = {e["name"]: e for e in c.get("env") or []}
        field = ((env.get("POD_NAME") or {}).get("valueFrom") or {}).get("fieldRef") or {}
        if field.get("fieldPath") != "metadata.name":
            fail("POD_NAME must come from the downward API (fieldRef metadata.name): each replica "
                 "names itself by it in Redis")

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

    check_hardening(pod, c, fail)

    spool_dir = (config.get("spool") or {}).get("dir")
    if redis is None:
        # The spool is a PersistentVolumeClaim in the render, mounted at spool.dir.
        if not spool_dir or spool_dir not in mounts:
            fail(f"spool.dir {spool_dir!r} must be set and mounted")
        claim = (volumes[mounts[spool_dir]["name"]].get("persistentVolumeClaim") or {}) \
            .get("claimName")
        pvcs = [d for d in docs if d["kind"] == "PersistentVolumeClaim"
                and d["metadata"]["name"] == claim]
        if not claim or not pvcs:
            fail(f"spool.dir {spool_dir} must be a PersistentVolumeClaim in the render")
        if "ReadWriteOnce" not in pvcs[0]["spec"].get("accessModes", []) and \
                "ReadWriteOncePod" not in pvcs[0]["spec"].get("accessModes", []):
            fail("the spool claim must be ReadWriteOnce(Pod)")
    else:
        # Everything accepted is in Redis: no spool, nothing on a replica's own disk.
        if spool_dir:
            fail("spool.dir is set beside redis (a configuration error): replicas keep "
                 "everything in Redis")
        for v in volumes.values():
            if v["name"] == "spool" or "persistentVolumeClaim" in v:
                fail(f"volume {v['name']} is a spool: replicas sharing Redis keep nothing on their "
                     "own disk")
        for d in docs:
            if d["kind"] == "PersistentVolumeClaim":
                fail(f"PersistentVolumeClaim {d['metadata']['name']} is in the render: replicas "
                     "sharing Redis need no spool claim")

    # Every secret is a key of a Secret mounted at its directory; none is written in the config.
    secret_files = {}
    for section in ("meta", "robofy"):
        for key, value in (config.get(section) or {}).items():
            if key.endswith("_file"):
                secret_files[f"{section}.{key}"] = value
    if len(secret_files) < 4:
        fail("app_secret, verify_token, access_token and api_key must all come from files")
    if redis is not None:
        if re.search(r"://[^/@]*:[^/@]*@", str(redis.get("url", ""))):
            fail("redis.url carries a password: use redis.password_file (a Secret)")
        sections = {"redis": redis}
        if redis.get("sentinel"):
            sections["redis.sentinel"] = redis["sentinel"]
        for section, values in sections.items():
            if "password" in values:
                fail(f"{section}.password is written in the ConfigMap: use password_file "
                     "(a Secret)")
            if "password_file" in values:
                secret_files[f"{section}.password_file"] = values["password_file"]
        if "redis.password_file" not in secret_files:
            fail("redis.password_file must be set: Redis requires a password (a Secret)")
    refs = {key: secret_key(docs, volumes, mounts, path, key, fail)
            for key, path in secret_files.items()}

    svcs = [d for d in docs if d["kind"] == "Service"
            and selects(d["spec"].get("selector"), pod_labels)]
    if len(svcs) != 1:
        fail("Service selector does not select the pod" if not svcs else
             "several Services select the bridge's pods")
    svc = svcs[0]
    svc_ports = {}
    for p in svc["spec"]["ports"]:
        target = p.get("targetPort", p["port"])
        svc_ports[p.get("name")] = svc_ports[p["port"]] = \
            ports.get(target) if isinstance(target, str) else target
    if webhook_port not in svc_ports.values():
        fail("the Service does not expose the webhook port")

    pdbs = [d for d in docs if d["kind"] == "PodDisruptionBudget"
            and selects(d["spec"]["selector"].get("matchLabels"), pod_labels)]
    if len(pdbs) != 1:
        fail("PodDisruptionBudget selector does not select the pod" if not pdbs else
             "several PodDisruptionBudgets select the bridge's pods")
    if redis is not None:
        budget = pdbs[0]["spec"]
        least = budget.get("minAvailable")
        if "maxUnavailable" in budget or not isinstance(least, int) or least < 2:
            fail(f"PodDisruptionBudget minAvailable is {least}: at least 2 replicas must keep "
                 "answering through node drains (minAvailable, not maxUnavailable)")
        if least >= replicas:
            fail(f"PodDisruptionBudget minAvailable {least} leaves no eviction to {replicas} "
                 "replicas: node drains would block")

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

    if binary:
        check_config(binary, config_text, c, secret_files, fail)
    return {"redis": redis, "secrets": refs}


# ---- Redis ----------------------------------------------------------------------------------------

def redis_conf(text):
    """The directives of a redis.conf or sentinel.conf: one word list per line."""
    out = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            out.append(shlex.split(line))
    return out


def directive_of(conf, *words):
    """The arguments of the last directive starting with these words (case-insensitive), or None."""
    n = len(words)
    found = [d[n:] for d in conf if [w.lower() for w in d[:n]] == list(words)]
    return found[-1] if found else None


def memory_bytes(text, redis_units=False):
    """Bytes in a Kubernetes quantity (512Mi, 1G) or a redis.conf size (400mb, 1gb, 100m)."""
    m = re.fullmatch(r"(\d+)([a-zA-Z]*)", str(text).strip())
    if not m:
        raise CheckError(f"cannot read the memory size {text!r}")
    units = ({"": 1, "k": 1000, "kb": 1024, "m": 10**6, "mb": 2**20, "g": 10**9, "gb": 2**30}
             if redis_units else
             {"": 1, "k": 1000, "M": 10**6, "G": 10**9, "Ki": 2**10, "Mi": 2**20, "Gi": 2**30})
    unit = m.group(2).lower() if redis_units else m.group(2)
    if unit not in units:
        raise CheckError(f"cannot read the memory size {text!r}")
    return int(m.group(1)) * units[unit]


def check_redis_pods(docs, w, role, fail):
    """One StatefulSet of Redis servers or sentinels. Returns its configuration's directives and
    the (Secret, key) pairs its start-up script reads."""
    name = w["metadata"]["name"]
    who = f"{name}: "
    if w["kind"] != "StatefulSet":
        fail(f"{who}Redis must run as a StatefulSet (its state on a PersistentVolumeClaim per pod)")
    spec = w["spec"]
    pod = spec["template"]["spec"]
    labels = labels_of(w)
    if not selects(spec["selector"].get("matchLabels"), labels):
        fail(f"{who}the StatefulSet's selector does not select its pod template")
    services = [d for d in docs if d["kind"] == "Service" and
                d["metadata"]["name"] == spec.get("serviceName")]
    if not services or not selects(services[0]["spec"].get("selector"), labels):
        fail(f"{who}serviceName {spec.get('serviceName')} must be a Service of these pods")
    main = next(c for c in pod.get("containers") or []
                if redis_role({"kind": "Pod", "spec": {"containers": [c]}}))
    for c in (pod.get("containers") or []) + (pod.get("initContainers") or []):
        check_image(c, fail, f"{who}{c['name']}: ")
        check_hardening(pod, c, fail, f"{who}{c['name']}: ")

    # The configuration: the ConfigMap's file, completed at start by an init container's script.
    volumes = {v["name"]: v for v in pod.get("volumes") or []}
    config_key = "redis.conf" if role == "server" else "sentinel.conf"
    files = {}  # path in the pod -> text, for every key of every ConfigMap mounted
    secret_dirs = {}  # mount path -> Secret name
    for c in (pod.get("containers") or []) + (pod.get("initContainers") or []):
        for m in c.get("volumeMounts") or []:
            v = volumes.get(m["name"]) or {}
            if "configMap" in v:
                cms = [d for d in docs if d["kind"] == "ConfigMap" and
                       d["metadata"]["name"] == v["configMap"].get("name")]
                for key, text in ((cms[0].get("data") or {}) if cms else {}).items():
                    files[os.path.join(m["mountPath"], key)] = text
            if "secret" in v:
                secret_dirs[m["mountPath"]] = v["secret"].get("secretName")
    conf_paths = [p for p in files if os.path.basename(p) == config_key]
    if not conf_paths:
        fail(f"{who}no ConfigMap with {config_key} is mounted")
    conf = redis_conf(files[conf_paths[0]])
    scripts = []
    for c in pod.get("initContainers") or []:
        words = (c.get("command") or []) + (c.get("args") or [])
        scripts += [files[w] for w in words if w in files]
    script = "\n".join(scripts)
    runs = (main.get("command") or []) + (main.get("args") or [])
    if conf_paths[0] not in script or not any(p in script and p not in files for p in runs[1:]):
        fail(f"{who}{runs[0] if runs else 'redis'} must run the configuration an init container's "
             f"script writes from the ConfigMap's {config_key}")

    # Passwords come from a Secret at start, never from the ConfigMap.
    for words in (("requirepass",), ("masterauth",), ("sentinel", "auth-pass"),
                  ("sentinel", "sentinel-pass")):
        if directive_of(conf, *words) is not None:
            fail(f"{who}{' '.join(words)} is written in the ConfigMap's {config_key}: it must "
                 "come from a Secret")
    reads = set()
    for directory, sname in secret_dirs.items():
        for key in re.findall(re.escape(directory) + r"/([A-Za-z0-9_.-]+)", script):
            secrets = [d for d in docs if d["kind"] == "Secret" and d["metadata"]["name"] == sname]
            if not secrets:
                fail(f"{who}Secret {sname} is not in the render")
            data = dict(secrets[0].get("data") or {}, **(secrets[0].get("stringData") or {}))
            if key not in data:
                fail(f"{who}Secret {sname} has no key {key}")
            reads.add((sname, key))
    needed = ("requirepass",) if role == "server" else ("requirepass", "auth-pass")
    if not reads or not all(word in script for word in needed):
        fail(f"{who}{' and '.join(needed)} must be written at start from a mounted Secret (an init "
             "container's script)")

    # Its state on a PersistentVolumeClaim per pod.
    data_dir = (directive_of(conf, "dir") or [None])[0]
    mount = {m["mountPath"]: m["name"] for m in main.get("volumeMounts") or []}.get(data_dir)
    claims = {t["metadata"]["name"] for t in spec.get("volumeClaimTemplates") or []}
    if not data_dir or mount not in claims:
        fail(f"{who}{config_key}'s dir {data_dir} must be a PersistentVolumeClaim "
             "(volumeClaimTemplates)")

    if role == "server":
        want = {"appendonly": ("yes", "a 200 to Meta must survive a Redis restart"),
                "appendfsync": ("always", "a Redis crash must not lose what it acknowledged"),
                "maxmemory-policy": ("noeviction", "an eviction would silently delete queued "
                                     "messages and remembered wamids")}
        for key, (value, why) in want.items():
            got = (directive_of(conf, key) or ["(unset)"])[0]
            if got.lower() != value:
                fail(f"{who}redis.conf {key} is {got}: must be {value} ({why})")
        limit = ((main.get("resources") or {}).get("limits") or {}).get("memory")
        maxmemory = (directive_of(conf, "maxmemory") or [None])[0]
        if not maxmemory or memory_bytes(maxmemory, redis_units=True) >= memory_bytes(limit):
            fail(f"{who}redis.conf maxmemory ({maxmemory}) must be set below the memory limit "
                 f"({limit}): a full Redis refuses writes, an OOM-killed one stops")
    return {"conf": conf, "reads": reads, "name": name, "replicas": spec.get("replicas", 1),
            "labels": labels, "pod": pod}


def check_redis(docs, workloads, fail, bridge):
    """Redis servers (and sentinels), and the bridge's redis block when the bridge is here."""
    by_role = {"server": [], "sentinel": []}
    for w in workloads:
        by_role[redis_role(w)].append(check_redis_pods(docs, w, redis_role(w), fail))
    if len(by_role["server"]) != 1:
        fail(f"expected one StatefulSet of Redis servers, found {len(by_role['server'])}")
    if len(by_role["sentinel"]) > 1:
        fail(f"expected one StatefulSet of sentinels, found {len(by_role['sentinel'])}")
    server = by_role["server"][0]
    sentinel = by_role["sentinel"][0] if by_role["sentinel"] else None
    redis = bridge["redis"] if bridge else None
    if bridge and redis is None:
        fail("the render has Redis but the bridge's config has no redis block")

    if sentinel is None:
        if server["replicas"] != 1:
            fail(f"{server['name']}: {server['replicas']} Redis pods without sentinels: behind "
                 "one Service they would be separate databases")
    else:
        if sentinel["replicas"] != 3:
            fail(f"{sentinel['replicas']} sentinels: run 3 (a majority must agree on a failover, "
                 "and 3 survive the loss of one)")
        monitor = directive_of(sentinel["conf"], "sentinel", "monitor")
        if not monitor or len(monitor) != 4:
            fail(f"{sentinel['name']}: sentinel.conf lacks \"sentinel monitor NAME HOST PORT "
                 "QUORUM\"")
        if monitor[3] != "2":
            fail(f"{sentinel['name']}: sentinel monitor quorum is {monitor[3]}: must be 2, a "
                 "majority of the 3 sentinels")
        for option in ("resolve-hostnames", "announce-hostnames"):
            if (directive_of(sentinel["conf"], "sentinel", option) or ["no"])[0] != "yes":
                fail(f"{sentinel['name']}: sentinel {option} must be yes (pods are known by their "
                     "DNS names; their addresses change)")
        if server["replicas"] < 3:
            fail(f"{server['name']}: {server['replicas']} Redis pods: run a primary and two "
                 "replicas (with min-replicas-to-write 1, one replica may then be lost)")
        to_write = (directive_of(server["conf"], "min-replicas-to-write") or ["0"])[0]
        if int(to_write) < 1:
            fail(f"{server['name']}: redis.conf min-replicas-to-write is {to_write}: must be at "
                 "least 1 (a primary cut off from its replicas must refuse writes)")
        lag = (directive_of(server["conf"], "min-replicas-max-lag") or [None])[0]
        if lag is None or int(lag) <= 0:
            fail(f"{server['name']}: redis.conf min-replicas-max-lag must be set above 0")
        for pods in (server, sentinel):
            if not spreads_over_nodes(pods["pod"], pods["labels"]):
                fail(f"{pods['name']}: pod anti-affinity must keep the pods on different nodes "
                     "(topologyKey kubernetes.io/hostname): a node lost takes one of them")

    if not redis:
        return
    acks = redis.get("min_replica_acks", 0)
    if sentinel is None:
        if redis.get("sentinel"):
            fail("redis.sentinel is set but the render has no sentinels")
        host = re.sub(r"^rediss?://([^@/]*@)?", "", str(redis.get("url", ""))).split(":")[0] \
            .split("/")[0]
        services = [d for d in docs if d["kind"] == "Service" and d["metadata"]["name"] == host]
        if not services or not selects(services[0]["spec"].get("selector"), server["labels"]):
            fail(f"redis.url host {host} is not the Service of the Redis pods in the render")
        if acks:
            fail(f"redis.min_replica_acks is {acks} but this Redis has no replicas: every "
                 "acceptance would wait for one in vain")
    else:
        settings = redis.get("sentinel")
        if not settings:
            fail("the render has sentinels but the bridge's config has no redis.sentinel")
        if settings.get("master_name") != monitor[0]:
            fail(f"redis.sentinel.master_name {settings.get('master_name')} is not the name the "
                 f"sentinels monitor ({monitor[0]})")
        pods = {f"{sentinel['name']}-{i}" for i in range(sentinel["replicas"])}
        named = {str(a).split(".")[0] for a in settings.get("addresses") or []}
        if named != pods:
            fail(f"redis.sentinel.addresses must name the sentinel pods {sorted(pods)}")
        if not isinstance(acks, int) or acks < 1:
            fail(f"redis.min_replica_acks is {acks}: must be at least 1 with Sentinel (a 200 "
                 "waits until a replica has the message, which a failover then keeps)")
        if bridge["secrets"].get("redis.sentinel.password_file") not in sentinel["reads"]:
            fail("redis.sentinel.password_file is not a Secret key the sentinels take their "
                 "password from")
    if bridge["secrets"]["redis.password_file"] not in server["reads"]:
        fail("redis.password_file is not the Secret key Redis takes requirepass from")


def check_config(binary, config_text, container, secret_files, fail):
    """robofy-wa-bridge --check-config on the ConfigMap's file, with the container's env (a
    stand-in for values only the pod knows, such as the downward API's)."""
    with tempfile.TemporaryDirectory() as tmp:
        # Each path once, longest first: two keys may share a file, one path may prefix another.
        for path in sorted(set(secret_files.values()), key=len, reverse=True):
            local = os.path.join(tmp, "secrets", path.lstrip("/"))
            os.makedirs(os.path.dirname(local), exist_ok=True)
            with open(local, "w", encoding="utf-8") as f:
                f.write("test-secret\n")
            config_text = config_text.replace(path, local)
        cfg = os.path.join(tmp, "config.yaml")
        with open(cfg, "w", encoding="utf-8") as f:
            f.write(config_text)
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin")}
        env.update({e["name"]: str(e["value"]) if "value" in e else "set-in-the-pod"
                    for e in container.get("env") or []})
        out = subprocess.run([binary, "--config", cfg, "--check-config"], env=env,
                             capture_output=True, text=True, check=False)
        if out.returncode != 0:
            fail(f"robofy-wa-bridge --check-config refused the ConfigMap's config:\n"
                 f"{out.stdout}{out.stderr}")


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


def set_text(doc, key, old, new):
    """Replaces text in a ConfigMap's file (redis.conf, a script); the text must be there."""
    if old not in doc["data"][key]:
        raise CheckError(f"self-test: {old!r} is not in {key}")
    doc["data"][key] = doc["data"][key].replace(old, new, 1)


def pod_of(doc):
    return doc["spec"]["template"]["spec"]


def without_deletes(doc):
    """The component's Deployment patch keeping the base's spool volume and mount."""
    pod = pod_of(doc)
    pod["volumes"] = [v for v in pod["volumes"] if "$patch" not in v]
    c = container_of(doc)
    c["volumeMounts"] = [m for m in c["volumeMounts"] if "$patch" not in m]


def set_redis(fn):
    return lambda d: set_config(d, lambda c: fn(c["redis"]))


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

# Several replicas on Redis: components/replicas as overlays/replicas uses it.
REPLICAS = "components/replicas/"
REPLICAS_MUTATIONS = [
    ("one replica on Redis", REPLICAS + "deployment.yaml",
     lambda d: d["spec"].update(replicas=1), "at least 2"),
    ("Recreate on Redis", REPLICAS + "deployment.yaml",
     lambda d: d["spec"].update(strategy={"type": "Recreate"}), "RollingUpdate"),
    ("rolling update stopping a pod first", REPLICAS + "deployment.yaml",
     lambda d: d["spec"]["strategy"]["rollingUpdate"].update(maxUnavailable=1), "maxUnavailable"),
    ("maxUnavailable left to its default", REPLICAS + "deployment.yaml",
     lambda d: d["spec"]["strategy"]["rollingUpdate"].pop("maxUnavailable"), "maxUnavailable"),
    ("no surge with no unavailable pod", REPLICAS + "deployment.yaml",
     lambda d: d["spec"]["strategy"]["rollingUpdate"].update(maxSurge=0), "maxSurge"),
    ("no anti-affinity", REPLICAS + "deployment.yaml",
     lambda d: pod_of(d).pop("affinity"), "anti-affinity"),
    ("POD_NAME missing", REPLICAS + "deployment.yaml",
     lambda d: container_of(d).pop("env"), "POD_NAME"),
    ("POD_NAME from the node name", REPLICAS + "deployment.yaml",
     lambda d: container_of(d)["env"][0]["valueFrom"]["fieldRef"].update(fieldPath="spec.nodeName"),
     "POD_NAME"),
    ("spool volume kept", REPLICAS + "deployment.yaml", without_deletes, "volume spool is a spool"),
    ("spool claim kept", REPLICAS + "kustomization.yaml",
     lambda d: d["patches"].remove({"path": "no-spool-claim.yaml"}),
     "PersistentVolumeClaim robofy-wa-bridge-spool"),
    ("PDB minAvailable 1", REPLICAS + "pdb.yaml",
     lambda d: d["spec"].update(minAvailable=1), "minAvailable is 1"),
    ("PDB minAvailable equal to the replicas", REPLICAS + "pdb.yaml",
     lambda d: d["spec"].update(minAvailable=3), "leaves no eviction"),
    ("PDB keeping the base's maxUnavailable", REPLICAS + "pdb.yaml",
     lambda d: d["spec"].pop("maxUnavailable"), "not maxUnavailable"),
    ("spool.dir beside redis", REPLICAS + "configmap.yaml",
     lambda d: set_config(d, lambda c: c.update(spool={"dir": "/var/lib/robofy-wa-bridge"})),
     "spool.dir is set beside redis"),
    ("no redis block", REPLICAS + "configmap.yaml",
     lambda d: set_config(d, lambda c: c.pop("redis")), "need a redis block"),
    ("Redis password in the ConfigMap", REPLICAS + "configmap.yaml",
     set_redis(lambda r: (r.pop("password_file"), r.update(password="hunter2"))),
     "redis.password is written"),
    ("Redis password in the URL", REPLICAS + "configmap.yaml",
     set_redis(lambda r: r.update(url="redis://:hunter2@robofy-wa-bridge-redis:6379/0")),
     "carries a password"),
    ("Redis password file not in the Secret", REPLICAS + "configmap.yaml",
     set_redis(lambda r: r.update(password_file="/run/secrets/redis/pasword")),
     "has no key pasword"),
    ("bridge and Redis on different passwords", REPLICAS + "configmap.yaml",
     set_redis(lambda r: r.update(password_file="/run/secrets/robofy-wa-bridge/robofy_api_key")),
     "not the Secret key Redis takes requirepass from"),
    ("Redis URL naming no Service of the render", REPLICAS + "configmap.yaml",
     set_redis(lambda r: r.update(url="redis://redis-elsewhere:6379/0")), "is not the Service"),
    ("min_replica_acks on a Redis without replicas", REPLICAS + "configmap.yaml",
     set_redis(lambda r: r.update(min_replica_acks=1)), "in vain"),
]

REPLICAS_BINARY_MUTATIONS = [
    ("redis.lease below three timeouts", REPLICAS + "configmap.yaml",
     set_redis(lambda r: r.update(lease="5s")), "--check-config refused"),
]

# One Redis (redis/single).
SINGLE = "redis/single/"
REDIS_MUTATIONS = [
    ("appendfsync everysec", SINGLE + "configmap.yaml",
     lambda d: set_text(d, "redis.conf", "appendfsync always", "appendfsync everysec"),
     "appendfsync is everysec"),
    ("appendonly no", SINGLE + "configmap.yaml",
     lambda d: set_text(d, "redis.conf", "appendonly yes", "appendonly no"), "appendonly is no"),
    ("maxmemory-policy allkeys-lru", SINGLE + "configmap.yaml",
     lambda d: set_text(d, "redis.conf", "policy noeviction", "policy allkeys-lru"),
     "maxmemory-policy is allkeys-lru"),
    ("no maxmemory", SINGLE + "configmap.yaml",
     lambda d: set_text(d, "redis.conf", "maxmemory 400mb\n", ""), "maxmemory (None)"),
    ("maxmemory above the memory limit", SINGLE + "configmap.yaml",
     lambda d: set_text(d, "redis.conf", "maxmemory 400mb", "maxmemory 2gb"),
     "below the memory limit"),
    ("requirepass in the ConfigMap", SINGLE + "configmap.yaml",
     lambda d: set_text(d, "redis.conf", "port 6379\n", "port 6379\nrequirepass hunter2\n"),
     "requirepass is written in the ConfigMap"),
    ("no requirepass from the Secret", SINGLE + "configmap.yaml",
     lambda d: set_text(d, "configure.sh", "printf 'requirepass %s\\n' \"$password\"", "true"),
     "requirepass must be written at start"),
    ("Redis password missing from the Secret", SINGLE + "secret.yaml",
     lambda d: d["stringData"].pop("password"), "has no key password"),
    ("Redis data without a claim", SINGLE + "statefulset.yaml",
     lambda d: d["spec"].pop("volumeClaimTemplates"), "PersistentVolumeClaim"),
    ("redis-server running the ConfigMap's file", SINGLE + "statefulset.yaml",
     lambda d: container_of(d).update(command=["redis-server", "/etc/redis/redis.conf"]),
     "must run the configuration"),
    ("Redis as root", SINGLE + "statefulset.yaml",
     lambda d: pod_of(d)["securityContext"].pop("runAsNonRoot"), "runAsNonRoot"),
    ("init container escalating", SINGLE + "statefulset.yaml",
     lambda d: pod_of(d)["initContainers"][0]["securityContext"].pop("allowPrivilegeEscalation"),
     "configure: allowPrivilegeEscalation"),
    ("untagged Redis image", SINGLE + "statefulset.yaml",
     lambda d: container_of(d).update(image="redis"), "explicit tag"),
    ("two Redis pods without sentinels", SINGLE + "statefulset.yaml",
     lambda d: d["spec"].update(replicas=2), "without sentinels"),
]

# Redis with Sentinel (redis/sentinel), and the bridge configured for it.
SENTINEL = "redis/sentinel/"
BRIDGE_SENTINEL = "overlays/replicas-sentinel/redis-sentinel.yaml"
SENTINEL_MUTATIONS = [
    ("two sentinels", SENTINEL + "sentinel-statefulset.yaml",
     lambda d: d["spec"].update(replicas=2), "2 sentinels"),
    ("quorum 1", SENTINEL + "configmap.yaml",
     lambda d: set_text(d, "sentinel.conf", " 6379 2\n", " 6379 1\n"), "quorum is 1"),
    ("hostnames not resolved", SENTINEL + "configmap.yaml",
     lambda d: set_text(d, "sentinel.conf", "resolve-hostnames yes", "resolve-hostnames no"),
     "resolve-hostnames"),
    ("min-replicas-to-write 0", SENTINEL + "configmap.yaml",
     lambda d: set_text(d, "redis.conf", "min-replicas-to-write 1", "min-replicas-to-write 0"),
     "min-replicas-to-write is 0"),
    ("no min-replicas-max-lag", SENTINEL + "configmap.yaml",
     lambda d: set_text(d, "redis.conf", "min-replicas-max-lag 10\n", ""), "min-replicas-max-lag"),
    ("sentinel auth-pass in the ConfigMap", SENTINEL + "configmap.yaml",
     lambda d: set_text(d, "sentinel.conf", "parallel-syncs robofy-wa-bridge 1\n",
                        "parallel-syncs robofy-wa-bridge 1\n"
                        "sentinel auth-pass robofy-wa-bridge hunter2\n"),
     "sentinel auth-pass is written in the ConfigMap"),
    ("appendfsync everysec with Sentinel", SENTINEL + "configmap.yaml",
     lambda d: set_text(d, "redis.conf", "appendfsync always", "appendfsync everysec"),
     "appendfsync is everysec"),
    ("primary and one replica", SENTINEL + "redis-statefulset.yaml",
     lambda d: d["spec"].update(replicas=2), "a primary and two replicas"),
    ("Redis pods free to share a node", SENTINEL + "redis-statefulset.yaml",
     lambda d: pod_of(d).pop("affinity"), "anti-affinity"),
    ("sentinels free to share a node", SENTINEL + "sentinel-statefulset.yaml",
     lambda d: pod_of(d).pop("affinity"), "anti-affinity"),
    ("sentinel state without a claim", SENTINEL + "sentinel-statefulset.yaml",
     lambda d: d["spec"].pop("volumeClaimTemplates"), "PersistentVolumeClaim"),
    ("sentinel password missing from the Secret", SENTINEL + "secret.yaml",
     lambda d: d["stringData"].pop("sentinel_password"), "has no key sentinel_password"),
    ("PDB over Redis and sentinels", SENTINEL + "redis-pdb.yaml",
     lambda d: d["spec"]["selector"].update(
         matchLabels={"app.kubernetes.io/instance": "robofy-wa-bridge-redis"}),
     "selects the pods of"),
]

SENTINEL_BRIDGE_MUTATIONS = [
    ("min_replica_acks 0 with Sentinel", BRIDGE_SENTINEL,
     set_redis(lambda r: r.update(min_replica_acks=0)), "min_replica_acks is 0"),
    ("another master name", BRIDGE_SENTINEL,
     set_redis(lambda r: r["sentinel"].update(master_name="mymaster")), "master_name mymaster"),
    ("two of three sentinels", BRIDGE_SENTINEL,
     set_redis(lambda r: r["sentinel"]["addresses"].pop()), "must name the sentinel pods"),
    ("sentinels ignored by the bridge", BRIDGE_SENTINEL,
     set_redis(lambda r: r.pop("sentinel")), "no redis.sentinel"),
    ("sentinel password in the ConfigMap", BRIDGE_SENTINEL,
     set_redis(lambda r: (r["sentinel"].pop("password_file"), r["sentinel"].update(password="x"))),
     "redis.sentinel.password is written"),
]

SENTINEL_BINARY_MUTATIONS = [
    ("sentinel address the bridge refuses", BRIDGE_SENTINEL,
     set_redis(lambda r: r["sentinel"]["addresses"].__setitem__(
         0, "robofy-wa-bridge-redis-sentinel-0.robofy-wa-bridge-redis-sentinel:0")),
     "--check-config refused"),
]

TARGETS = ("base", "overlays/example", "overlays/replicas", "overlays/replicas-sentinel",
           "redis/single", "redis/sentinel")


def self_test(root, binary):
    failures = 0
    mutations = [m + ("base",) for m in MUTATIONS + (BINARY_MUTATIONS if binary else [])]
    mutations += [m + ("overlays/example",) for m in OVERLAY_MUTATIONS]
    mutations += [m + ("overlays/replicas",) for m in REPLICAS_MUTATIONS +
                  (REPLICAS_BINARY_MUTATIONS if binary else [])]
    mutations += [m + ("redis/single",) for m in REDIS_MUTATIONS]
    mutations += [m + ("redis/sentinel",) for m in SENTINEL_MUTATIONS]
    mutations += [m + ("overlays/replicas-sentinel",) for m in SENTINEL_BRIDGE_MUTATIONS +
                  (SENTINEL_BINARY_MUTATIONS if binary else [])]
    with tempfile.TemporaryDirectory() as tmp:
        pristine = os.path.join(tmp, "pristine")
        shutil.copytree(root, pristine)
        for target in TARGETS:
            try:
                check(render(os.path.join(pristine, target)), "pristine copy", binary)
            except CheckError as e:
                print(f"FAIL: the unmodified copy of {target} does not pass: {e}")
                return 1
        for i, (what, rel, fn, expect, target) in enumerate(mutations):
            copy_root = os.path.join(tmp, f"m{i}")
            shutil.copytree(root, copy_root)
            try:
                edit(copy_root, rel, fn)
            except (CheckError, KeyError, IndexError, ValueError) as e:
                print(f"FAIL: {what}: the mutation does not apply to {rel}: {e!r}")
                failures += 1
                continue
            try:
                check(render(os.path.join(copy_root, target)), what, binary)
                print(f"FAIL: {what}: the check passed")
                failures += 1
            except CheckError as e:
                # The message itself, not the mutation's name that check() puts in front of it.
                message = str(e)[len(what) + 2:] if str(e).startswith(what + ": ") else str(e)
                if expect not in message:
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
