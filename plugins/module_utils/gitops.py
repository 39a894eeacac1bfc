# Copyright (c) aphex.platform contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Argo CD configuration and the app of apps, rendered from the upstream lock (pure functions).

The playbook installs every layer from pinned upstream artifacts; afterwards Argo CD manages the same
manifests. These functions derive each Application's sources from the same lock entries the playbook
installed from (same repository, same commit or chart version, same files, same Helm values), so what
Argo CD renders is what the playbook applied. See roles/argocd/README.md, "Hand-off".
"""

from __future__ import annotations

import copy
import posixpath

from ansible_collections.aphex.platform.plugins.module_utils.k8s.common import MANAGED_BY

APPLICATION_API = "argoproj.io/v1alpha1"
IN_CLUSTER = "https://kubernetes.default.svc"
RAW_GITHUB = "https://raw.githubusercontent.com/"
MANIFEST_SUFFIXES = (".yaml", ".yml", ".json")
SYNC_WAVE = "argocd.argoproj.io/sync-wave"
CASCADE_FINALIZER = "resources-finalizer.argocd.argoproj.io"
TRACKING_METHOD = "annotation"
OIDC_SECRET_KEY = "clientSecret"
LABELS = {"app.kubernetes.io/part-of": "aphex-platform", **MANAGED_BY}
CONFIG_MAPS = ("argocd-cm", "argocd-rbac-cm", "argocd-cmd-params-cm")

# Argo CD >= 1.8 no longer assesses the health of Applications, so an app of apps would start wave N+1
# as soon as the Applications of wave N exist. This check (the one Argo CD's documentation gives for
# restoring it) reports a child Application's own health, so the parent waits until the child is Healthy.
APPLICATION_HEALTH_LUA = """\
hs = {}
hs.status = "Progressing"
hs.message = ""
if obj.status ~= nil then
  if obj.status.health ~= nil then
    hs.status = obj.status.health.status
    if obj.status.health.message ~= nil then
      hs.message = obj.status.health.message
    end
  end
end
return hs
"""
HEALTH_KEY = "resource.customizations.health.argoproj.io_Application"

# Applications in any namespace (Argo CD >= 2.5, "app-any-namespace" in Argo CD's operator manual): the
# application controller already has cluster-wide rights in install.yaml; argocd-server's ClusterRole there only
# reads Applications, and the notifications controller's Role is namespaced. These ClusterRoles complete them
# (the rules of Argo CD's examples/k8s-rbac/argocd-server-applications), so the API/UI can create, sync and
# delete, and notifications can follow, Applications outside Argo CD's namespace.
CLUSTER_APPS_FILE = "argocd-cluster-apps.yaml"
CLUSTER_APPS_RULES = {
    "argocd-server": [
        {"apiGroups": [""], "resources": ["events"], "verbs": ["create"]},
        {"apiGroups": ["argoproj.io"], "resources": ["applications"],
         "verbs": ["create", "delete", "update", "patch"]},
    ],
    "argocd-notifications-controller": [
        {"apiGroups": ["argoproj.io"], "resources": ["applications", "appprojects"],
         "verbs": ["get", "list", "watch", "update", "patch"]},
    ],
}


class GitOpsError(Exception):
    """Settings or lock entries from which no faithful Application can be rendered."""


def _bool(value, default: bool) -> bool:
    """A setting's truth value; strings as Ansible reads them (templated values can arrive as text)."""
    if value is None:
        return default
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes", "on", "y", "t")
    return bool(value)


# ---------------------------------------------------------------------------------------------------------
# Sources from lock entries
# ---------------------------------------------------------------------------------------------------------
def split_raw_github(url: str) -> tuple:
    """(repository URL, ref, path) of a raw.githubusercontent.com URL."""
    if not url or not url.startswith(RAW_GITHUB):
        raise GitOpsError(f"{url!r} is not a raw.githubusercontent.com URL")
    parts = url[len(RAW_GITHUB):].split("/")
    if len(parts) < 4 or not all(parts[:3]):
        raise GitOpsError(f"{url!r} has no owner/repository/ref/path")
    owner, repo, ref = parts[:3]
    return f"https://github.com/{owner}/{repo}.git", ref, "/".join(parts[3:])


