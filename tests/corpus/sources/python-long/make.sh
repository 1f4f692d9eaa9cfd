#!/usr/bin/env bash
# Regenerates the long python cases (thousands of lines around the failure):
#   python-pytest-long-010  pytest -v, ~2,900 table tests, three failures mid-run (github_actions)
#   python-pytest-long-011  integration tests fail, then after_script cats the 3,000-line
#                           service log the tests wrote (gitlab, escapes copied as ^[)
#   python-mypy-long-010    mypy -v over a 380-module package, then the line-count report is
#                           printed by a post step (jenkins)
#   python-black-long-010   black --check -v over 3,300 files, one would be reformatted (buildkite)
#   python-ruff-long-010    ruff check -v over 1,500 modules, one has 3 findings (plain)
# The mypy/black package trees are written by gen/make_tree.py into the scratch copy; the files
# that must fail are stored as overlay/**/*.py.in (so the repo's own ruff/black stay clean).
# black checks files in parallel, so the line of its "would reformat" differs between runs:
# relabel after regenerating.
source "$(dirname "$0")/../common.sh"
SRC="$(cd "$(dirname "$0")" && pwd)"
P="$WORK/python-long"
rm -rf "$P" && cp -r "$SRC" "$P" && cd "$P" || exit 1
O="$WORK/python-long-out" && rm -rf "$O" && mkdir -p "$O"

pip_noise "$O/install.txt" pytest pytest-timeout requests
pytest -v -p no:cacheprovider tests > "$O/010.txt" 2>&1
frame python-pytest-long-010 --shape github_actions --job "test (3.12)" \
    --before "$O/install.txt" --before-command "python -m pip install -v pytest pytest-timeout requests" \
    --command "pytest -v tests" --exit-code 1 --output "$O/010.txt"

pytest -q -p no:cacheprovider tests_service > "$O/011.txt" 2>&1
bash -xc 'cat logs/service.log' > "$O/011-after.txt" 2>&1
frame python-pytest-long-011 --shape gitlab --job "integration" --literal-escapes \
    --command "pytest -q tests_service" --exit-code 1 --output "$O/011.txt" --after "$O/011-after.txt"

python3 gen/make_tree.py "$P/typed" billing 380
cp overlay/typed/refunds.py.in typed/billing/refunds.py
pip_noise "$O/tools.txt" mypy
(cd typed && rm -rf .mypy_cache reports && mypy -v --linecount-report reports billing > "$O/mypy.txt" 2>&1)
(cd typed && bash -xc 'cat reports/linecount.txt' > "$O/mypy-after.txt" 2>&1)
frame python-mypy-long-010 --shape jenkins --job "Typecheck" \
    --before "$O/tools.txt" --before-command "pip install -v mypy" \
    --command "mypy -v --linecount-report reports billing" --exit-code 1 --output "$O/mypy.txt" \
    --after "$O/mypy-after.txt"

python3 gen/make_tree.py "$P/fmt" billing 3000
cp pyproject.toml fmt/ && cp overlay/fmt/exporters.py.in fmt/billing/exporters.py
rm -rf "$WORK/black-cache"
(cd fmt && BLACK_CACHE_DIR="$WORK/black-cache" black --check -v billing > "$O/black.txt" 2>&1)
frame python-black-long-010 --shape buildkite --job "format" \
    --command "black --check -v billing" --exit-code 1 --output "$O/black.txt"

# python-ruff-long-010: ruff check -v over a 1,500-module tree plus a webhook module with three
# findings; -v logs two debug lines per file before the diagnostics.
R="$WORK/rl" && rm -rf "$R" && python3 gen/make_tree.py "$R" billing 1400
cp overlay/lint/ruff.toml "$R/ruff.toml" && cp overlay/lint/webhooks.py.in "$R/billing/webhooks.py"
(cd "$R" && ruff --version && ruff check -v --no-cache billing) > "$O/ruff.txt" 2>&1
frame python-ruff-long-010 --shape plain --job "lint" \
    --command "ruff --version && ruff check -v --no-cache billing" --exit-code 1 --output "$O/ruff.txt"
