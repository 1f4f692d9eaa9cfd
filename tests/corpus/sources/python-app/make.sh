#!/usr/bin/env bash
# Regenerates the pytest cases made from this small project:
#   python-pytest-assert-001, python-pytest-color-002, python-pytest-flaky-003,
#   python-pytest-timeout-004, python-pytest-segfault-005, python-pytest-config-006
source "$(dirname "$0")/../common.sh"
SRC="$(cd "$(dirname "$0")" && pwd)"
P="$WORK/python-app"
rm -rf "$P" && cp -r "$SRC" "$P" && cd "$P" || exit 1
O="$WORK/python-app-out" && rm -rf "$O" && mkdir -p "$O"

pip_noise "$O/install.txt" pytest pytest-timeout requests
python3 -m pip --version > "$O/pyver.txt" 2>&1
printf '%s\n' "Run actions/upload-artifact@v4 with name: pytest-report" \
    "With the provided path, there will be 1 file uploaded" \
    "Artifact name is valid!" "Root directory input is valid!" \
    "Beginning upload of artifact content to blob storage" \
    "Uploaded bytes 20131" "Finished uploading artifact content to blob storage!" \
    "Artifact pytest-report.zip successfully finalized. Artifact ID 4821771002" > "$O/upload.txt"

# 001: full verbose run, three failures spread over the run
pytest -v -p no:cacheprovider tests > "$O/001.txt" 2>&1
frame python-pytest-assert-001 --shape github_actions --job "test (3.11)" \
    --before "$O/install.txt" --before-command "python -m pip install -v pytest pytest-timeout requests" \
    --command "pytest -v tests" --exit-code 1 --output "$O/001.txt" --after "$O/upload.txt"

# 002: coloured output pasted from a web view
pytest --color=yes -ra -p no:cacheprovider tests/test_cart.py tests/test_textutil.py > "$O/002.txt" 2>&1
frame python-pytest-color-002 --shape gitlab --job "pytest" --literal-escapes \
    --before "$O/pyver.txt" --before-command "python -m pip --version" \
    --command "pytest --color=yes -ra tests/test_cart.py tests/test_textutil.py" \
    --exit-code 1 --output "$O/002.txt"

# 003: a connection reset inside a test (the stock server drops every 97th connection)
pytest -v -p no:cacheprovider tests tests_net -k "not discount_rounds and not coupon_summer and not accented" \
    > "$O/003.txt" 2>&1
frame python-pytest-flaky-003 --shape github_actions_plain --job "integration (3.11)" \
    --before "$O/install.txt" --before-command "python -m pip install -v pytest pytest-timeout requests" \
    --command "pytest -v tests tests_net -k \"not discount_rounds and not coupon_summer and not accented\"" \
    --exit-code 1 --output "$O/003.txt"

# 004: pytest-timeout ends a test stuck reading from a server that never answers
pytest -v -p no:cacheprovider tests_hang > "$O/004.txt" 2>&1
frame python-pytest-timeout-004 --shape buildkite --job "api tests" \
    --command "pytest -v tests_hang" --exit-code 1 --output "$O/004.txt"

# 005: a test segfaults the interpreter (bash reports the signal)
printf 'pytest -v -p no:cacheprovider tests_crash\n' > "$O/005.sh"
bash -e "$O/005.sh" > "$O/005.txt" 2>&1
frame python-pytest-segfault-005 --shape jenkins --job "Unit tests" \
    --command "pytest -v tests_crash" --exit-code 139 --output "$O/005.txt"

# 006: CI passes a plugin option, but pytest-cov is not installed
pytest -p no:cacheprovider --cov=shop --cov-report=xml tests > "$O/006.txt" 2>&1
frame python-pytest-config-006 --shape circleci --job "test" \
    --before "$O/install.txt" --before-command "pip install -v pytest pytest-timeout requests" \
    --command "pytest --cov=shop --cov-report=xml tests" --exit-code 4 --output "$O/006.txt"