def _git_files_source(entry: dict) -> dict:
    """Repository, commit and directory of a component fetched file by file from git, with its files."""
    root = entry.get("mirror_path") or ""
    repos, refs, bases, rels = set(), set(), set(), []
    for item in entry.get("files") or []:
        path, url = item.get("path") or "", item.get("url")
        if not url:
            raise GitOpsError(f"{entry.get('name')}: file {path} has no git URL in the lock")
        if not path.startswith(root.rstrip("/") + "/"):
            raise GitOpsError(f"{entry.get('name')}: file {path} is outside {root}")
        rel = path[len(root.rstrip('/')) + 1:]
        repo, ref, upstream_path = split_raw_github(url)
        if not upstream_path.endswith("/" + rel) and upstream_path != rel:
            raise GitOpsError(f"{entry.get('name')}: {url} does not end with {rel}")
        repos.add(repo)
        refs.add(ref)
        bases.add(upstream_path[: len(upstream_path) - len(rel)].rstrip("/"))
        rels.append(rel)
    if len(repos) != 1 or len(refs) != 1 or len(bases) != 1:
        raise GitOpsError(f"{entry.get('name')}: its files do not come from one directory of one commit "
                          f"({sorted(repos)}, {sorted(refs)}, {sorted(bases)})")
    return {"repoURL": repos.pop(), "targetRevision": refs.pop(), "path": bases.pop() or ".", "files": sorted(rels)}


def upstream_source(entry: dict, release_name: str | None = None, values: dict | None = None,
                    render: str | None = None) -> dict:
    """The Argo CD source that renders exactly what the playbook installed from this lock entry.

    - Helm charts: the chart's Helm repository at the pinned version, with the release name and values the
      playbook used (``valuesObject``).
    - A single file from a release (``fetch.method: url`` on raw.githubusercontent.com): the repository at
      that tag, the file's directory, ``directory.include`` of just that file.
    - A directory fetched file by file (``git_files``): the repository at the pinned commit, that directory,
      and ``directory.include`` listing exactly the pinned files (nothing else the directory may hold), or,
      with ``render: kustomize`` (a directory with a kustomization.yaml, applied like ``kubectl apply -k``),
      the kustomization itself.
    """
    name = entry.get("name", "?")
    helm = entry.get("helm")
    if helm:
        source = {"repoURL": helm["repo"], "chart": helm["chart"], "targetRevision": str(helm["version"]),
                  "helm": {"releaseName": release_name or helm["chart"]}}
        if values:
            source["helm"]["valuesObject"] = copy.deepcopy(values)
        return source
    if values:
        raise GitOpsError(f"{name}: Helm values given for a component that is not a Helm chart")
    fetch = entry.get("fetch") or {}
    method = fetch.get("method")
    if method == "url":
        repo, ref, path = split_raw_github(fetch.get("url") or entry.get("official_url"))
        return {"repoURL": repo, "targetRevision": ref, "path": posixpath.dirname(path) or ".",
                "directory": {"include": posixpath.basename(path)}}
    if method == "git_files":
        found = _git_files_source(entry)
        manifests = [rel for rel in found["files"] if rel.endswith(MANIFEST_SUFFIXES)]
        has_kustomization = "kustomization.yaml" in found["files"]
        mode = render or ("kustomize" if has_kustomization else "directory")
        source = {"repoURL": found["repoURL"], "targetRevision": found["targetRevision"], "path": found["path"]}
        if mode == "kustomize":
            if not has_kustomization:
                raise GitOpsError(f"{name}: render kustomize needs a kustomization.yaml in {found['path']}")
            return source
        if mode != "directory":
            raise GitOpsError(f"{name}: unknown render {mode!r} (directory or kustomize)")
        manifests = [rel for rel in manifests if posixpath.basename(rel) != "kustomization.yaml"]
        # recurse only when true: Argo CD's controller drops a false recurse (its zero value) when it writes an
        # Application back, so a written `recurse: false` would read back changed on every run.
        source["directory"] = {"include": manifests[0] if len(manifests) == 1 else "{" + ",".join(manifests) + "}"}
        if any("/" in rel for rel in manifests):
            source["directory"]["recurse"] = True
        return source
    raise GitOpsError(f"{name}: fetch method {method!r} has no git or Helm source Argo CD could use")


