#!/bin/sh
# Set-up and everyday tasks for meditate. Each task creates .venv and installs what is missing on its
# first run (and again whenever pyproject.toml changes), so a fresh clone needs nothing but Python 3.10+.
#   ./run.sh library    render the bundled library (scripts/) into audio_out/
#   ./run.sh test       run the test suite (extra pytest arguments pass through, e.g. -m slow)
#   ./run.sh meditate   run the meditate command itself (arguments pass through)
#   ./run.sh fuzz       a long fuzzing session of the property tests (thousands of generated scripts)
#   ./run.sh lint       the code checks: ruff (style, likely bugs), mypy (types), vulture (dead code)
set -eu
cd "$(dirname "$0")"
VENV=.venv

find_python() {
    for candidate in python3.13 python3.12 python3.11 python3.10 python3; do
        if command -v "$candidate" >/dev/null 2>&1 &&
            "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 10))' 2>/dev/null; then
            echo "$candidate"
            return
        fi
    done
    echo "run.sh: meditate needs Python 3.10 or newer (python3 --version to check)" >&2
    exit 1
}

ensure_env() {
    if [ ! -x "$VENV/bin/python" ]; then
        python=$(find_python)
        echo "run.sh: creating $VENV with $python" >&2
        "$python" -m venv "$VENV" || {
            echo "run.sh: could not create a virtual environment; on Debian/Ubuntu: apt install python3-venv" >&2
            exit 1
        }
    fi
    stamp="$VENV/.meditate-installed"
    if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
        echo "run.sh: installing meditate and its packages into $VENV" >&2
        "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -e ".[test,cluster]"
        touch "$stamp"
    fi
}

task=${1:-}
[ $# -gt 0 ] && shift
case "$task" in
    library)
        ensure_env
        exec "$VENV/bin/meditate" build scripts -o audio_out "$@"
        ;;
    test)
        ensure_env
        exec "$VENV/bin/python" -m pytest "$@"
        ;;
    fuzz)
        ensure_env
        MEDITATE_HYPOTHESIS_PROFILE=fuzz exec "$VENV/bin/python" -m pytest tests/e2e/test_properties.py tests/e2e/test_properties_records.py -q "$@"
        ;;
    lint)
        ensure_env
        # every check runs (each says how many findings it has); any finding fails the task
        status=0
        echo "ruff:" >&2; "$VENV/bin/ruff" check "$@" || status=1
        echo "mypy:" >&2; "$VENV/bin/mypy" || status=1
        echo "vulture:" >&2; "$VENV/bin/vulture" && echo "no dead code" || status=1
        exit $status
        ;;
    meditate)
        ensure_env
        exec "$VENV/bin/meditate" "$@"
        ;;
    *)
        sed -n '2,8p' "$0" | sed 's/^# \{0,1\}//' >&2
        exit 2
        ;;
esac
