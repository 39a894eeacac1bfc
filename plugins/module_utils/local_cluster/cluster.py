# Copyright (c) aphex.platform contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A real Kubernetes control plane on 127.0.0.1 with kwok nodes (no container runs).

etcd, kube-apiserver (RBAC + Pod Security admission; admission webhooks off, as no webhook server runs),
kube-controller-manager, kube-scheduler
and kwok run as plain processes owned by the current user; all state lives in one directory,
so several clusters can run side by side and `stop()` leaves no process or port behind.
kwokctl could orchestrate this too, but it cannot be told to reuse a cluster started by another
process nor to report per-component readiness the way the tests need, so the start-up is done here.
"""

from __future__ import annotations

import base64
import json
import os
import random
import shutil
import signal
import socket
import ssl
import subprocess
import time
import urllib.error

from ansible.module_utils.urls import open_url

from .pki import ensure_pki

STATE_FILE = "cluster.json"
COMPONENTS = ("etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kwok")
SERVICE_CIDR = "10.96.0.0/16"
POD_CIDR = "10.244.0.0/16"


class LocalClusterError(Exception):
    """The local cluster failed to start or stop; the message names the component and its log."""


def _ephemeral_floor() -> int:
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range", encoding="ascii") as handle:
            return int(handle.read().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


def free_port() -> int:
    """A free port below the kernel's ephemeral range.

    A port the kernel hands out for bind(0) comes from the ephemeral range, which outgoing connections use too:
    while etcd and kube-apiserver start, one of their client sockets can take a port picked for a component that
    starts later ("address already in use"). Below that range nothing is assigned behind our back.
    """
    floor = _ephemeral_floor()
    low = max(1024, min(20000, floor - 4000))
    for _attempt in range(200):
        port = random.randint(low, floor - 1)
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _b64file(path: str) -> str:
    with open(path, "rb") as handle:
        return base64.b64encode(handle.read()).decode()


def kubeconfig_document(server: str, ca_cert: str, client_cert: str, client_key: str, name: str) -> dict:
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": name, "cluster": {"server": server, "certificate-authority-data": _b64file(ca_cert)}}],
        "users": [{"name": name, "user": {"client-certificate-data": _b64file(client_cert),
                                          "client-key-data": _b64file(client_key)}}],
        "contexts": [{"name": name, "context": {"cluster": name, "user": name}}],
        "current-context": name,
    }


def node_manifest(name: str) -> dict:
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {
            "name": name,
            "annotations": {"kwok.x-k8s.io/node": "fake", "node.alpha.kubernetes.io/ttl": "0"},
            "labels": {"type": "kwok", "kubernetes.io/hostname": name, "kubernetes.io/os": "linux",
                       "kubernetes.io/arch": "amd64", "aphex.dev/local-cluster": "true"},
        },
        "spec": {},
    }


def _process_start_time(pid: int) -> str | None:
    """Start time of a live process (clock ticks since boot), None if it is gone or a zombie.

    pid + start time identifies a process even if the pid is recycled. The command line is no
    good for this: /proc/<pid>/cmdline reads empty for a moment right after exec."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as handle:
            fields = handle.read().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    state, start_time = fields[0], fields[19]
    return None if state in ("Z", "X") else start_time


def _pid_alive(record: dict) -> bool:
    start_time = _process_start_time(record["pid"])
    return start_time is not None and start_time == record.get("start_time")


