#!/usr/bin/env bash
# Regenerates the long infrastructure cases:
#   infra-dns-long-010     after a 2,000-line `npm install --loglevel silly`, pip cannot resolve
#                          the mirror's host; an always() step then prints `pip debug --verbose`
#   infra-refused-long-011 install and 2,800 passing jest tests, then the smoke test's curl is
#                          refused on every retry (gitlab, escapes copied as ^[)
source "$(dirname "$0")/../common.sh"
SRC="$(cd "$(dirname "$0")" && pwd)"
P="$WORK/infra-long" && rm -rf "$P" && mkdir -p "$P" && cd "$P" || exit 1
cp -r "$SRC/../js-long/." "$P/" && cp "$SRC/requirements.txt" "$P/" && rm -rf node_modules
O="$WORK/infra-long-out" && rm -rf "$O" && mkdir -p "$O"

run "$O/npm.txt" npm install --loglevel silly
node gen_suites.js __tests__ 11
pip_noise "$O/pip-ok.txt" pytest
run "$O/versions.txt" bash -c 'python3 -m pip --version && node --version && npm --version'
rm -rf "$WORK/dnsl-venv" && python3 -m venv "$WORK/dnsl-venv"
run "$O/dns.txt" cleanpip "$WORK/dnsl-venv/bin/pip" install --retries 2 --timeout 5 \
    --index-url https://pypi.corp-mirror.invalid/simple -r requirements.txt
run "$O/debug.txt" cleanpip "$WORK/dnsl-venv/bin/pip" debug --verbose
frame infra-dns-long-010 --shape github_actions --job "e2e (ubuntu-latest)" \
    --before "$O/npm.txt" --before-command "npm install --loglevel silly" \
    --before "$O/pip-ok.txt" --before-command "python -m pip install -v pytest" \
    --before "$O/versions.txt" --before-command "python -m pip --version && node --version && npm --version" \
    --command "pip install --retries 2 --timeout 5 --index-url https://pypi.corp-mirror.invalid/simple -r requirements.txt" \
    --exit-code 1 --output "$O/dns.txt" --after "$O/debug.txt"

export CI=true
run "$O/jest.txt" npx jest --ci --verbose -i --testPathIgnorePatterns currency
PORT="$(free_port)"
run "$O/refused.txt" curl -fsS --retry 4 --retry-connrefused --retry-delay 1 \
    "http://127.0.0.1:$PORT/health"
frame infra-refused-long-011 --shape gitlab --job "smoke" --literal-escapes \
    --before "$O/npm.txt" --before-command "npm install --loglevel silly" \
    --before "$O/jest.txt" --before-command "npx jest --ci --verbose -i --testPathIgnorePatterns currency" \
    --command "curl -fsS --retry 4 --retry-connrefused --retry-delay 1 http://127.0.0.1:$PORT/health" \
    --exit-code 7 --output "$O/refused.txt"
