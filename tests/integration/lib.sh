# Sourced by the integration scripts in this folder.
#   it_init NAME  makes $tmp (a temp dir) and $pids (background processes to kill),
#                 both cleaned up on exit
#   free_port     prints a loopback TCP port that was free a moment ago

it_init() {
  tmp=$(mktemp -d "/tmp/$1_XXXXXX")
  pids=()
  trap it_cleanup EXIT
}

it_cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$tmp"
}

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
