# Copyright (c) aphex.platform contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The built-in ModuleTemplates of ``module init --template``: microservice, frontend, job, database.

Each is an ordinary ModuleTemplate (a document plus its source files), kept as Python data so that it travels
with the module (AnsiballZ ships module_utils .py files only). They differ only in their data: the workload
file and the variables; the rest (namespace, service account, network policies, overlays) is shared text.
Every rendered module validates (o8-module.yaml + layout) and every overlay builds with kustomize.
"""

from __future__ import annotations

API = "orchestr8.io/v1"

MODULE_YAML = """\
apiVersion: orchestr8.io/v1
kind: Module
metadata:
  name: {{ module_name }}
  version: "{{ version }}"
  description: "{{ description }}"
spec:
  team: {{ team }}
{% if owner %}  owner: {{ owner }}
{% endif %}  category: {{ category }}
  dependencies: []
  security:
    podSecurityStandard: restricted
    networkIsolation: true
    secretsManager: external-secrets
  resources:
    requests:
      memory: "{{ memory_request }}"
      cpu: "{{ cpu_request }}"
    limits:
      memory: "{{ memory_limit }}"
      cpu: "{{ cpu_limit }}"
{% if port %}  networking:
    ports:
      - name: http
        port: {{ port }}
        protocol: TCP
    ingress:
      enabled: {{ ingress | lower }}
{% if ingress %}      host: {{ module_name }}.{{ domain }}
      port: http
{% endif %}{% endif %}  monitoring:
    metrics: {{ metrics | lower }}
{% if port %}    healthChecks:
      liveness: {{ liveness_path }}
      readiness: {{ readiness_path }}
{% endif %}"""

BASE_KUSTOMIZATION = """\
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
namespace: {{ module_name }}
labels:
  - pairs:
      app.kubernetes.io/name: {{ module_name }}
      orchestr8.io/module: {{ module_name }}
      orchestr8.io/team: {{ team }}
    includeSelectors: false
resources:
  - namespace.yaml
  - serviceaccount.yaml
  - networkpolicy.yaml
  - {{ workload_file }}
{% if port %}  - service.yaml
{% endif %}{% if ingress %}  - ingress.yaml
{% endif %}"""

NAMESPACE = """\
apiVersion: v1
kind: Namespace
metadata:
  name: {{ module_name }}
  labels:
    pod-security.kubernetes.io/enforce: restricted
    pod-security.kubernetes.io/enforce-version: latest
"""

SERVICE_ACCOUNT = """\
apiVersion: v1
kind: ServiceAccount
metadata:
  name: {{ module_name }}
automountServiceAccountToken: false
"""

# Default deny both ways; DNS out; in only from the ingress controller's namespace on the module's port.
NETWORK_POLICY = """\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: default-deny
spec:
  podSelector: {}
  policyTypes: [Ingress, Egress]
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: allow-dns
spec:
  podSelector: {}
  policyTypes: [Egress]
  egress:
    - to:
        - namespaceSelector:
            matchLabels:
              kubernetes.io/metadata.name: kube-system
      ports:
        - {protocol: UDP, port: 53}
        - {protocol: TCP, port: 53}
{% if port %}---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: allow-ingress-controller
spec:
  podSelector:
    matchLabels:
      app.kubernetes.io/name: {{ module_name }}
  policyTypes: [Ingress]
  ingress:
    - from:
        - namespaceSelector:
            matchLabels:
              kubernetes.io/metadata.name: {{ ingress_namespace }}
      ports:
        - {protocol: TCP, port: {{ port }}}
{% endif %}"""

CONTAINER = """\
      serviceAccountName: {{ module_name }}
      automountServiceAccountToken: false
      securityContext:
        runAsNonRoot: true
        runAsUser: 10001
        runAsGroup: 10001
        fsGroup: 10001
        seccompProfile:
          type: RuntimeDefault
      containers:
        - name: {{ module_name }}
          image: "{{ image }}:{{ image_tag }}"
          securityContext:
            allowPrivilegeEscalation: false
            readOnlyRootFilesystem: true
            capabilities:
              drop: [ALL]
{% if port %}          ports:
            - name: http
              containerPort: {{ port }}
              protocol: TCP
          livenessProbe:
            httpGet: {path: {{ liveness_path }}, port: http}
            initialDelaySeconds: 30
            periodSeconds: 10
          readinessProbe:
            httpGet: {path: {{ readiness_path }}, port: http}
            initialDelaySeconds: 5
            periodSeconds: 5
{% endif %}          resources:
            requests: {cpu: "{{ cpu_request }}", memory: "{{ memory_request }}"}
            limits: {cpu: "{{ cpu_limit }}", memory: "{{ memory_limit }}"}
          envFrom:
            - configMapRef:
                name: {{ module_name }}-env
          volumeMounts:
            - {name: tmp, mountPath: /tmp}
{% if data_path %}            - {name: data, mountPath: {{ data_path }}}
{% endif %}"""

DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ module_name }}
spec:
  replicas: 1
  selector:
    matchLabels:
      app.kubernetes.io/name: {{ module_name }}
  template:
    metadata:
      labels:
        app.kubernetes.io/name: {{ module_name }}
    spec:
""" + CONTAINER + """\
      volumes:
        - name: tmp
          emptyDir: {}
"""

