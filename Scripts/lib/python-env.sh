# Scripts/lib/python-env.sh: sourced by Scripts/python-test and Scripts/bench-python.
# Defines ensure_python_env: builds the release library and binary, makes (once) the
# virtual environment $cache/venv-python with pinned pytest, pandas, pyarrow, numpy and
# pyspark, installs Java when `java` is missing, and (re)installs the package from this
# checkout's python/ into the venv. Expects $repo and $cache; sets $venv and $quarry.

# Pinned so that figures and failures can be reproduced; bump together. numpy < 2:
# fasttext-wheel 0.9.2, which Scripts/bench-python adds, fails under numpy 2, and pyarrow
# from 22 on needs numpy 2 (pyspark 4.3 wants pyarrow >= 18 and warns on pandas 3).
PYTHON_REQUIREMENTS=(pytest==9.2.0 "numpy==1.26.4" pandas==2.3.3 pyarrow==21.0.0
  pyspark==4.3.0 "setuptools==84.2.1" wheel==0.48.0)

ensure_java() {
  command -v java >/dev/null 2>&1 && return 0
  echo "python-env: installing Java 17 (openjdk-17-jre-headless) for Spark" >&2
  local sudo=""
  [[ "$(id -u)" -ne 0 ]] && sudo="sudo -n"  # never wait for a password
  $sudo apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq openjdk-17-jre-headless >&2
}

ensure_python_env() {
  echo "python-env: swift build -c release (libQuarryC.so and quarry)" >&2
  (cd "$repo" && swift build -c release --product QuarryC 2>&1 | tail -n 1 >&2)
  (cd "$repo" && swift build -c release --product quarry 2>&1 | tail -n 1 >&2)
  local bin
  bin="$(cd "$repo" && swift build -c release --show-bin-path)"
  quarry="$bin/quarry"
  ensure_java

  venv="$cache/venv-python"
  local python="${QUARRY_PYTHON:-python3}" want stamp="$venv/.requirements"
  want="$("$python" -c 'import sys; print(sys.version.split()[0])') ${PYTHON_REQUIREMENTS[*]}"
  if ! [[ -x "$venv/bin/python" && -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
    echo "python-env: making $venv (${PYTHON_REQUIREMENTS[*]})" >&2
    rm -rf "$venv"
    "$python" -m venv "$venv"
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
      "${PYTHON_REQUIREMENTS[@]}" >&2
    printf '%s' "$want" > "$stamp"
  fi
  # The package from this checkout, with this build's library and binary copied in. Built
  # in a scratch copy of python/ so that the checkout gets no build/ or egg-info folders.
  local scratch
  scratch="$(mktemp -d)"
  cp -R "$repo/python/." "$scratch/"
  rm -rf "$scratch/build" "$scratch"/*.egg-info
  QUARRY_BUILD_DIR="$bin" "$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
    --no-build-isolation --no-deps --force-reinstall "$scratch" >&2
  rm -rf "$scratch"
}