def source_repos(sources: list) -> list:
    return sorted({s["repoURL"] for s in sources})


# ---------------------------------------------------------------------------------------------------------
# Configuration (argocd-cm, argocd-rbac-cm, argocd-cmd-params-cm)
# ---------------------------------------------------------------------------------------------------------
def _yaml_block(data: dict) -> str:
    import yaml  # PyYAML ships with ansible-core

    return yaml.safe_dump(data, default_flow_style=False, sort_keys=False)


def to_yaml(obj) -> str:
    """YAML for a Git repository: keys in the given order, multi-line strings as literal blocks."""
    import yaml  # PyYAML ships with ansible-core

    class Dumper(yaml.SafeDumper):
        pass

    def represent_str(dumper, value):
        if "\n" in value:
            return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|")
        return dumper.represent_scalar("tag:yaml.org,2002:str", value)

    Dumper.add_representer(str, represent_str)
    return yaml.dump(obj, Dumper=Dumper, default_flow_style=False, sort_keys=False, width=120)


def config_patches(settings: dict) -> list:
    """The three ConfigMaps' data, as patches (merged into install.yaml's ConfigMaps of the same name).

    ``settings``: host, server_insecure, oidc{issuer, client_id, client_secret_name, client_secret_key,
    requested_scopes, groups_claim, name, root_ca}, rbac{policy (lines), default_policy}, admin_enabled, cm_extra,
    rbac_extra, cmd_params_extra, namespace, application_namespaces.
    """
    namespace = settings.get("namespace") or "argocd"
    oidc = settings.get("oidc") or {}
    rbac = settings.get("rbac") or {}
    cm = {
        "application.resourceTrackingMethod": TRACKING_METHOD,
        HEALTH_KEY: APPLICATION_HEALTH_LUA,
        "admin.enabled": "true" if _bool(settings.get("admin_enabled"), True) else "false",
        "users.anonymous.enabled": "false",
    }
    if settings.get("host"):
        cm["url"] = f"https://{settings['host']}"
    if oidc.get("issuer"):
        if not settings.get("host"):
            raise GitOpsError("OIDC needs the Argo CD host name (argocd_host): it is the redirect URL's host")
        if not oidc.get("client_id") or not oidc.get("client_secret_name"):
            raise GitOpsError("OIDC needs a client id and the Secret (in Argo CD's namespace, labelled "
                              "app.kubernetes.io/part-of=argocd) that holds the client secret")
        groups_claim = oidc.get("groups_claim") or "groups"
        config = {
            "name": oidc.get("name") or "SSO",
            "issuer": oidc["issuer"],
            "clientID": oidc["client_id"],
            # $<secret>:<key> makes Argo CD read the value from a Secret labelled part-of=argocd.
            "clientSecret": f"${oidc['client_secret_name']}:{oidc.get('client_secret_key') or OIDC_SECRET_KEY}",
            "requestedScopes": list(oidc.get("requested_scopes") or ["openid", "profile", "email", "groups"]),
            "requestedIDTokenClaims": {groups_claim: {"essential": True}},
        }
        if oidc.get("root_ca"):
            config["rootCA"] = oidc["root_ca"]
        cm["oidc.config"] = _yaml_block(config)
    cm.update({str(k): str(v) for k, v in (settings.get("cm_extra") or {}).items()})

    groups_claim = oidc.get("groups_claim") or "groups"
    policy = rbac.get("policy") or []
    if isinstance(policy, str):
        policy = policy.splitlines()
    rbac_data = {
        "policy.csv": "".join(line.strip() + "\n" for line in policy if line.strip()),
        "policy.default": rbac.get("default_policy") or "",
        "policy.matchMode": "glob",
        # The OIDC claim(s) whose values are matched against the groups of policy.csv's "g" lines.
        "scopes": f"[{groups_claim}]",
    }
    rbac_data.update({str(k): str(v) for k, v in (settings.get("rbac_extra") or {}).items()})

    params = {
        # TLS ends at the ingress; argocd-server serves plain HTTP behind it.
        "server.insecure": "true" if _bool(settings.get("server_insecure"), True) else "false",
        # Diff through a server-side apply dry run: fields other managers own (the playbook's field manager
        # for values Argo CD also renders, injected caBundles, defaults) are not reported as drift.
        "controller.diff.server.side": "true",
    }
    app_namespaces = application_namespaces(settings)
    if app_namespaces:
        # Where Argo CD also reconciles Applications; each must still use an AppProject whose sourceNamespaces
        # admits its namespace (the platform's own project admits none, so only Argo CD's namespace).
        params["application.namespaces"] = ", ".join(app_namespaces)
    params.update({str(k): str(v) for k, v in (settings.get("cmd_params_extra") or {}).items()})

    patches = []
    for name, data in zip(CONFIG_MAPS, (cm, rbac_data, params)):
        patches.append({"apiVersion": "v1", "kind": "ConfigMap",
                        "metadata": {"name": name, "namespace": namespace}, "data": data})
    return patches


