# Copyright (c) aphex.platform contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Ollama (local LLM serving); a GPU module: one nvidia.com/gpu on the nvidia runtime class when allowed."""

ENTRY = {
    "name": "ollama",
    "version": "0.12.3",
    "description": "Local LLM serving",
    "category": "ai-ml",
    "dependencies": [],
    "auth": None,
    # required: a tenant without GPUs is refused unless the module asks for none (options.gpu: 0, CPU only).
    "gpu": {"count": 1, "required": True},
    "expose": {"workload": "", "port": "http"},
    # Models are pulled from the Ollama registry over HTTPS.
    "internet_egress": True,
    "config": {"OLLAMA_HOST": "0.0.0.0:11434", "OLLAMA_MODELS": "/models", "HOME": "/tmp"},
    "secret_keys": [],
    "workloads": [
        {
            "name": "",
            "kind": "StatefulSet",
            "image": "docker.io/ollama/ollama:0.12.3",
            "ports": [{"name": "http", "port": 11434}],
            "probe": {"type": "http", "path": "/", "port": "http", "startup_seconds": 180},
            "resources": {"requests": {"cpu": "1", "memory": "4Gi"}, "limits": {"cpu": "4", "memory": "16Gi"}},
            "user": 1000,
            "writable": ["/tmp"],
            "storage": {"path": "/models", "size": "50Gi"},
            "gpu": True,
            "replicas": {"dev": 1, "staging": 1, "production": 1},
        },
    ],
}
