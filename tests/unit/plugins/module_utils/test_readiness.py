# Copyright (c) aphex.platform contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Unit tests of the readiness gate's pure predicates, the polling loop and the timeout diagnostic."""

from __future__ import annotations

import copy

import pytest

from ansible_collections.aphex.platform.plugins.module_utils.readiness import checks as c
from ansible_collections.aphex.platform.plugins.module_utils.readiness import diagnostics, gate, predicates
from ansible_collections.aphex.platform.plugins.module_utils.k8s.common import K8sError

# --------------------------------------------------------------------------------------------------------
# fixtures: objects as the API server returns them
# --------------------------------------------------------------------------------------------------------


def cond(type_, status, reason=None, message=None):
    c = {"type": type_, "status": status}
    if reason:
        c["reason"] = reason
    if message:
        c["message"] = message
    return c


def deployment(replicas=1, updated=1, total=1, available=1, generation=2, observed=2, conditions=None):
    return {"metadata": {"name": "web", "namespace": "ns", "generation": generation},
            "spec": {"replicas": replicas},
            "status": {"observedGeneration": observed, "updatedReplicas": updated, "replicas": total,
                       "availableReplicas": available,
                       "conditions": conditions if conditions is not None else [cond("Available", "True")]}}


def webhook_config(kind="ValidatingWebhookConfiguration", name="cert-manager-webhook", ca=("", ""),
                   service=("cert-manager", "cert-manager-webhook")):
    hooks = []
    for index, bundle in enumerate(ca):
        client = {"service": {"namespace": service[0], "name": service[1], "path": "/validate"}}
        if bundle:
            client["caBundle"] = bundle
        hooks.append({"name": f"hook{index}.example.io", "clientConfig": client, "failurePolicy": "Fail",
                      "timeoutSeconds": 30, "sideEffects": "None", "admissionReviewVersions": ["v1"]})
    return {"apiVersion": "admissionregistration.k8s.io/v1", "kind": kind, "metadata": {"name": name},
            "webhooks": hooks}


def endpoint_slice(*addresses, ready=True):
    return {"metadata": {"name": "svc-abcde"},
            "endpoints": [{"addresses": [a], "conditions": {"ready": ready}, "targetRef": {"name": f"pod-{a}"}}
                          for a in addresses]}


# --------------------------------------------------------------------------------------------------------
# predicates
# --------------------------------------------------------------------------------------------------------
class TestCrd:
    def test_missing(self):
        assert predicates.crd_established(None) == (False, "CustomResourceDefinition not found")

    def test_established(self):
        crd = {"status": {"conditions": [cond("NamesAccepted", "True"), cond("Established", "True")]}}
        assert predicates.crd_established(crd) == (True, "Established")

    def test_not_yet(self):
        ok, detail = predicates.crd_established({"status": {}})
        assert not ok and "Established=unknown" in detail

    def test_names_conflict_is_reported(self):
        crd = {"status": {"conditions": [cond("NamesAccepted", "False", "MultipleNames", "kind clash"),
                                         cond("Established", "False")]}}
        ok, detail = predicates.crd_established(crd)
        assert not ok and "NamesAccepted=False (MultipleNames: kind clash)" == detail


class TestDeployment:
    def test_available(self):
        assert predicates.deployment_available(deployment()) == (True, "Available (1/1 replicas)")

    def test_missing(self):
        assert predicates.deployment_available(None)[0] is False

    @pytest.mark.parametrize("kwargs, expected", [
        ({"observed": 1}, "has not observed generation 2"),
        ({"replicas": 2, "updated": 1, "total": 1}, "1 of 2 replicas updated"),
        ({"total": 2}, "1 old replica(s) pending termination"),
        ({"available": 0}, "0 of 1 updated replicas available"),
        ({"conditions": [cond("Available", "False", "MinimumReplicasUnavailable")]},
         "Available=False (MinimumReplicasUnavailable)"),
        ({"conditions": []}, "Available=unknown"),
        ({"conditions": [cond("Progressing", "False", "ProgressDeadlineExceeded", "too slow")]},
         "rollout stuck"),
    ])
    def test_not_ready(self, kwargs, expected):
        ok, detail = predicates.deployment_available(deployment(**kwargs))
        assert not ok and expected in detail

    def test_scaled_to_zero_is_available(self):
        dep = deployment(replicas=0, updated=0, total=0, available=0)
        assert predicates.deployment_available(dep)[0]


