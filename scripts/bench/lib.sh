# Shared helpers for the benchmark scripts (sourced, not run).

# Installs Debian packages that provide the given commands, when missing.
# Usage: need_debian COMMAND:PACKAGE...
need_debian() {
  local missing=() pair
  for pair in "$@"; do
    command -v "${pair%%:*}" >/dev/null 2>&1 || missing+=("${pair#*:}")
  done
  if ((${#missing[@]})); then
    local sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    $sudo apt-get update -qq
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
  fi
}

# Builds the release binary and prints its path.
build_fanout() {
  cargo build --release --quiet --bin fanout
  echo "$PWD/target/release/fanout"
}

# Compiles scripts/bench/spawn_floor.c (the least a supervisor can do: posix_spawn and
# waitpid, nothing else) into DIR and prints the binary's path.
# Usage: build_spawn_floor DIR
build_spawn_floor() {
  need_debian gcc:gcc
  gcc -O2 -o "$1/spawn_floor" scripts/bench/spawn_floor.c
  echo "$1/spawn_floor"
}
