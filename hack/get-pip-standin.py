# Stand-in for the get-pip.py bootstrap script ansible-test downloads from ci-files.testing.ansible.com,
# which machines without internet cannot reach (ansible/ansible#77304). ansible-test runs this file
# inside each fresh sanity virtualenv with get-pip's arguments, e.g. `--disable-pip-version-check
# pip==24.2 --no-setuptools`. ensurepip must run in a subprocess: in-process it sets
# PIP_CONFIG_FILE=/dev/null, which would drop the machine's pip configuration (index, certificates).
import subprocess
import sys

args = [arg for arg in sys.argv[1:] if arg not in ("--no-setuptools", "--no-wheel")]
subprocess.run([sys.executable, "-m", "ensurepip", "--upgrade"], check=True, stdout=subprocess.DEVNULL)
subprocess.run([sys.executable, "-m", "pip", "install", *args], check=True)