STATEFULSET = """\
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: {{ module_name }}
spec:
  serviceName: {{ module_name }}
  replicas: 1
  selector:
    matchLabels:
      app.kubernetes.io/name: {{ module_name }}
  template:
    metadata:
      labels:
        app.kubernetes.io/name: {{ module_name }}
    spec:
""" + CONTAINER + """\
      volumes:
        - name: tmp
          emptyDir: {}
  volumeClaimTemplates:
    - metadata:
        name: data
      spec:
        accessModes: [ReadWriteOnce]
        resources:
          requests:
            storage: {{ storage }}
"""

CRONJOB = """\
apiVersion: batch/v1
kind: CronJob
metadata:
  name: {{ module_name }}
spec:
  schedule: "{{ schedule }}"
  concurrencyPolicy: Forbid
  jobTemplate:
    spec:
      backoffLimit: 3
      template:
        metadata:
          labels:
            app.kubernetes.io/name: {{ module_name }}
        spec:
          restartPolicy: OnFailure
""" + "\n".join(("    " + line) if line else line for line in CONTAINER.splitlines()) + """
          volumes:
            - name: tmp
              emptyDir: {}
"""

SERVICE = """\
apiVersion: v1
kind: Service
metadata:
  name: {{ module_name }}
spec:
  selector:
    app.kubernetes.io/name: {{ module_name }}
  ports:
    - name: http
      port: {{ port }}
      targetPort: http
      protocol: TCP
"""

INGRESS = """\
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: {{ module_name }}
spec:
  ingressClassName: {{ ingress_class }}
  rules:
    - host: {{ module_name }}.{{ domain }}
      http:
        paths:
          - path: /
            pathType: Prefix
            backend:
              service:
                name: {{ module_name }}
                port:
                  name: http
"""

# Environments: what differs is data (replicas, limits, log level, TLS in production).
ENVIRONMENT_VALUES = {
    "dev": {"replicas": 1, "log_level": "debug", "memory": "memory_limit", "cpu": "cpu_limit"},
    "staging": {"replicas": 2, "log_level": "info", "memory": "memory_limit", "cpu": "cpu_limit"},
    "production": {"replicas": 3, "log_level": "warn", "memory": "production_memory_limit",
                   "cpu": "production_cpu_limit"},
}


def _overlay(env: str) -> str:
    values = ENVIRONMENT_VALUES[env]
    text = f"""\
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
namespace: {{{{ module_name }}}}
resources:
  - ../../base
labels:
  - pairs:
      orchestr8.io/environment: {env}
    includeSelectors: false
images:
  - name: "{{{{ image }}}}"
    newTag: "{{{{ image_tag }}}}"
configMapGenerator:
  - name: {{{{ module_name }}}}-env
    literals:
      - ENVIRONMENT={env}
      - LOG_LEVEL={values['log_level']}
"""
    text += """\
{% if workload_kind != 'CronJob' %}replicas:
  - name: {{ module_name }}
    count: """ + str(values["replicas"] if env != "production" else values["replicas"]) + """
{% endif %}patches:
  - target:
      kind: {{ workload_kind }}
      name: {{ module_name }}
    patch: |-
      - op: replace
        path: {{ container_path }}/resources/limits
        value: {cpu: "{{ """ + values["cpu"] + """ }}", memory: "{{ """ + values["memory"] + """ }}"}
"""
    if env == "production":
        text += """\
{% if ingress %}  - target:
      kind: Ingress
      name: {{ module_name }}
    patch: |-
      - op: add
        path: /spec/tls
        value:
          - hosts: ["{{ module_name }}.{{ domain }}"]
            secretName: {{ module_name }}-tls
{% endif %}"""
    return text


COMMON_VARIABLES = [
    {"name": "version", "description": "First version of the module", "default": "0.1.0"},
    {"name": "description", "description": "One line about the module", "default": "A module created from a template"},
    {"name": "team", "description": "Owning team (a DNS label)", "default": "platform-team"},
    {"name": "owner", "description": "E-mail address of the owner", "default": ""},
    {"name": "image", "description": "Container image repository (without tag)"},
    {"name": "image_tag", "description": "Container image tag", "default": "latest-stable"},
    {"name": "cpu_request", "default": "100m"},
    {"name": "memory_request", "default": "128Mi"},
    {"name": "cpu_limit", "default": "500m"},
    {"name": "memory_limit", "default": "256Mi"},
    {"name": "production_cpu_limit", "default": "1"},
    {"name": "production_memory_limit", "default": "512Mi"},
    {"name": "metrics", "type": "boolean", "default": True},
    {"name": "ingress_namespace", "description": "Namespace of the ingress controller allowed in",
     "default": "ingress-nginx"},
]