class TestStatefulSetDaemonSet:
    def sts(self, **status):
        base = {"observedGeneration": 1, "readyReplicas": 2, "updatedReplicas": 2,
                "currentRevision": "a", "updateRevision": "a"}
        base.update(status)
        return {"metadata": {"generation": 1}, "spec": {"replicas": 2}, "status": base}

    def test_ready(self):
        assert predicates.statefulset_ready(self.sts()) == (True, "Ready (2/2 replicas)")

    def test_not_all_ready(self):
        assert predicates.statefulset_ready(self.sts(readyReplicas=1)) == (False, "1 of 2 replicas ready")

    def test_rolling_update(self):
        ok, detail = predicates.statefulset_ready(self.sts(updateRevision="b", updatedReplicas=1))
        assert not ok and "rolling update in progress" in detail

    def test_partition(self):
        sts = self.sts(updateRevision="b", updatedReplicas=1)
        sts["spec"]["updateStrategy"] = {"type": "RollingUpdate", "rollingUpdate": {"partition": 1}}
        assert predicates.statefulset_ready(sts)[0]

    def test_daemonset(self):
        ds = {"metadata": {"generation": 3}, "status": {"observedGeneration": 3, "desiredNumberScheduled": 2,
                                                        "updatedNumberScheduled": 2, "numberAvailable": 1}}
        assert predicates.daemonset_ready(ds) == (False, "1 of 2 scheduled pods available")
        ds["status"]["numberAvailable"] = 2
        assert predicates.daemonset_ready(ds) == (True, "Ready (2/2 pods)")

    def test_daemonset_on_no_node_says_so(self):
        ds = {"metadata": {"generation": 1}, "status": {"observedGeneration": 1}}
        ok, detail = predicates.daemonset_ready(ds)
        assert ok and "0 pods wanted" in detail


class TestEndpoints:
    def test_ready_from_slices(self):
        slices = [endpoint_slice("10.0.0.2", "10.0.0.1"), endpoint_slice("10.0.0.3", ready=False)]
        assert predicates.ready_addresses(slices) == ["10.0.0.1", "10.0.0.2"]

    def test_unset_ready_condition_means_ready(self):
        assert predicates.ready_addresses([{"endpoints": [{"addresses": ["10.0.0.9"]}]}]) == ["10.0.0.9"]

    def test_falls_back_to_endpoints_only_without_slices(self):
        legacy = {"subsets": [{"addresses": [{"ip": "10.1.1.1"}], "notReadyAddresses": [{"ip": "10.1.1.2"}]}]}
        assert predicates.ready_addresses([], legacy) == ["10.1.1.1"]
        assert predicates.ready_addresses([endpoint_slice("10.0.0.1", ready=False)], legacy) == []

    def test_service(self):
        service = {"spec": {"type": "ClusterIP"}}
        assert predicates.service_ready(None, [])[0] is False
        assert predicates.service_ready(service, []) == (False, "no endpoints (no ready pod matches its selector)")
        assert predicates.service_ready(service, [endpoint_slice("10.0.0.1", ready=False)]) == (
            False, "none of its 1 endpoint(s) is ready")
        assert predicates.service_ready(service, [endpoint_slice("10.0.0.1")]) == (True, "1 ready endpoint(s): 10.0.0.1")
        assert predicates.service_ready({"spec": {"type": "ExternalName"}}, [])[0]


class TestWebhooks:
    def test_ca_bundle_all_webhooks(self):
        assert predicates.webhook_ca_bundle(None) == (False, "webhook configuration not found")
        assert predicates.webhook_ca_bundle(webhook_config(ca=())) == (False, "the configuration has no webhooks")
        ok, detail = predicates.webhook_ca_bundle(webhook_config(ca=("LS0t", "")))
        assert not ok and detail == "caBundle not injected in 1 of 2 webhook(s): hook1.example.io"
        assert predicates.webhook_ca_bundle(webhook_config(ca=("LS0t", "LS0t"))) == (True, "caBundle injected in all 2 webhook(s)")

    def test_services_deduplicated_url_ignored(self):
        config = webhook_config(ca=("", ""))
        config["webhooks"].append({"name": "url", "clientConfig": {"url": "https://example.com/hook"}})
        assert predicates.webhook_services(config) == [("cert-manager", "cert-manager-webhook")]

    def test_api_service(self):
        assert predicates.api_service_available({"status": {"conditions": [cond("Available", "True")]}}) == (True, "Available")
        ok, detail = predicates.api_service_available({"status": {"conditions": [
            cond("Available", "False", "FailedDiscoveryCheck", "no response")]}})
        assert not ok and "FailedDiscoveryCheck" in detail


