# Shared helpers for the native-ecosystem make.sh scripts (rust, go, java, c/c++, ruby, php,
# perl, erlang). Source it; then:
#   capture FILE CMD...      run CMD with stdout+stderr merged into FILE, set $rc to its exit
#   frame_case ID ARGS...    run tools/frame.py ARGS and write cases/ID/raw.log
set -u
CORPUS="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
FRAME="$CORPUS/tools/frame.py"
PYTHON="${PYTHON:-python3}"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"

capture() {
    local out="$1"
    shift
    set +e
    "$@" >"$out" 2>&1
    rc=$?
    set -e
}

frame_case() {
    local id="$1"
    shift
    mkdir -p "$CORPUS/cases/$id"
    "$PYTHON" "$FRAME" "$@" >"$CORPUS/cases/$id/raw.log"
    echo "$id: $(wc -l <"$CORPUS/cases/$id/raw.log") lines, $(wc -c <"$CORPUS/cases/$id/raw.log") bytes"
}

# stage DEST: copy the current directory (without build outputs) to DEST, as a CI checkout
# would lay it, and cd there. The copy is removed on exit.
stage() {
    local dest="$1"
    rm -rf "$dest"
    mkdir -p "$dest"
    tar --exclude=target --exclude='*.o' --exclude=build --exclude=make.sh -cf - . | tar -C "$dest" -xf -
    STAGED="$dest"
    trap 'rm -rf "$WORK" "$STAGED"' EXIT
    cd "$dest"
}