def _template(name: str, description: str, workload: str, workload_file: str, kind: str, container_path: str,
              overrides: dict, extra_variables: list, with_service: bool, with_ingress: bool) -> dict:
    variables = []
    for variable in COMMON_VARIABLES + extra_variables:
        variable = dict(variable)
        if variable["name"] in overrides:
            variable["default"] = overrides[variable["name"]]
        variables.append(variable)
    # Fixed facts of the template are variables with defaults too, so every file sees them by name.
    fixed = {"workload_file": workload_file, "workload_kind": kind, "container_path": container_path,
             "category": overrides.get("category", "backend-service")}
    variables += [{"name": key, "default": value} for key, value in fixed.items()]
    files = {"o8-module.yaml.j2": MODULE_YAML, "base/kustomization.yaml.j2": BASE_KUSTOMIZATION,
             "base/namespace.yaml.j2": NAMESPACE, "base/serviceaccount.yaml.j2": SERVICE_ACCOUNT,
             "base/networkpolicy.yaml.j2": NETWORK_POLICY, f"base/{workload_file}.j2": workload}
    if with_service:
        files["base/service.yaml.j2"] = SERVICE
    if with_ingress:
        files["base/ingress.yaml.j2"] = INGRESS
    for env in ENVIRONMENT_VALUES:
        files[f"overlays/{env}/kustomization.yaml.j2"] = _overlay(env)
    document = {
        "apiVersion": API, "kind": "ModuleTemplate",
        "metadata": {"name": name, "version": "1.0.0", "description": description},
        "spec": {"variables": variables,
                 "files": [{"source": source, "target": source[:-len(".j2")]} for source in files]},
    }
    return {"document": document, "files": files}


_HTTP = [
    {"name": "port", "type": "integer", "description": "Container port of the HTTP server", "default": 8080},
    {"name": "liveness_path", "default": "/health/live"},
    {"name": "readiness_path", "default": "/health/ready"},
]
_NO_HTTP = [{"name": "port", "type": "integer", "default": 0}, {"name": "liveness_path", "default": "/"},
            {"name": "readiness_path", "default": "/"}]
_INGRESS = [{"name": "domain", "description": "DNS domain; the host is <module>.<domain>", "default": "example.com"},
            {"name": "ingress_class", "default": "nginx"}]

BUILTIN_TEMPLATES = {
    "microservice": _template(
        "microservice", "REST API behind a Service, reachable from the ingress controller", DEPLOYMENT,
        "deployment.yaml", "Deployment", "/spec/template/spec/containers/0",
        {"image": "registry.example.com/api-service", "category": "backend-service"},
        _HTTP + [{"name": "ingress", "type": "boolean", "default": False}, {"name": "data_path", "default": ""},
                 *_INGRESS], with_service=True, with_ingress=False),
    "frontend": _template(
        "frontend", "Web front end served through an Ingress on <module>.<domain>", DEPLOYMENT,
        "deployment.yaml", "Deployment", "/spec/template/spec/containers/0",
        {"image": "docker.io/nginxinc/nginx-unprivileged", "image_tag": "1.27-alpine", "category": "frontend",
         "liveness_path": "/", "readiness_path": "/"},
        _HTTP + [{"name": "ingress", "type": "boolean", "default": True}, {"name": "data_path", "default": ""},
                 *_INGRESS], with_service=True, with_ingress=True),
    "job": _template(
        "job", "Background worker run on a schedule (CronJob)", CRONJOB, "cronjob.yaml", "CronJob",
        "/spec/jobTemplate/spec/template/spec/containers/0",
        {"image": "registry.example.com/worker", "category": "worker", "metrics": False},
        _NO_HTTP + [{"name": "schedule", "description": "Cron schedule", "default": "*/15 * * * *"},
                    {"name": "ingress", "type": "boolean", "default": False}, {"name": "data_path", "default": ""},
                    *_INGRESS], with_service=False, with_ingress=False),
    "database": _template(
        "database", "Stateful database with a volume per replica (StatefulSet)", STATEFULSET, "statefulset.yaml",
        "StatefulSet", "/spec/template/spec/containers/0",
        {"image": "docker.io/library/postgres", "image_tag": "17", "category": "database", "port": 5432,
         "liveness_path": "/", "readiness_path": "/"},
        _HTTP + [{"name": "storage", "default": "10Gi"}, {"name": "ingress", "type": "boolean", "default": False},
                 {"name": "data_path", "default": "/var/lib/data"}, *_INGRESS],
        with_service=True, with_ingress=False),
}