class TestResourceStatus:
    def test_condition(self):
        obj = {"metadata": {"generation": 1}, "status": {"observedGeneration": 1,
                                                         "conditions": [cond("Ready", "True")]}}
        assert predicates.resource_status(obj, {"kind": "ClusterIssuer"}) == (True, "Ready=True")
        assert predicates.resource_status(obj, {"kind": "ClusterIssuer", "condition": "Ready", "status": "False"})[0] is False

    def test_stale_condition_waits_for_the_new_generation(self):
        obj = {"metadata": {"generation": 2}, "status": {"observedGeneration": 1,
                                                         "conditions": [cond("Ready", "True")]}}
        assert predicates.resource_status(obj, {"kind": "Certificate"})[0] is False

    def test_condition_without_generation_bookkeeping(self):
        obj = {"metadata": {"generation": 3}, "status": {"conditions": [cond("Ready", "True")]}}
        assert predicates.resource_status(obj, {"kind": "GateWidget"}) == (True, "Ready=True")

    def test_condition_observed_generation(self):
        ready = dict(cond("Ready", "True"), observedGeneration=2)
        obj = {"metadata": {"generation": 3}, "status": {"conditions": [ready]}}
        assert predicates.resource_status(obj, {"kind": "Certificate"}) == (
            False, "Ready describes generation 2, not the current 3")
        ready["observedGeneration"] = 3
        assert predicates.resource_status(obj, {"kind": "Certificate"})[0]

    def test_field(self):
        obj = {"status": {"sync": {"status": "OutOfSync"}, "items": [{"name": "a"}]}}
        ok, detail = predicates.resource_status(obj, {"kind": "Application", "field": "status.sync.status", "value": "Synced"})
        assert not ok and "waiting for 'Synced'" in detail
        assert predicates.resource_status(obj, {"kind": "X", "field": "status.items.0.name", "value": "a"})[0]
        assert predicates.resource_status(obj, {"kind": "X", "field": "status.items"})[0]
        assert not predicates.resource_status(obj, {"kind": "X", "field": "status.nothing"})[0]
        assert predicates.resource_status(None, {"kind": "X"}) == (False, "X not found")


# --------------------------------------------------------------------------------------------------------
# building checks and the not-running split
# --------------------------------------------------------------------------------------------------------
class TestChecks:
    def test_build_and_names(self):
        checks = c.build_checks({
            "crds": ["a.example.io"], "deployments": ["ns/web", {"namespace": "ns", "name": "api"}],
            "webhooks": [{"kind": "mutating", "name": "m"}, {"kind": "validating", "name": "v", "ca_bundle": False}],
            "resources": [{"api_version": "cert-manager.io/v1", "kind": "ClusterIssuer", "name": "ca"}],
            "admission_probes": [{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "p", "namespace": "x"}}],
        })
        assert [c.name for c in checks] == [
            "crd a.example.io", "deployment ns/web", "deployment ns/api",
            "webhook endpoints mutating m", "webhook caBundle mutating m", "webhook endpoints validating v",
            "ClusterIssuer ca Ready=True", "admission dry-run ConfigMap x/p"]

    @pytest.mark.parametrize("params", [
        {"deployments": [{"name": "x"}]}, {"deployments": ["noslash"]},
        {"webhooks": [{"kind": "other", "name": "x"}]},
        {"resources": [{"kind": "X", "name": "y"}]},
        {"admission_probes": [{"kind": "X"}]},
    ])
    def test_invalid_input(self, params):
        with pytest.raises(c.ReadinessError):
            c.build_checks(params)

    def test_not_running_skips_only_controller_checks_with_reason(self):
        checks = c.build_checks({"crds": ["a"], "webhooks": [{"kind": "validating", "name": "v"}]})
        run, skipped = c.split_checks(checks, "cert-manager does not run on this cluster: kwok",
                                      c.DEFAULT_REQUIRES_CONTROLLER)
        assert [c.name for c in run] == ["crd a", "webhook endpoints validating v"]
        assert skipped == [{"check": "webhook caBundle validating v",
                            "reason": "cert-manager does not run on this cluster: kwok"}]

    def test_running_component_skips_nothing(self):
        checks = c.build_checks({"webhooks": [{"kind": "validating", "name": "v"}]})
        assert c.split_checks(checks, "", ["webhooks"]) == (checks, [])

    @pytest.mark.parametrize("component, not_running, reason", [
        ("cert-manager", {}, ""),
        ("cert-manager", {"argocd": "x"}, ""),
        ("cert-manager", {"cert-manager": "no GPU"}, "cert-manager does not run on this cluster: no GPU"),
        ("argocd", {"*": "kwok runs no containers"}, "argocd does not run on this cluster: kwok runs no containers"),
        (None, {"*": "kwok"}, "the component does not run on this cluster: kwok"),
        (None, {"argocd": "x"}, ""),
    ])
    def test_not_running_reason(self, component, not_running, reason):
        assert c.not_running_reason(component, not_running) == reason

    @pytest.mark.parametrize("value", ["", "  ", None, 3, ["kwok"]])
    def test_not_running_rejects_a_reason_that_is_not_text(self, value):
        with pytest.raises(c.ReadinessError, match=r"not_running\[cert-manager\]"):
            c.not_running_reason("argocd", {"cert-manager": value})

    def test_alias_and_unknown_category(self):
        assert c.expand_categories(["webhooks"]) == {"webhook_endpoints", "webhook_ca_bundle"}
        with pytest.raises(c.ReadinessError):
            c.expand_categories(["pods"])


