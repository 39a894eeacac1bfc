# Copyright (c) aphex.platform contributors
# Apache License 2.0 (see LICENSE)
"""Local rehearsal cluster: real control-plane processes on 127.0.0.1, kwok-simulated nodes."""
