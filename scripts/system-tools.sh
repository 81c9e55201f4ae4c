#!/usr/bin/env bash
# The system tools the tests run for real: redis-server (the shared rate limit), nginx with its RTMP module and
# ffmpeg (the end-to-end stream test), chromium (the core in a browser page, driven by playwright-core). Installs
# the missing ones from Debian (apt-get, as root or with sudo), so that the test command works on a fresh machine
# with only Node.js and npm. (Bun, Deno and workerd come from npm, as devDependencies of packages/runtimes.)
set -euo pipefail

missing=()
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || missing+=(nginx)
[ -e /usr/lib/nginx/modules/ngx_rtmp_module.so ] || missing+=(libnginx-mod-rtmp)
command -v ffmpeg >/dev/null 2>&1 || missing+=(ffmpeg)
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
[ ${#missing[@]} -eq 0 ] && exit 0

if ! command -v apt-get >/dev/null 2>&1; then
  echo "The tests need: ${missing[*]} (Debian package names). Install them, then run the tests again." >&2
  exit 1
fi
sudo_cmd=()
[ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
echo "installing ${missing[*]} from Debian for the tests" >&2
"${sudo_cmd[@]}" apt-get update -qq
DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