# --------------------------------------------------------------------------------------------------------
# the gate against a fake reader
# --------------------------------------------------------------------------------------------------------
class FakeReader:
    """Objects by (kind, namespace, name); ``script`` maps a round number to a mutation of the world."""

    def __init__(self, objects=None, lists=None):
        self.objects = objects or {}
        self.lists = lists or {}
        self.dry_runs = []
        self.dry_run_answer = None

    def get(self, api_version, kind, name, namespace=None):
        return copy.deepcopy(self.objects.get((kind, namespace, name)))

    def list(self, api_version, kind, namespace=None, label_selector=None):
        return copy.deepcopy(self.lists.get((kind, namespace, label_selector), []))

    def dry_run_create(self, obj):
        self.dry_runs.append(obj)
        return self.dry_run_answer


class Clock:
    def __init__(self):
        self.now = 0.0
        self.sleeps = []

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.sleeps.append(seconds)
        self.now += seconds


def cert_manager_world(ca=("", ""), ready=True):
    world = FakeReader()
    for kind in ("ValidatingWebhookConfiguration", "MutatingWebhookConfiguration"):
        world.objects[(kind, None, "cert-manager-webhook")] = webhook_config(kind=kind, ca=ca[:1])
    world.objects[("Service", "cert-manager", "cert-manager-webhook")] = {"spec": {"type": "ClusterIP"}}
    world.lists[("EndpointSlice", "cert-manager", "kubernetes.io/service-name=cert-manager-webhook")] = [
        endpoint_slice("10.244.0.7", ready=ready)]
    world.lists[("Event", "cert-manager", None)] = [
        {"type": "Warning", "reason": "Unhealthy", "involvedObject": {"kind": "Pod", "name": "webhook-1"},
         "message": "Readiness probe failed", "lastTimestamp": "2026-01-01T00:00:02Z", "count": 3},
        {"type": "Normal", "reason": "Scheduled", "involvedObject": {"kind": "Pod", "name": "webhook-1"},
         "message": "assigned", "lastTimestamp": "2026-01-01T00:00:01Z"}]
    world.lists[("Pod", "cert-manager", None)] = [
        {"metadata": {"name": "webhook-1"}, "status": {"phase": "Running", "conditions": [cond("Ready", "False")],
                                                       "containerStatuses": [{"name": "webhook", "state": {
                                                           "waiting": {"reason": "CrashLoopBackOff"}}}]}}]
    return world


NOT_RUNNING = {"*": "kwok runs no containers"}
GATE = {"webhooks": [{"kind": "validating", "name": "cert-manager-webhook"},
                     {"kind": "mutating", "name": "cert-manager-webhook"}], "wait_timeout": 10, "wait_sleep": 3}


