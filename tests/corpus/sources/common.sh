# Shared by the make.sh scripts of the python/js/shell/infra cases (sourced, not run).
# VENV holds pytest, pytest-timeout, mypy, ruff, black, requests (outside the repo).
set -u
CORPUS="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${CORPUS_VENV:-/tmp/corpusA-venv}"
WORK="${CORPUS_WORK:-/tmp/corpusA-work}"
FRAME="$CORPUS/tools/frame.py"
mkdir -p "$WORK"
if [ ! -x "$VENV/bin/pytest" ]; then
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install -q pytest pytest-timeout mypy ruff black requests
fi
export PATH="$VENV/bin:$PATH"

# frame CASE_ID FRAME_ARGS... : write cases/CASE_ID/raw.log
frame() {
    local case_id="$1"
    shift
    mkdir -p "$CORPUS/cases/$case_id"
    python3 "$FRAME" "$@" > "$CORPUS/cases/$case_id/raw.log"
    wc -l "$CORPUS/cases/$case_id/raw.log"
}

# free_port: print a TCP port nothing listens on
free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Run pip with none of this machine's pip configuration (as a CI runner would).
cleanpip() {
    env -u PIP_FIND_LINKS -u PIP_CERT -u PIP_DEFAULT_TIMEOUT -u PIP_DISABLE_PIP_VERSION_CHECK \
        PIP_CONFIG_FILE=/dev/null PIP_DISABLE_PIP_VERSION_CHECK=1 "$@"
}

# pip_noise OUT PKG... : a real, passing `pip install -v` into a fresh venv (a setup step)
pip_noise() {
    local out="$1"
    shift
    rm -rf "$WORK/noise-venv"
    python3 -m venv "$WORK/noise-venv"
    cleanpip "$WORK/noise-venv/bin/pip" install -v "$@" > "$out" 2>&1
}

# start_server MODE [STATUS] : start infra/servers.py in the background; sets SERVER_PID, PORT
start_server() {
    local pf="$WORK/port.$$.$RANDOM"
    python3 "$CORPUS/sources/infra/servers.py" "$1" "$pf" "${2:-503}" &
    SERVER_PID=$!
    for _ in $(seq 50); do [ -s "$pf" ] && break; sleep 0.1; done
    PORT="$(cat "$pf")"
    rm -f "$pf"
}
stop_server() { kill "$SERVER_PID" 2>/dev/null; wait "$SERVER_PID" 2>/dev/null; }

# run OUT CMD... : run CMD with stdout+stderr to OUT; its exit status is left in RC
run() {
    local out="$1"
    shift
    "$@" > "$out" 2>&1
    RC=$?
}