def application_namespaces(settings: dict) -> list:
    """The namespaces (names, globs such as ``team-*``, or ``/regex/``) Argo CD takes Applications from besides its
    own: a list, or one comma-separated string; empty entries dropped, order kept, duplicates removed."""
    value = settings.get("application_namespaces") or []
    if isinstance(value, str):
        value = value.split(",")
    result = []
    for item in value:
        item = str(item).strip()
        if item and item not in result:
            result.append(item)
    return result


def cluster_apps_rbac(namespace: str) -> list:
    """ClusterRoles and ClusterRoleBindings argocd-server and the notifications controller need for Applications
    outside ``namespace`` (Argo CD's namespace, where their ServiceAccounts are)."""
    objects = []
    for account, rules in CLUSTER_APPS_RULES.items():
        name = f"{account}-cluster-apps"
        labels = {"app.kubernetes.io/name": name, "app.kubernetes.io/part-of": "argocd", **MANAGED_BY}
        objects.append({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
                        "metadata": {"name": name, "labels": dict(labels)}, "rules": copy.deepcopy(rules)})
        objects.append({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
                        "metadata": {"name": name, "labels": dict(labels)},
                        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": name},
                        "subjects": [{"kind": "ServiceAccount", "name": account, "namespace": namespace}]})
    return objects


# ---------------------------------------------------------------------------------------------------------
# Applications
# ---------------------------------------------------------------------------------------------------------
def _sync_policy(settings: dict, layer: dict) -> dict:
    policy = {}
    if _bool(layer.get("automated", settings.get("automated")), True):
        policy["automated"] = {"prune": _bool(layer.get("prune", settings.get("prune")), True),
                               "selfHeal": _bool(settings.get("self_heal"), True)}
    options = layer.get("sync_options")
    if options is None:
        options = ["CreateNamespace=true", "ServerSideApply=true"]
    if options:
        policy["syncOptions"] = list(options)
    limit = settings.get("retry_limit", 5)
    if limit:
        policy["retry"] = {"limit": int(limit),
                           "backoff": {"duration": "5s", "factor": 2, "maxDuration": "3m"}}
    return policy


