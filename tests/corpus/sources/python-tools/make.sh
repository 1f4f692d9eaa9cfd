#!/usr/bin/env bash
# Regenerates: python-unittest-001, python-mypy-001, python-ruff-001, python-black-001,
#   python-pyproject-001, python-envvar-001, infra-memory-001, infra-killed-001,
#   infra-addrinuse-001
# Files that must fail a linter/formatter/type checker are stored as *.py.in (so the repo's
# own ruff run stays clean) and renamed in the scratch copy.
source "$(dirname "$0")/../common.sh"
SRC="$(cd "$(dirname "$0")" && pwd)"
P="$WORK/python-tools"
rm -rf "$P" && cp -r "$SRC" "$P" || exit 1
find "$P" -name '*.in' -exec sh -c 'mv "$1" "${1%.in}"' _ {} \;
O="$WORK/python-tools-out" && rm -rf "$O" && mkdir -p "$O"
pip_noise "$O/tools.txt" mypy ruff black

# unittest: one failure and one error among ~250 tests
(cd "$P/unit" && python3 -m unittest -v > "$O/unittest.txt" 2>&1)
frame python-unittest-001 --shape jenkins --job "Unit tests" \
    --command "python -m unittest -v" --exit-code 1 --output "$O/unittest.txt"

(cd "$P/typed" && mypy billing > "$O/mypy.txt" 2>&1)
frame python-mypy-001 --shape github_actions_plain --job "typecheck" \
    --before "$O/tools.txt" --before-command "pip install -v mypy ruff black" \
    --command "mypy billing" --exit-code 1 --output "$O/mypy.txt"

(cd "$P/lintme" && ruff check --output-format full . > "$O/ruff.txt" 2>&1)
frame python-ruff-001 --shape buildkite --job "lint" \
    --command "ruff check --output-format full ." --exit-code 1 --output "$O/ruff.txt"

(cd "$P/fmt" && black --check --diff . > "$O/black.txt" 2>&1)
frame python-black-001 --shape circleci --job "format" \
    --before "$O/tools.txt" --before-command "pip install -v mypy ruff black" \
    --command "black --check --diff ." --exit-code 1 --output "$O/black.txt"

rm -rf "$WORK/pp-venv" && python3 -m venv "$WORK/pp-venv"
(cd "$P/badproj" && cleanpip "$WORK/pp-venv/bin/pip" install -v . > "$O/pyproject.txt" 2>&1)
frame python-pyproject-001 --shape gitlab --job "build" \
    --command "pip install -v ." --exit-code 2 --output "$O/pyproject.txt"

(cd "$P" && env -u DATABASE_URL python3 scripts/migrate.py > "$O/envvar.txt" 2>&1)
frame python-envvar-001 --shape github_actions --job "deploy (staging)" \
    --command "python scripts/migrate.py" --exit-code 1 --output "$O/envvar.txt"

(cd "$P" && ulimit -v 600000 && python3 scripts/build_index.py > "$O/memory.txt" 2>&1)
frame infra-memory-001 --shape plain --job "index" \
    --command "python scripts/build_index.py" --exit-code 1 --output "$O/memory.txt"

printf 'python scripts/train.py\n' > "$O/train.sh"
(cd "$P" && PATH="$VENV/bin:$PATH" bash -e "$O/train.sh" > "$O/killed.txt" 2>&1)
frame infra-killed-001 --shape github_actions --job "train-model" \
    --before "$O/tools.txt" --before-command "pip install -v mypy ruff black" \
    --command "python scripts/train.py" --exit-code 137 --output "$O/killed.txt"

start_server silent
(cd "$P" && python3 scripts/serve_app.py "$PORT" > "$O/addrinuse.txt" 2>&1)
stop_server
frame infra-addrinuse-001 --shape gitlab --job "integration" \
    --command "python scripts/serve_app.py \$APP_PORT" --exit-code 1 --output "$O/addrinuse.txt"
