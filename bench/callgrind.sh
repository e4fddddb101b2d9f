# Sourced by bench/instructions and bench/levers (from the project root),
# with $bin holding the built calls command and $calls the calls to count.
# It installs valgrind if it is missing.
if ! command -v valgrind >/dev/null; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq valgrind >/dev/null
fi

# count NAME PORT CALLS-FLAGS -- COMMAND...: prints the instructions per call.
count() {
  local name=$1 port=$2 flags=$3
  shift 4
  GODEBUG=asyncpreemptoff=1 valgrind --tool=callgrind --callgrind-out-file="$bin/$name.%p" "$@" >"$bin/$name.log" 2>&1 &
  local pid=$!
  "$bin/calls" -url "http://127.0.0.1:$port" -n 800 $flags
  callgrind_control -z "$pid" >/dev/null 2>&1
  "$bin/calls" -url "http://127.0.0.1:$port" -n "$calls" $flags
  callgrind_control -d "$pid" >/dev/null 2>&1
  sleep 1
  kill -9 "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  local total
  total=$(grep -h '^summary:' "$bin/$name.$pid".* | tail -1 | cut -d' ' -f2)
  echo $((total / calls))
}