def _metadata(settings: dict, name: str, wave=None, layer: str | None = None) -> dict:
    meta = {"name": name, "namespace": settings.get("namespace") or "argocd", "labels": dict(LABELS)}
    if layer:
        meta["labels"]["platform.aphex/layer"] = layer
    if wave is not None:
        meta["annotations"] = {SYNC_WAVE: str(wave)}
    if _bool(settings.get("cascade_delete"), False):
        meta["finalizers"] = [CASCADE_FINALIZER]
    return meta


def gitops_source(settings: dict, path: str, directory: dict | None = None) -> dict:
    source = {"repoURL": settings["repo_url"], "targetRevision": settings.get("revision") or "HEAD",
              "path": posixpath.join(settings.get("path") or ".", path)}
    if directory:
        source["directory"] = directory
    return source


def layer_sources(settings: dict, layer: dict, lock: dict) -> list:
    """The layer's sources: one per upstream component, then its platform manifests (layers/<name>/).

    A component marked ``exported`` has no upstream source: the layer's role writes the objects it applied (after
    its own transformations, e.g. resolved images and merged settings) below layers/<name>/ (sub-directories
    included), so Argo CD syncs exactly those. Needs ``platform_manifests``; that source then recurses.
    """
    sources = []
    exported = []
    helm_values = settings.get("helm_values") or {}
    for item in layer.get("upstream") or []:
        component = item["component"]
        if _bool(item.get("exported"), False):
            given = sorted(key for key in ("release_name", "values", "render") if item.get(key) is not None)
            if given:
                raise GitOpsError(f"layer {layer['name']}: component {component} is exported by the layer's role; "
                                  f"{', '.join(given)} would not be used (the exported files are what was applied)")
            exported.append(component)
            continue
        if component not in lock:
            raise GitOpsError(f"layer {layer['name']}: component {component} is not in the upstream lock")
        values = item.get("values")
        if values is None:
            values = helm_values.get(component)
        sources.append(upstream_source(lock[component], release_name=item.get("release_name"), values=values,
                                       render=item.get("render")))
    if exported and not _bool(layer.get("platform_manifests"), False):
        raise GitOpsError(f"layer {layer['name']}: components {', '.join(exported)} are exported into "
                          f"layers/{layer['name']}/ by the layer's role, which needs platform_manifests: true")
    if _bool(layer.get("platform_manifests"), False):
        # recurse only when true (see upstream_source): the exported components are in sub-directories.
        sources.append(gitops_source(settings, f"layers/{layer['name']}", {"recurse": True} if exported else None))
    if not sources:
        raise GitOpsError(f"layer {layer['name']}: no upstream components and no platform manifests")
    return sources


def application(settings: dict, layer: dict, lock: dict) -> dict:
    sources = layer_sources(settings, layer, lock)
    spec = {
        "project": settings.get("project") or "platform",
        "destination": {"server": settings.get("destination_server") or IN_CLUSTER,
                        "namespace": layer["namespace"]},
        "syncPolicy": _sync_policy(settings, layer),
    }
    if len(sources) == 1:
        spec["source"] = sources[0]
    else:
        spec["sources"] = sources
    if layer.get("ignore_differences"):
        spec["ignoreDifferences"] = copy.deepcopy(layer["ignore_differences"])
    prefix = settings.get("prefix", "platform-")
    return {"apiVersion": APPLICATION_API, "kind": "Application",
            "metadata": _metadata(settings, f"{prefix}{layer['name']}", layer.get("wave", 0), layer["name"]),
            "spec": spec}


def root_application(settings: dict) -> dict:
    prefix = settings.get("prefix", "platform-")
    return {"apiVersion": APPLICATION_API, "kind": "Application",
            "metadata": _metadata(settings, f"{prefix}root"),
            "spec": {"project": settings.get("project") or "platform",
                     "destination": {"server": settings.get("destination_server") or IN_CLUSTER,
                                     "namespace": settings.get("namespace") or "argocd"},
                     # Not recursive (Argo CD's default; a written `recurse: false` is dropped by its controller).
                     "source": gitops_source(settings, "apps"),
                     "syncPolicy": _sync_policy(settings, {"sync_options": ["ServerSideApply=true"]})}}


