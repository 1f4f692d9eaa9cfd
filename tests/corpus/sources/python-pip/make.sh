#!/usr/bin/env bash
# Regenerates python-pip-conflict-001 and python-pip-nomatch-001 against a local index of
# tiny wheels (mkwheels.py) served by `python -m http.server`.
source "$(dirname "$0")/../common.sh"
SRC="$(cd "$(dirname "$0")" && pwd)"
O="$WORK/python-pip-out" && rm -rf "$O" "$WORK/index" && mkdir -p "$O"
python3 "$SRC/mkwheels.py" "$WORK/index"
PORT="$(free_port)"
(cd "$WORK/index" && exec python3 -m http.server "$PORT" --bind 127.0.0.1 > "$O/http.log" 2>&1) &
HTTP_PID=$!
sleep 1
cp "$SRC"/requirements-*.txt "$O/"
pip_noise "$O/tools.txt" pip setuptools wheel pytest
rm -rf "$WORK/pip-venv" && python3 -m venv "$WORK/pip-venv"
cd "$O" || exit 1
cleanpip "$WORK/pip-venv/bin/pip" install -v --index-url "http://127.0.0.1:$PORT/" \
    -r requirements-conflict.txt > "$O/conflict.txt" 2>&1
cleanpip "$WORK/pip-venv/bin/pip" install --index-url "http://127.0.0.1:$PORT/" \
    -r requirements-nomatch.txt > "$O/nomatch.txt" 2>&1
kill "$HTTP_PID"
frame python-pip-conflict-001 --shape github_actions --job "install (3.11)" \
    --before "$O/tools.txt" --before-command "python -m pip install -v --upgrade pip setuptools wheel pytest" \
    --command "pip install -v --index-url http://127.0.0.1:$PORT/ -r requirements-conflict.txt" \
    --exit-code 1 --output "$O/conflict.txt"
frame python-pip-nomatch-001 --shape plain --job "install" --before "$O/tools.txt" \
    --before-command "python -m pip install -v --upgrade pip setuptools wheel pytest" \
    --command "pip install --index-url http://127.0.0.1:$PORT/ -r requirements-nomatch.txt" \
    --exit-code 1 --output "$O/nomatch.txt"
