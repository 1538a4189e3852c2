#!/usr/bin/env bash
# Install the Debian packages named on the command line when their command is missing.
# Each argument is PACKAGE or PACKAGE:COMMAND (the command whose presence proves the package is there).
set -euo pipefail
missing=()
for spec in "$@"; do
  package=${spec%%:*}
  command=${spec#*:}
  if [ "$command" = "$spec" ]; then
    dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package")
  else
    command -v "$command" >/dev/null 2>&1 || [ -x "$command" ] || missing+=("$package")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
  echo "error: missing Debian packages: ${missing[*]} (install them with: sudo apt-get install ${missing[*]})" >&2
  exit 1
fi
echo "Installing Debian packages: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