def app_project(settings: dict, repos: list) -> dict:
    meta = _metadata(settings, settings.get("project") or "platform", wave=-1)
    meta.pop("finalizers", None)
    return {"apiVersion": APPLICATION_API, "kind": "AppProject", "metadata": meta,
            "spec": {"description": "The aphex platform's layers, installed by the bootstrap playbook",
                     "sourceRepos": repos,
                     "destinations": [{"server": settings.get("destination_server") or IN_CLUSTER,
                                       "namespace": "*"}],
                     "clusterResourceWhitelist": [{"group": "*", "kind": "*"}],
                     "namespaceResourceWhitelist": [{"group": "*", "kind": "*"}]}}


def validate_layers(layers: list) -> None:
    seen = set()
    for index, layer in enumerate(layers or []):
        for key in ("name", "namespace"):
            if not layer.get(key):
                raise GitOpsError(f"layers[{index}] needs {key}")
        if layer["name"] in seen:
            raise GitOpsError(f"layer {layer['name']} is listed twice")
        seen.add(layer["name"])
        if not isinstance(layer.get("wave", 0), int):
            raise GitOpsError(f"layer {layer['name']}: wave must be an integer")
    waves = [layer.get("wave", 0) for layer in layers or []]
    if waves != sorted(waves):
        raise GitOpsError("layers must be listed in bootstrap order with non-decreasing waves "
                          f"(got {[(layer['name'], layer.get('wave', 0)) for layer in layers]})")


ARGOCD_IMAGE = "quay.io/argoproj/argocd"


def image_override(image: str, upstream: str = ARGOCD_IMAGE, field: str = "argocd_image") -> list:
    """kustomize ``images`` entries that run ``image`` (``repo:tag`` or ``repo@sha256:...``) instead of the
    image ``upstream`` (by default the Argo CD image install.yaml names); empty for no override."""
    if not image:
        return []
    entry = {"name": upstream}
    name, digest = image.split("@", 1) if "@" in image else (image, "")
    tag = ""
    if ":" in name.rsplit("/", 1)[-1]:
        name, tag = name.rsplit(":", 1)
    if not name or not (tag or digest):
        raise GitOpsError(f"{field}: {image!r} needs a tag or a digest (repository:tag or repository@sha256:...)")
    if name != upstream:
        entry["newName"] = name
    if digest:
        entry["digest"] = digest
    else:
        entry["newTag"] = tag
    return [entry]


REPO_SERVER = "argocd-repo-server"
GIT_CONFIG_NAME = "argocd-repo-server-gitconfig"
GIT_CONFIG_FILE = f"{GIT_CONFIG_NAME}.yaml"
GIT_CONFIG_PATCH_FILE = f"{REPO_SERVER}-gitconfig-patch.yaml"
GIT_CONFIG_DIR = "/etc/aphex/git"


def repo_server_git_config(text: str) -> tuple:
    """(ConfigMap, strategic merge patch of argocd-repo-server) that give the repo-server's git a system config
    (e.g. ``url.<mirror>.insteadOf``). Argo CD runs git with HOME=/dev/null, so only the system level is read;
    GIT_CONFIG_SYSTEM points git at the mounted file (a directory mount: kubelet updates it when it changes)."""
    config_map = {"apiVersion": "v1", "kind": "ConfigMap",
                  "metadata": {"name": GIT_CONFIG_NAME,
                               "labels": {"app.kubernetes.io/name": GIT_CONFIG_NAME, "app.kubernetes.io/part-of": "argocd",
                                          **MANAGED_BY}},
                  "data": {"gitconfig": text if text.endswith("\n") else text + "\n"}}
    patch = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": REPO_SERVER},
             "spec": {"template": {"spec": {
                 "containers": [{"name": REPO_SERVER,
                                 "env": [{"name": "GIT_CONFIG_SYSTEM", "value": f"{GIT_CONFIG_DIR}/gitconfig"}],
                                 "volumeMounts": [{"name": "aphex-gitconfig", "mountPath": GIT_CONFIG_DIR,
                                                   "readOnly": True}]}],
                 "volumes": [{"name": "aphex-gitconfig", "configMap": {"name": GIT_CONFIG_NAME}}]}}}}
    return config_map, patch


