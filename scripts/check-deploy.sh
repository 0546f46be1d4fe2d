#!/usr/bin/env bash
# Offline checks of the deployment files (no Docker engine, no cluster, no network):
#   1. hadolint lints the Dockerfile and fails on any warning or error;
#   2. kubectl kustomize renders every kustomization under k8s-jobs/ (bases, overlays and
#      their one-off Job sets);
#   3. kubernetes-validate checks every rendered object, and the example Secret, against
#      the bundled JSON schemas of one fixed Kubernetes version, strictly (unknown fields
#      are errors).
# Run from anywhere; tools come from PATH (.ci/run puts .venv/bin first) or from .venv/bin.
set -euo pipefail
cd "$(dirname "$0")/.."

# The oldest Kubernetes the manifests target: every field they use is GA there
# (backoffLimitPerIndex and FailIndex went GA in 1.33; podFailurePolicy in 1.31).
# base/namespace.yaml pins the same version for Pod Security admission.
KUBERNETES_VERSION="${KUBERNETES_VERSION:-1.33.0}"

export PATH="$PWD/.venv/bin:$PATH"
for tool in hadolint kubectl kubernetes-validate; do
    command -v "$tool" >/dev/null || { echo "check-deploy: $tool not found (uv sync --extra dev)" >&2; exit 1; }
done

workdir="$(mktemp -d)"
trap 'rm -rf "$workdir"' EXIT

echo "-- hadolint Dockerfile"
hadolint --failure-threshold warning Dockerfile

echo "-- kubectl kustomize + kubernetes-validate (Kubernetes $KUBERNETES_VERSION, strict)"
mapfile -t kustomizations < <(find k8s-jobs -name kustomization.yaml -print0 \
    | xargs -0 grep -l '^kind: Kustomization' | xargs -n1 dirname | sort)
[ "${#kustomizations[@]}" -gt 0 ] || { echo "check-deploy: no kustomization under k8s-jobs/" >&2; exit 1; }

status=0
for dir in "${kustomizations[@]}"; do
    out="$workdir/$(echo "$dir" | tr / _).yaml"
    if ! kubectl kustomize "$dir" >"$out"; then
        echo "FAIL $dir: kustomize could not render it" >&2
        status=1
        continue
    fi
    objects="$(grep -c '^kind:' "$out" || true)"
    if [ "$objects" -eq 0 ]; then
        echo "FAIL $dir: rendered no objects" >&2
        status=1
        continue
    fi
    if kubernetes-validate --kubernetes-version "$KUBERNETES_VERSION" --strict --quiet "$out"; then
        echo "ok   $dir ($objects objects)"
    else
        echo "FAIL $dir: schema validation" >&2
        status=1
    fi
done

# Files kept out of every kustomization on purpose (examples) are validated on their own.
for example in k8s-jobs/base/secret.example.yaml; do
    if kubernetes-validate --kubernetes-version "$KUBERNETES_VERSION" --strict --quiet "$example"; then
        echo "ok   $example"
    else
        echo "FAIL $example: schema validation" >&2
        status=1
    fi
done

exit "$status"
