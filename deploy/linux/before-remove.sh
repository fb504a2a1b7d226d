#!/bin/sh
# prerm of the Backroom desktop .deb (electron-builder.yml passes it to fpm as --before-remove).
#
# Before the package is removed, asks the installed app's CLI, for every user who has a desktop config
# (~/.config/Backroom/backroom.json), what would be abandoned: events not yet sent, problems still open. It runs as
# that user (never root: root would leave root-owned SQLite files in their data folder) and as plain Node
# (ELECTRON_RUN_AS_NODE=1). Package removal is not interactive, so this only prints the warning, with the
# `backroom export --unsynced` command; it never fails the removal. The data folder is not deleted.
#
# The BACKROOM_* variables below exist for the test (test/unit/desktop-uninstall.test.ts); dpkg sets none of them.
set -u

# prerm is called with "remove", "upgrade", "deconfigure" or "failed-upgrade": only a removal abandons anything.
[ "${1:-}" = remove ] || exit 0

app_dir=/opt/Backroom
exe="${BACKROOM_EXE:-$app_dir/backroom}"
cli="${BACKROOM_CLI:-$app_dir/resources/app.asar/dist/src-main/cli/index.js}"
homes="${BACKROOM_HOMES:-/root /home/*}"

[ -x "$exe" ] || exit 0

for home in $homes; do
  config="$home/.config/Backroom/backroom.json"
  [ -f "$config" ] || continue
  owner=$(stat -c %U "$config")
  if [ "$(id -u)" = 0 ] && [ "$owner" != root ]; then
    out=$(runuser -u "$owner" -- env ELECTRON_RUN_AS_NODE=1 timeout 60 "$exe" "$cli" unsynced --config "$config" 2>&1)
  else
    out=$(env ELECTRON_RUN_AS_NODE=1 timeout 60 "$exe" "$cli" unsynced --config "$config" 2>&1)
  fi
  code=$?
  case $code in
    0) ;;
    3)
      printf '\nWARNING: Backroom (%s) has not finished its work:\n%s\n\n' "$owner" "$out" >&2
      ;;
    *)
      printf '\nWARNING: Backroom could not check %s for unsent events (exit %s):\n%s\n\n' "$config" "$code" "$out" >&2
      ;;
  esac
done
exit 0