# Argo CD's bundled Dex (argocd-dex-server): the platform's SSO is Argo CD's own OIDC client against the platform's
# Dex (role platform_auth), so the bundled one would only run an unused server with its own ServiceAccount and RBAC.
# install.yaml's objects of it, removed by kustomize delete patches (also after the hand-off: Argo CD renders the
# same kustomization).
BUNDLED_DEX = (("v1", "ServiceAccount", "argocd-dex-server"),
               ("rbac.authorization.k8s.io/v1", "Role", "argocd-dex-server"),
               ("rbac.authorization.k8s.io/v1", "RoleBinding", "argocd-dex-server"),
               ("v1", "Service", "argocd-dex-server"),
               ("apps/v1", "Deployment", "argocd-dex-server"),
               ("networking.k8s.io/v1", "NetworkPolicy", "argocd-dex-server-network-policy"))


def bundled_dex_objects(namespace: str) -> list:
    """The bundled Dex's objects (apiVersion, kind, name, namespace only), as the playbook deletes them."""
    return [{"apiVersion": api_version, "kind": kind, "metadata": {"name": name, "namespace": namespace}}
            for api_version, kind, name in BUNDLED_DEX]


def kustomization(install: str, namespace: str, extra_resources: tuple = (), image: str = "",
                  git_config: bool = False, bundled_dex: bool = True) -> dict:
    """Argo CD's install.yaml placed in its namespace, with the platform's ConfigMap data as patches.

    The playbook applies this kustomization with ``install`` = the local, checksum-verified copy; the GitOps
    repository's layers/argocd holds the same one with ``install`` = the pinned URL of the same bytes. Both are
    rendered by kustomize, so Argo CD renders exactly what the playbook applied (kustomize also sets the
    namespace of the ServiceAccount subjects of install.yaml's RoleBindings, which a plain apply -n does not).
    """
    result = {"apiVersion": "kustomize.config.k8s.io/v1beta1", "kind": "Kustomization", "namespace": namespace,
              "resources": [install, *extra_resources, *((GIT_CONFIG_FILE,) if git_config else ())],
              "patches": [{"path": f"{name}.yaml"} for name in CONFIG_MAPS]}
    if git_config:
        result["patches"].append({"path": GIT_CONFIG_PATCH_FILE})
    if not bundled_dex:
        result["patches"].extend(
            {"patch": to_yaml({"$patch": "delete", "apiVersion": api_version, "kind": kind, "metadata": {"name": name}})}
            for api_version, kind, name in BUNDLED_DEX)
    if image:
        result["images"] = image if isinstance(image, list) else image_override(image)
    return result


def kustomization_files(patches: list, install: str, namespace: str, cluster_apps: bool = False,
                        image: str = "", git_config: str = "", bundled_dex: bool = True) -> dict:
    """File name -> YAML text of the kustomization and its three patches (and, with ``cluster_apps``, the RBAC
    for Applications in other namespaces; with ``git_config``, the repo-server's system git config; without
    ``bundled_dex``, inline patches that delete Argo CD's bundled Dex)."""
    extra = (CLUSTER_APPS_FILE,) if cluster_apps else ()
    files = {"kustomization.yaml": to_yaml(kustomization(install, namespace, extra, image, bool(git_config),
                                                         bundled_dex))}
    if cluster_apps:
        files[CLUSTER_APPS_FILE] = "---\n".join(to_yaml(obj) for obj in cluster_apps_rbac(namespace))
    if git_config:
        config_map, patch = repo_server_git_config(git_config)
        files[GIT_CONFIG_FILE] = to_yaml(config_map)
        files[GIT_CONFIG_PATCH_FILE] = to_yaml(patch)
    for patch in patches:
        # Without a namespace: the kustomization's namespace places it, and the patch matches by name.
        unplaced = copy.deepcopy(patch)
        unplaced["metadata"].pop("namespace", None)
        files[f"{patch['metadata']['name']}.yaml"] = to_yaml(unplaced)
    return files


