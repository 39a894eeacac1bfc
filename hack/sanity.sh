#!/usr/bin/env bash
# ansible-test sanity needs the collection at .../ansible_collections/aphex/platform (a real directory,
# not a symlink) with its dependency collections as siblings, and a pip bootstrap it can reach.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
venv=${VENV:-$root/.venv}
# Outside the checkout: inside it, ansible-test would take the file list from the enclosing git repo.
tree=${TMPDIR:-/tmp}/aphex-platform-sanity-$(printf %s "$root" | sha256sum | cut -c1-12)/ansible_collections
site=$("$venv/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')/ansible_collections

mkdir -p "$tree/aphex" "$tree/kubernetes" "$tree/community"
for dep in kubernetes/core community/general; do
  [ -d "$tree/$dep" ] || cp -a "$site/$dep" "$tree/$dep"
done
rm -rf "$tree/aphex/platform" && mkdir -p "$tree/aphex/platform"
tar -C "$root" --exclude-from="$root/hack/sanity-excludes.txt" -cf - . | tar -C "$tree/aphex/platform" -xf -

# The pip version ansible-test pins decides the bootstrap script's file name.
pip_version=$(grep -o "pip='[0-9.]*'" "$("$venv/bin/python" -c 'import ansible_test, os; print(os.path.dirname(ansible_test.__file__))')/_internal/python_requirements.py" | head -n1 | tr -dc '0-9.')
mkdir -p ~/.ansible/test/cache
cp "$root/hack/get-pip-standin.py" ~/.ansible/test/cache/get_pip_${pip_version//./_}.py

cd "$tree/aphex/platform"
PATH=$venv/bin:$PATH "$venv/bin/ansible-test" sanity --local --requirements --python 3.11 "$@"
