# Copyright (c) aphex.platform contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Go components built for the platform images: module, version, main packages, flags.

Versions follow ../shared/docs/platform-images.md section 2: what the Go module proxy serves.
"""

TEKTON_PIPELINE_BINS = ["controller", "webhook", "resolvers", "events", "entrypoint", "nop",
                        "sidecarlogresults", "workingdirinit"]
TEKTON_TRIGGERS_BINS = ["controller", "webhook", "eventlistenersink", "interceptors"]

GO_COMPONENTS = {
    "tekton-pipeline": {
        "module": "github.com/tektoncd/pipeline",
        "version": "v1.15.0",
        "packages": [f"github.com/tektoncd/pipeline/cmd/{b}" for b in TEKTON_PIPELINE_BINS],
    },
    "tekton-triggers": {
        "module": "github.com/tektoncd/triggers",
        "version": "v0.37.0",
        "packages": [f"github.com/tektoncd/triggers/cmd/{b}" for b in TEKTON_TRIGGERS_BINS],
    },
    "dex": {
        # the tag v2.44.0 is not a valid Go version of a module without /v2: pseudo-version of its commit
        "module": "github.com/dexidp/dex",
        "version": "v0.0.0-20250829100637-2dce75009acf",
        "image_version": "v2.44.0",
        "packages": ["github.com/dexidp/dex/cmd/dex"],
        # upstream replaces api/v2 with ./api/v2; api/v2.4.0 is tagged on the same commit
        "replaces": {"github.com/dexidp/dex/api/v2": "github.com/dexidp/dex/api/v2@v2.4.0"},
        "ldflags": "-X main.version=v2.44.0",
        # Dex wraps KUBERNETES_SERVICE_HOST in brackets even for IPv4 ("IPv4 also works with square
        # brackets"); Go >= 1.26's net/url rejects "https://[10.96.0.1]:443" ("invalid IP-literal"), so
        # the kubernetes storage cannot start. Upstream built v2.44.0 with Go 1.25; only Go 1.26 is here.
        "patches": {"storage/kubernetes/client.go": [(
            '\thost = "[" + host + "]"\n\tcluster := k8sapi.Cluster{\n\t\tServer:               "https://" + host + ":" + port,',
            '\tcluster := k8sapi.Cluster{\n\t\tServer:               "https://" + net.JoinHostPort(host, port),')]},
        "patch_revision": 1,
    },
    "argocd": {
        # v3.5.1's gitops-engine is refused by the proxy; v3.5.2 with its gitops-engine commit is served
        "module": "github.com/argoproj/argo-cd/v3",
        "version": "v3.5.2",
        "packages": ["github.com/argoproj/argo-cd/v3/cmd"],
        "outputs": {"github.com/argoproj/argo-cd/v3/cmd": "argocd"},
        "replaces": {"github.com/argoproj/argo-cd/gitops-engine":
                     "github.com/argoproj/argo-cd/gitops-engine@v0.0.0-20260827090335-e258ee23c3e5"},
        "ldflags": "-X github.com/argoproj/argo-cd/v3/common.version=3.5.2",
    },
    "kustomize": {
        "module": "sigs.k8s.io/kustomize/kustomize/v5",
        "version": "v5.8.1",
        "packages": ["sigs.k8s.io/kustomize/kustomize/v5"],
        "outputs": {"sigs.k8s.io/kustomize/kustomize/v5": "kustomize"},
    },
}
