#!/usr/bin/env bash
# The AWS tests run against a local moto server (real S3/IAM/STS wire protocols). The tests
# start and stop it themselves; this only makes sure it is installed.
set -euo pipefail
if python3 -c 'import moto.server, flask, flask_cors' 2>/dev/null; then exit 0; fi
echo "setup: installing moto[server] with pip" >&2
python3 -m pip install --quiet 'moto[server]>=5' >&2