def render(settings: dict, lock_entries: list) -> dict:
    """Everything the argocd role applies and exports, from the role's settings and the lock entries.

    With ``applications: false`` only the configuration is rendered (Argo CD without the hand-off).
    """
    patches = config_patches(settings)
    namespace = settings.get("namespace") or "argocd"
    cluster_apps = bool(application_namespaces(settings))
    # The Argo CD image, then the other images of install.yaml by upstream name (e.g. its bundled Dex).
    image = image_override(settings.get("image") or "") + [
        entry for upstream, ref in sorted((settings.get("image_overrides") or {}).items())
        for entry in image_override(ref, upstream, f"argocd_image_overrides[{upstream}]")]
    git_config = settings.get("repo_server_git_config") or ""
    bundled_dex = _bool(settings.get("bundled_dex"), True)
    result = {"config_patches": patches,
              "install_files": kustomization_files(patches, "install.yaml", namespace, cluster_apps, image, git_config,
                                                   bundled_dex),
              "bundled_dex_objects": [] if bundled_dex else bundled_dex_objects(namespace),
              "project": None, "root": None, "applications": [], "objects": [], "export": {}, "export_text": {},
              "application_names": [], "sync_checks": []}
    if not _bool(settings.get("applications"), True):
        return result
    if not settings.get("repo_url"):
        raise GitOpsError("argocd_gitops_repo_url is empty: the app of apps and the platform's own manifests "
                          "need the Git repository Argo CD reads them from")
    lock = {entry["name"]: entry for entry in lock_entries or []}
    layers = settings.get("layers") or []
    validate_layers(layers)
    apps = [application(settings, layer, lock) for layer in layers]
    root = root_application(settings)
    all_sources = [root["spec"]["source"]]
    for app in apps:
        all_sources.extend(app["spec"].get("sources") or [app["spec"]["source"]])
    project = app_project(settings, source_repos(all_sources))
    install = lock.get("argocd-install")
    install_url = ((install or {}).get("fetch") or {}).get("url") or (install or {}).get("official_url")
    # The root Application lives beside apps/, not in it: an Application that syncs itself never settles (its
    # controller's operation-state writes and its own sync overwrite each other: OutOfSync, sync, OutOfSync, ...,
    # seen on kind). The playbook applies it; it syncs apps/ (the AppProject and the layer Applications).
    export = {"apps/00-appproject.yaml": project, "root.yaml": root}
    for app in apps:
        export[f"apps/{app['metadata']['name']}.yaml"] = app
    export_text = {path: to_yaml(obj) for path, obj in export.items()}
    if not install_url:
        raise GitOpsError("the lock has no URL for argocd-install; layers/argocd cannot name the install.yaml")
    for name, text in kustomization_files(patches, install_url, namespace, cluster_apps, image, git_config,
                                          bundled_dex).items():
        export_text[f"layers/argocd/{name}"] = text
    names = [root["metadata"]["name"]] + [a["metadata"]["name"] for a in apps]
    result.update(project=project, root=root, applications=apps, objects=[project, root] + apps, export=export,
                  export_text=export_text,
                  application_names=names, sync_checks=sync_checks(names, namespace))
    return result


def sync_checks(names: list, namespace: str) -> list:
    """aphex.platform.readiness_gate ``resources`` entries: every Application Synced, then Healthy."""
    return [{"api_version": APPLICATION_API, "kind": "Application", "namespace": namespace, "name": name,
             "field": field, "value": value}
            for field, value in (("status.sync.status", "Synced"), ("status.health.status", "Healthy"))
            for name in names]
