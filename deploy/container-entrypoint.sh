#!/bin/sh
# Container entry point: a fresh volume is mounted owned by root, so hand the workdir to the mtor
# user, install the push key (if one was mounted) where ssh accepts it, then run the command as
# that user with the environment (secrets included) kept.
set -eu
WORKDIR=/var/lib/mtor
KEY=/etc/mtor/ssh/id_ed25519
if [ "$(id -u)" = 0 ]; then
  if [ "$(stat -c %u "$WORKDIR")" != "$(id -u mtor)" ]; then
    chown -R mtor:mtor "$WORKDIR"
  fi
  if [ -f "$KEY" ]; then
    # ssh refuses a key others can read; the mounted file's mode is not ours to choose.
    install -d -m 0700 -o mtor -g mtor "$WORKDIR/.ssh"
    install -m 0600 -o mtor -g mtor "$KEY" "$WORKDIR/.ssh/id_ed25519"
  fi
  export HOME="$WORKDIR"
  exec setpriv --reuid=mtor --regid=mtor --init-groups -- "$@"
fi
exec "$@"
