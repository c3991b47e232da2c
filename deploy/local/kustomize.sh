#!/usr/bin/env bash
# kustomize.sh ARGS... — run kustomize, installing it once from the Go module proxy into
# ~/.cache/joblink/bin (Go is on the build machines; nothing else is downloaded).
set -euo pipefail
VERSION=v5.7.1
BIN="${JOBLINK_CACHE:-$HOME/.cache/joblink}/bin"
if [[ ! -x "$BIN/kustomize-$VERSION" ]]; then
    mkdir -p "$BIN"
    echo "kustomize: installing $VERSION from the Go module proxy" >&2
    GOBIN="$BIN" go install "sigs.k8s.io/kustomize/kustomize/v5@$VERSION" >&2
    mv "$BIN/kustomize" "$BIN/kustomize-$VERSION"
fi
exec "$BIN/kustomize-$VERSION" "$@"
