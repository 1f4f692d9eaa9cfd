#!/usr/bin/env bash
# Regenerates the provoked-fault cases: infra-dns-001..003, infra-refused-001, infra-reset-001,
#   infra-http503-001..002, infra-timeout-001 (curl), infra-timeout-002 (requests),
#   infra-jobtimeout-001, infra-git403-001, infra-eacces-001
source "$(dirname "$0")/../common.sh"
SRC="$(cd "$(dirname "$0")" && pwd)"
P="$WORK/infra-app" && rm -rf "$P" && cp -r "$SRC/app" "$P" && cd "$P" || exit 1
O="$WORK/infra-out" && rm -rf "$O" && mkdir -p "$O"
NPM_FAST=(--fetch-retries=1 --fetch-retry-mintimeout=500 --fetch-retry-maxtimeout=1000)
pip_noise "$O/setup.txt" requests pytest
(npm install --loglevel verbose > "$O/npm-ok.txt" 2>&1; rm -rf node_modules package-lock.json)

# DNS: curl in a setup script, pip and npm against mirrors whose names do not resolve
printf 'set -e\necho "fetching protoc 29.3"\ncurl -fsSL -o protoc.zip %s\nunzip -q protoc.zip -d "$HOME/.local"\n' \
    "https://artifacts.corp-mirror.invalid/protobuf/v29.3/protoc-29.3-linux-x86_64.zip" > "$O/dns.sh"
bash "$O/dns.sh" > "$O/dns1.txt" 2>&1
frame infra-dns-001 --shape github_actions --job "build (ubuntu-latest)" \
    --before "$O/setup.txt" --before-command "python -m pip install -v requests pytest" \
    --command "./ci/install-protoc.sh" --exit-code 6 --output "$O/dns1.txt"
rm -rf "$WORK/dns-venv" && python3 -m venv "$WORK/dns-venv"
cleanpip "$WORK/dns-venv/bin/pip" install --retries 2 --timeout 5 \
    --index-url https://pypi.corp-mirror.invalid/simple requests > "$O/dns2.txt" 2>&1
frame infra-dns-002 --shape jenkins --job "Install" \
    --command "pip install --retries 2 --timeout 5 --index-url https://pypi.corp-mirror.invalid/simple requests" \
    --exit-code 1 --output "$O/dns2.txt"
npm install --loglevel verbose --registry https://registry.corp-mirror.invalid/ "${NPM_FAST[@]}" \
    > "$O/dns3.txt" 2>&1
rm -rf node_modules package-lock.json
frame infra-dns-003 --shape buildkite --job "npm ci" \
    --command "npm install --loglevel verbose --registry https://registry.corp-mirror.invalid/" \
    --exit-code 1 --output "$O/dns3.txt"

# connection refused: nothing listens on the mirror's port
PORT="$(free_port)"
cleanpip "$WORK/dns-venv/bin/pip" install --retries 3 --timeout 5 \
    --index-url "http://127.0.0.1:$PORT/simple" requests pytest > "$O/refused.txt" 2>&1
frame infra-refused-001 --shape circleci --job "install" \
    --command "pip install --retries 3 --timeout 5 --index-url http://127.0.0.1:$PORT/simple requests pytest" \
    --exit-code 1 --output "$O/refused.txt"

# connection reset: the server closes with RST after reading the request
start_server rst
curl -fsS -v -o artifact.tar.gz "http://127.0.0.1:$PORT/builds/4812/artifact.tar.gz" > "$O/reset.txt" 2>&1
stop_server
frame infra-reset-001 --shape github_actions_plain --job "deploy" \
    --command "curl -fsS -v -o artifact.tar.gz http://127.0.0.1:$PORT/builds/4812/artifact.tar.gz" \
    --exit-code 56 --output "$O/reset.txt"

# 5xx from the package mirror, to pip and to npm
start_server status 503
cleanpip "$WORK/dns-venv/bin/pip" install -vv --retries 2 --index-url "http://127.0.0.1:$PORT/simple" \
    requests > "$O/503pip.txt" 2>&1
frame infra-http503-001 --shape github_actions --job "test (3.11)" \
    --before "$O/setup.txt" --before-command "python -m pip install -v requests pytest" \
    --command "pip install -vv --retries 2 --index-url http://127.0.0.1:$PORT/simple requests" \
    --exit-code 1 --output "$O/503pip.txt" --after "$O/setup.txt"
npm install --loglevel verbose --registry "http://127.0.0.1:$PORT/" "${NPM_FAST[@]}" > "$O/503npm.txt" 2>&1
rm -rf node_modules package-lock.json
stop_server
frame infra-http503-002 --shape gitlab --job "install" \
    --command "npm install --loglevel verbose --registry http://127.0.0.1:$PORT/" \
    --exit-code 1 --output "$O/503npm.txt"

# read timeouts against a server that accepts and never answers
start_server silent
curl -fsS --max-time 5 -o rates.json "http://127.0.0.1:$PORT/v1/rates?base=EUR" > "$O/curlto.txt" 2>&1
frame infra-timeout-001 --shape jenkins --job "Fetch rates" \
    --command "curl -fsS --max-time 5 -o rates.json 'http://127.0.0.1:$PORT/v1/rates?base=EUR'" \
    --exit-code 28 --output "$O/curlto.txt"
"$VENV/bin/python" fetch_rates.py "http://127.0.0.1:$PORT" > "$O/reqto.txt" 2>&1
stop_server
frame infra-timeout-002 --shape circleci --job "report" \
    --before "$O/setup.txt" --before-command "pip install -v requests pytest" \
    --command "python fetch_rates.py http://127.0.0.1:$PORT" --exit-code 1 --output "$O/reqto.txt"

# job timeout: a lock-order deadlock hangs the suite until `timeout` ends it
timeout 5 python3 -m unittest -v test_transfer > "$O/jobto.txt" 2>&1
echo "rc=$?" >&2
frame infra-jobtimeout-001 --shape github_actions --job "unit" \
    --command "timeout 5 python -m unittest -v test_transfer" --exit-code 124 --output "$O/jobto.txt"

# HTTP 403 to git push
start_server status 403
rm -rf "$WORK/repo" && git init -q "$WORK/repo" && cd "$WORK/repo" || exit 1
git -c user.email=ci@example.com -c user.name=ci commit -q --allow-empty -m "release 1.4.2"
GIT_TERMINAL_PROMPT=0 git push "http://127.0.0.1:$PORT/example/project.git" HEAD:refs/heads/release \
    > "$O/git403.txt" 2>&1
stop_server
cd "$P" || exit 1
frame infra-git403-001 --shape plain --job "release" \
    --command "git push http://127.0.0.1:$PORT/example/project.git HEAD:refs/heads/release" \
    --exit-code 128 --output "$O/git403.txt"

# EACCES: a global npm install as an unprivileged user
mkdir -p "$WORK/nobody-home" && chown nobody "$WORK/nobody-home"
setpriv --reuid=nobody --regid=nogroup --clear-groups env HOME="$WORK/nobody-home" \
    npm install -g --loglevel verbose left-pad > "$O/eacces.txt" 2>&1
frame infra-eacces-001 --shape github_actions --job "tools" \
    --before "$O/npm-ok.txt" --before-command "npm install --loglevel verbose" \
    --command "npm install -g --loglevel verbose left-pad" --exit-code 243 --output "$O/eacces.txt"