class LocalCluster:
    """One local cluster, identified by its state directory."""

    def __init__(self, state_dir: str, toolchain=None, nodes: int = 2, name: str = "aphex-local", log=None):
        self.state_dir = os.path.abspath(state_dir)
        self.toolchain = toolchain
        self.nodes = nodes
        self.name = name
        self.log = log or (lambda message: None)
        self.kubeconfig = os.path.join(self.state_dir, "kubeconfig")

    # -- state -------------------------------------------------------------------------------
    @property
    def _state_path(self) -> str:
        return os.path.join(self.state_dir, STATE_FILE)

    def read_state(self) -> dict | None:
        try:
            with open(self._state_path, encoding="utf-8") as handle:
                return json.load(handle)
        except (OSError, ValueError):
            return None

    def _write_state(self, state: dict) -> None:
        tmp = self._state_path + ".tmp"
        with open(tmp, "w", encoding="utf-8") as handle:
            json.dump(state, handle, indent=2, sort_keys=True)
        os.replace(tmp, self._state_path)

    def running_components(self, state: dict | None = None) -> dict:
        state = state or self.read_state() or {}
        alive = {}
        for component, record in (state.get("processes") or {}).items():
            if _pid_alive(record):
                alive[component] = record["pid"]
        return alive

    def is_running(self) -> bool:
        state = self.read_state()
        if not state or set(self.running_components(state)) != set(COMPONENTS):
            return False
        try:
            return self._request(state, "GET", "/readyz")[0] == 200
        except (OSError, LocalClusterError):
            return False

    def info(self) -> dict:
        state = self.read_state() or {}
        return {
            "kubeconfig": self.kubeconfig,
            "server": state.get("server"),
            "state_dir": self.state_dir,
            "ports": state.get("ports", {}),
            "versions": state.get("versions", {}),
            "nodes": state.get("nodes", []),
            "running": self.is_running(),
        }

    # -- HTTP to the API server (no client library: this runs before any kubeconfig exists) ----
    def _request(self, state: dict, method: str, path: str, body: dict | None = None, timeout: float = 10):
        pki = state["pki"]
        data = json.dumps(body) if body is not None else None
        try:
            response = open_url(state["server"] + path, data=data, method=method, timeout=timeout,
                                headers={"Content-Type": "application/json", "Accept": "application/json"},
                                ca_path=pki["ca_cert"], client_cert=pki["admin_cert"], client_key=pki["admin_key"])
            return response.status, response.read()
        except urllib.error.HTTPError as err:
            return err.code, err.read()

    # -- lifecycle ---------------------------------------------------------------------------
    def start(self, timeout: float = 240) -> bool:
        """Start the cluster unless it already runs. Returns True when something was started."""
        if self.is_running():
            return False
        if self.toolchain is None:
            raise LocalClusterError("a toolchain (binary paths) is required to start the cluster")
        # Anything left from a crashed or half-started run is stopped and wiped: a fresh
        # cluster is cheaper and more predictable than repairing an unknown one.
        self.stop()
        if os.path.isdir(self.state_dir):
            for entry in ("etcd-data", "logs", "pki", STATE_FILE):
                target = os.path.join(self.state_dir, entry)
                if os.path.isdir(target):
                    shutil.rmtree(target)
                elif os.path.exists(target):
                    os.remove(target)
        os.makedirs(self.state_dir, mode=0o700, exist_ok=True)
        os.makedirs(os.path.join(self.state_dir, "logs"), exist_ok=True)

        pki = ensure_pki(os.path.join(self.state_dir, "pki"))
        port_names = ("etcd", "etcd_peer", "apiserver", "controller_manager", "scheduler", "kwok")
        ports: dict = {}
        for name in port_names:
            port = free_port()
            while port in ports.values():
                port = free_port()
            ports[name] = port
        server = f"https://127.0.0.1:{ports['apiserver']}"
        state = {
            "name": self.name,
            "server": server,
            "ports": ports,
            "pki": pki,
            "versions": dict(self.toolchain.versions),
            "processes": {},
            "nodes": [f"kwok-node-{i}" for i in range(self.nodes)],
            "started_at": time.time(),
        }
        self._write_kubeconfigs(state)
        self._write_state(state)
        deadline = time.monotonic() + timeout
        try:
            self._spawn(state, "etcd", self._etcd_args(state))
            self._wait(state, "etcd", deadline, lambda: self._http_ok(f"http://127.0.0.1:{ports['etcd']}/health"))
            self._spawn(state, "kube-apiserver", self._apiserver_args(state))
            self._wait(state, "kube-apiserver", deadline, lambda: self._request(state, "GET", "/readyz")[0] == 200)
            self._spawn(state, "kube-controller-manager", self._controller_manager_args(state))
            self._spawn(state, "kube-scheduler", self._scheduler_args(state))
            self._spawn(state, "kwok", self._kwok_args(state))
            health = (("kube-controller-manager", ports["controller_manager"]), ("kube-scheduler", ports["scheduler"]))
            for component, port in health:
                self._wait(state, component, deadline,
                           lambda port=port: self._http_ok(f"https://127.0.0.1:{port}/healthz", insecure=True))
            self._create_nodes(state, deadline)
            self._wait(state, "kwok", deadline, lambda: self._nodes_ready(state))
            self._wait(state, "kube-controller-manager", deadline, lambda: self._request(
                state, "GET", "/api/v1/namespaces/default/serviceaccounts/default")[0] == 200)
        except Exception:
            self.stop()
            raise
        return True

    def stop(self, timeout: float = 20) -> bool:
        """Stop every process of this cluster (reverse start order). Returns True if any ran."""
        state = self.read_state()
        if not state:
            return False
        stopped = False
        for component in reversed(COMPONENTS):
            record = (state.get("processes") or {}).get(component)
            if not record or not _pid_alive(record):
                continue
            stopped = True
            self._terminate(record, timeout)
        state["processes"] = {}
        self._write_state(state)
        return stopped

    def destroy(self) -> bool:
        """Stop the cluster and remove its state directory."""
        existed = os.path.isdir(self.state_dir)
        self.stop()
        if existed:
            shutil.rmtree(self.state_dir, ignore_errors=True)
        return existed

    # -- internals ---------------------------------------------------------------------------
    def _terminate(self, record: dict, timeout: float) -> None:
        pid = record["pid"]
        try:
            os.killpg(pid, signal.SIGTERM)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not _pid_alive(record):
                break
            try:
                # Reap the child if it is ours; harmless otherwise.
                os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:
                pass
            time.sleep(0.1)
        else:
            try:
                os.killpg(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        try:
            os.waitpid(pid, 0)
        except ChildProcessError:
            pass

    def _spawn(self, state: dict, component: str, args: list) -> None:
        binary = self.toolchain.path("kwok" if component == "kwok" else component)
        log_path = os.path.join(self.state_dir, "logs", f"{component}.log")
        self.log(f"starting {component}")
        with open(log_path, "ab") as log_file:
            # New session: the processes outlive the caller (make cluster-up, an Ansible module)
            # and their process group can be signalled as a whole.
            proc = subprocess.Popen([binary, *args], stdin=subprocess.DEVNULL, stdout=log_file,
                                    stderr=subprocess.STDOUT, start_new_session=True, close_fds=True,
                                    cwd=self.state_dir)
        state["processes"][component] = {"pid": proc.pid, "binary": binary, "log": log_path,
                                         "start_time": _process_start_time(proc.pid)}
        self._write_state(state)

    def _wait(self, state: dict, component: str, deadline: float, ready) -> None:
        record = state["processes"].get(component)
        last_error = None
        while time.monotonic() < deadline:
            if record and not _pid_alive(record):
                raise LocalClusterError(f"{component} exited during start-up; last lines of {record['log']}:\n"
                                        + self._tail(record["log"]))
            try:
                if ready():
                    return
            except (OSError, ValueError, ssl.SSLError) as exc:
                last_error = exc
            time.sleep(0.25)
        log = record["log"] if record else "(no log)"
        raise LocalClusterError(f"{component} was not ready in time (last error: {last_error}); "
                                f"last lines of {log}:\n" + (self._tail(log) if record else ""))

    @staticmethod
    def _tail(path: str, lines: int = 25) -> str:
        try:
            with open(path, encoding="utf-8", errors="replace") as handle:
                return "".join(handle.readlines()[-lines:])
        except OSError:
            return ""

    @staticmethod
    def _http_ok(url: str, insecure: bool = False) -> bool:
        # insecure: only for the /healthz of a component bound to 127.0.0.1 with a self-signed cert.
        try:
            return open_url(url, timeout=5, validate_certs=not insecure).status == 200
        except urllib.error.HTTPError:
            return False

    def _write_kubeconfigs(self, state: dict) -> None:
        pki = state["pki"]
        for stem, path in (("admin", self.kubeconfig),
                           ("kube-controller-manager", os.path.join(self.state_dir, "pki", "controller-manager.kubeconfig")),
                           ("kube-scheduler", os.path.join(self.state_dir, "pki", "scheduler.kubeconfig"))):
            document = kubeconfig_document(state["server"], pki["ca_cert"], pki[f"{stem}_cert"],
                                           pki[f"{stem}_key"], self.name)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump(document, handle, indent=2)
        state["component_kubeconfigs"] = {
            "kube-controller-manager": os.path.join(self.state_dir, "pki", "controller-manager.kubeconfig"),
            "kube-scheduler": os.path.join(self.state_dir, "pki", "scheduler.kubeconfig"),
        }

    def _etcd_args(self, state: dict) -> list:
        ports = state["ports"]
        client = f"http://127.0.0.1:{ports['etcd']}"
        peer = f"http://127.0.0.1:{ports['etcd_peer']}"
        return [
            "--name=local", f"--data-dir={os.path.join(self.state_dir, 'etcd-data')}",
            f"--listen-client-urls={client}", f"--advertise-client-urls={client}",
            f"--listen-peer-urls={peer}", f"--initial-advertise-peer-urls={peer}",
            f"--initial-cluster=local={peer}", "--unsafe-no-fsync=true",
            f"--listen-metrics-urls=http://127.0.0.1:{free_port()}",
            "--quota-backend-bytes=4294967296", "--log-level=warn",
        ]

    def _apiserver_args(self, state: dict) -> list:
        pki, ports = state["pki"], state["ports"]
        return [
            f"--etcd-servers=http://127.0.0.1:{ports['etcd']}", "--etcd-prefix=/registry",
            "--bind-address=127.0.0.1", "--advertise-address=127.0.0.1", f"--secure-port={ports['apiserver']}",
            f"--tls-cert-file={pki['apiserver_cert']}", f"--tls-private-key-file={pki['apiserver_key']}",
            f"--cert-dir={os.path.dirname(pki['ca_cert'])}", f"--client-ca-file={pki['ca_cert']}",
            "--authorization-mode=Node,RBAC",
            "--enable-admission-plugins=NodeRestriction",
            # kwok runs no pod, so no webhook server can answer: without these two plugins the API server never
            # calls admission webhooks, and upstream manifests (cert-manager, External Secrets, ...) are applied
            # unmodified without their webhooks blocking later creates. Everything else admits as on a real cluster.
            "--disable-admission-plugins=MutatingAdmissionWebhook,ValidatingAdmissionWebhook",
            "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
            f"--service-account-key-file={pki['sa_pub']}", f"--service-account-signing-key-file={pki['sa_key']}",
            f"--service-cluster-ip-range={SERVICE_CIDR}", "--allow-privileged=true",
            # The advertised address is loopback, which Endpoints reject; nothing in-cluster dials it.
            "--endpoint-reconciler-type=none",
            "--profiling=false",
        ]

    def _controller_manager_args(self, state: dict) -> list:
        pki, ports = state["pki"], state["ports"]
        kubeconfig = state["component_kubeconfigs"]["kube-controller-manager"]
        return [
            f"--kubeconfig={kubeconfig}", f"--authentication-kubeconfig={kubeconfig}",
            f"--authorization-kubeconfig={kubeconfig}", "--bind-address=127.0.0.1",
            f"--secure-port={ports['controller_manager']}", "--leader-elect=false",
            "--use-service-account-credentials=true", f"--root-ca-file={pki['ca_cert']}",
            f"--service-account-private-key-file={pki['sa_key']}",
            f"--cluster-signing-cert-file={pki['ca_cert']}", f"--cluster-signing-key-file={pki['ca_key']}",
            f"--cluster-cidr={POD_CIDR}", f"--service-cluster-ip-range={SERVICE_CIDR}",
            "--profiling=false",
        ]

    def _scheduler_args(self, state: dict) -> list:
        kubeconfig = state["component_kubeconfigs"]["kube-scheduler"]
        return [
            f"--kubeconfig={kubeconfig}", f"--authentication-kubeconfig={kubeconfig}",
            f"--authorization-kubeconfig={kubeconfig}", "--bind-address=127.0.0.1",
            f"--secure-port={state['ports']['scheduler']}", "--leader-elect=false", "--profiling=false",
        ]

    def _kwok_args(self, state: dict) -> list:
        args = [f"--kubeconfig={self.kubeconfig}", "--manage-all-nodes=true", f"--cidr={POD_CIDR}",
                "--node-ip=10.250.0.1", "--node-lease-duration-seconds=40",
                f"--server-address=127.0.0.1:{state['ports']['kwok']}"]
        args += [f"--config={stage}" for stage in self.toolchain.kwok_stages]
        return args

    def _create_nodes(self, state: dict, deadline: float) -> None:
        for name in state["nodes"]:
            while True:
                status, body = self._request(state, "POST", "/api/v1/nodes", node_manifest(name))
                if status in (201, 409):
                    break
                if time.monotonic() > deadline:
                    raise LocalClusterError(f"could not create node {name}: HTTP {status} {body[:300]!r}")
                time.sleep(0.5)

    def _nodes_ready(self, state: dict) -> bool:
        status, body = self._request(state, "GET", "/api/v1/nodes?labelSelector=aphex.dev%2Flocal-cluster%3Dtrue")
        if status != 200:
            return False
        ready = 0
        for item in json.loads(body)["items"]:
            for condition in (item.get("status") or {}).get("conditions") or []:
                if condition["type"] == "Ready" and condition["status"] == "True":
                    ready += 1
        return ready >= len(state["nodes"])
