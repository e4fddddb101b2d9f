# Sourced by bench/instructions and bench/levers (from the project root),
# with $calls the calls to count. It installs valgrind if it is missing,
# builds bench/cmd/calls and bench/cmd/connect-server into $bin (removed on
# exit, with any server left running), and defines count and machine.
if ! command -v valgrind >/dev/null; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq valgrind >/dev/null
fi
bin=$(mktemp -d)
trap 'kill -9 $(jobs -p) 2>/dev/null || true; rm -rf "$bin"' EXIT
(cd bench && go build -o "$bin/connect-server" ./cmd/connect-server && go build -o "$bin/calls" ./cmd/calls)

# machine prints the date, the CPU and Go's version, the first line of a run.
machine() {
  echo "$(date -u +%F), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(go version | cut -d' ' -f3)"
}

# count NAME PORT CALLS-FLAGS -- COMMAND...: prints the instructions per call.
count() {
  local name=$1 port=$2 flags=$3
  shift 4
  # cpu.rdtscp=off: Go's runtime.cputicks uses RDTSCP where the CPU has it, and
  # valgrind 3.19 passes the CPU's flag through but cannot run the instruction
  # (SIGILL, the server dies mid-run); without it the runtime uses RDTSC.
  GODEBUG=asyncpreemptoff=1,cpu.rdtscp=off valgrind --tool=callgrind --callgrind-out-file="$bin/$name.%p" "$@" >"$bin/$name.log" 2>&1 &
  local pid=$!
  # Under valgrind on a loaded machine the server may take minutes to listen.
  "$bin/calls" -url "http://127.0.0.1:$port" -wait 10m -n 800 $flags
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