class TestRunGate:
    def test_passes_when_ca_injected_and_endpoints_ready(self):
        clock = Clock()
        result = gate.run_gate(cert_manager_world(ca=("LS0tLS1CRUdJTg==",)), GATE, clock=clock, sleep=clock.sleep)
        assert result.ok and result.rounds == 1 and not result.skipped
        assert result.passed == ["webhook endpoints validating cert-manager-webhook",
                                 "webhook caBundle validating cert-manager-webhook",
                                 "webhook endpoints mutating cert-manager-webhook",
                                 "webhook caBundle mutating cert-manager-webhook"]

    def test_waits_until_cainjector_writes_the_bundle(self):
        clock = Clock()
        world = cert_manager_world()

        def sleep(seconds):
            clock.sleep(seconds)
            if clock.now >= 6:  # cainjector injects after two rounds
                for key, config in world.objects.items():
                    if key[0].endswith("WebhookConfiguration"):
                        config["webhooks"][0]["clientConfig"]["caBundle"] = "LS0t"

        result = gate.run_gate(world, GATE, clock=clock, sleep=sleep)
        assert result.ok and result.rounds == 3 and clock.sleeps == [3, 3]

    def test_times_out_with_diagnostic(self):
        clock = Clock()
        result = gate.run_gate(cert_manager_world(ready=False), GATE, clock=clock, sleep=clock.sleep)
        assert not result.ok and result.elapsed >= 10
        assert {f["check"] for f in result.failed} == {
            "webhook endpoints validating cert-manager-webhook", "webhook caBundle validating cert-manager-webhook",
            "webhook endpoints mutating cert-manager-webhook", "webhook caBundle mutating cert-manager-webhook"}
        text = result.message(10)
        assert text.startswith("Readiness gate timed out after 10s: 4 of 4 check(s) not satisfied")
        assert "none of its 1 endpoint(s) is ready" in text
        assert "hook0.example.io: cert-manager/cert-manager-webhook:443/validate, caBundle missing, " \
               "failurePolicy Fail" in text
        assert "Endpoints of service cert-manager/cert-manager-webhook: 10.244.0.7 ready=False (pod-10.244.0.7)" in text
        assert "Pods not ready in cert-manager: webhook-1: phase Running (webhook: CrashLoopBackOff)" in text
        # events oldest first, with counts
        assert text.index("Scheduled") < text.index("Unhealthy") and "(x3)" in text
        assert result.diagnostics["webhook_configurations"][0]["webhooks"][0]["caBundle"] == "missing"

    def test_last_sleep_does_not_overshoot_the_timeout(self):
        clock = Clock()
        gate.run_gate(cert_manager_world(), dict(GATE, wait_timeout=7), clock=clock, sleep=clock.sleep)
        assert clock.sleeps == [3, 3, 1]

    def test_not_running_skips_ca_bundle_but_still_checks_endpoints(self):
        clock = Clock()
        result = gate.run_gate(cert_manager_world(), dict(GATE, component="cert-manager", not_running=NOT_RUNNING),
                               clock=clock, sleep=clock.sleep)
        assert result.ok and result.passed == ["webhook endpoints validating cert-manager-webhook",
                                               "webhook endpoints mutating cert-manager-webhook"]
        assert [s["check"] for s in result.skipped] == ["webhook caBundle validating cert-manager-webhook",
                                                        "webhook caBundle mutating cert-manager-webhook"]
        assert result.not_running_reason == "cert-manager does not run on this cluster: kwok runs no containers"
        assert {s["reason"] for s in result.skipped} == {result.not_running_reason}

    def test_not_running_without_ready_pods_skips_endpoints_too(self):
        """kind: the pods of a component that cannot run never become Ready, so rollouts and endpoints are skipped
        with the reason (not waited for until the timeout); a component that runs is still checked in full."""
        clock = Clock()
        params = dict(GATE, crds=["certificates.cert-manager.io"], component="cert-manager",
                      not_running={"cert-manager": "not built here"}, not_running_pods_ready=False)
        world = cert_manager_world(ready=False)
        world.objects[("CustomResourceDefinition", None, "certificates.cert-manager.io")] = {
            "status": {"conditions": [cond("Established", "True")]}}
        result = gate.run_gate(world, params, clock=clock, sleep=clock.sleep)
        assert result.ok and result.passed == ["crd certificates.cert-manager.io"]
        assert len(result.skipped) == 4 and clock.sleeps == []
        running = gate.run_gate(cert_manager_world(ready=False), dict(params, component="tekton"), clock=clock,
                                sleep=clock.sleep)
        assert not running.ok and not running.skipped

    def test_running_component_reports_no_reason(self):
        result = gate.run_gate(cert_manager_world(ca=("LS0t",)),
                               dict(GATE, component="cert-manager", not_running={"argocd": "x"}))
        assert result.ok and result.not_running_reason == "" and not result.skipped

    def test_not_running_endpoints_missing_still_fails(self):
        clock = Clock()
        result = gate.run_gate(cert_manager_world(ready=False), dict(GATE, not_running=NOT_RUNNING), clock=clock,
                               sleep=clock.sleep)
        assert not result.ok and len(result.failed) == 2

    def test_check_mode_never_waits(self):
        world = FakeReader()
        clock = Clock()
        result = gate.run_gate(world, dict(GATE, crds=["certificates.cert-manager.io"], component="cert-manager",
                                           not_running=NOT_RUNNING), check_mode=True, clock=clock, sleep=clock.sleep)
        assert result.ok and clock.sleeps == []
        reasons = {s["check"]: s["reason"] for s in result.skipped}
        expected = "check mode: not satisfied yet (CustomResourceDefinition not found)"
        assert reasons["crd certificates.cert-manager.io"].startswith(expected)
        assert reasons["webhook caBundle mutating cert-manager-webhook"] == result.not_running_reason

    def test_forbidden_is_fatal_other_errors_retried(self):
        class Failing(FakeReader):
            status = 403

            def get(self, *args, **kwargs):
                raise K8sError("forbidden", self.status)

        with pytest.raises(c.ReadinessError, match="forbidden"):
            gate.run_gate(Failing(), {"crds": ["a"], "wait_timeout": 5})
        Failing.status = 500
        clock = Clock()
        result = gate.run_gate(Failing(), {"crds": ["a"], "wait_timeout": 5, "wait_sleep": 1}, clock=clock, sleep=clock.sleep)
        assert not result.ok and result.failed[0]["reason"] == "forbidden" and result.rounds == 6

    def test_admission_probe(self):
        world = FakeReader()
        world.dry_run_answer = 'failed calling webhook "webhook.cert-manager.io": connection refused'
        probe = {"apiVersion": "cert-manager.io/v1", "kind": "Issuer",
                 "metadata": {"name": "probe", "namespace": "cert-manager"}, "spec": {"selfSigned": {}}}
        clock = Clock()
        result = gate.run_gate(world, {"admission_probes": [probe], "wait_timeout": 3}, clock=clock, sleep=clock.sleep)
        assert not result.ok and "failed calling webhook" in result.failed[0]["reason"]
        world.dry_run_answer = None
        assert gate.run_gate(world, {"admission_probes": [probe]}).ok

    def test_resources_and_services_and_crds(self):
        world = FakeReader(objects={
            ("CustomResourceDefinition", None, "a.example.io"): {"status": {"conditions": [cond("Established", "True")]}},
            ("ClusterIssuer", None, "ca"): {"status": {"conditions": [cond("Ready", "True")]}},
            ("Service", "ns", "web"): {"spec": {}},
            ("Deployment", "ns", "web"): deployment(),
        }, lists={("EndpointSlice", "ns", "kubernetes.io/service-name=web"): [endpoint_slice("10.0.0.1")]})
        params = {"crds": ["a.example.io"], "services": ["ns/web"], "deployments": ["ns/web"],
                  "resources": [{"api_version": "cert-manager.io/v1", "kind": "ClusterIssuer", "name": "ca"}]}
        result = gate.run_gate(world, params)
        assert result.ok and len(result.passed) == 4
        # cert-manager does not run: the ClusterIssuer's Ready needs its controller
        result = gate.run_gate(world, dict(params, component="cert-manager", not_running=NOT_RUNNING))
        assert result.ok and [s["check"] for s in result.skipped] == ["ClusterIssuer ca Ready=True"]


def test_events_are_summarised_newest_last_and_limited():
    events = [{"type": "Normal", "reason": f"R{i}", "involvedObject": {"kind": "Pod", "name": "p"},
               "message": "m", "lastTimestamp": f"2026-01-01T00:00:{i:02d}Z"} for i in range(30)]
    lines = diagnostics.summarize_events(events, limit=5)
    assert len(lines) == 5 and "R25" in lines[0] and "R29" in lines[-1]


def test_diagnostics_survive_read_errors():
    class Broken(FakeReader):
        def list(self, *args, **kwargs):
            raise K8sError("timeout", 504)

    checks = c.build_checks({"services": ["ns/web"]})
    found = diagnostics.collect_diagnostics(Broken(), checks)
    assert found["events"]["ns"] == ["(could not read: timeout)"]
    assert diagnostics.format_diagnostics(found)
