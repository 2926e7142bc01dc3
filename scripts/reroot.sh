# Sourced by setup.sh and test.sh. runc makes the container's "/" a slave mount, which fails with EINVAL
# when "/" is not a mount point — the case inside a plain chroot (a build chroot, a debootstrap check).
# There, re-run the calling script in a private mount namespace, chrooted into a bind mount of "/", where
# "/" is a mount point. ("/" of a chroot is not a mount point, so unshare cannot change its propagation:
# the bind mount is made private instead.) On a normal machine this does nothing.
if ! mountpoint -q / && [ -z "${CSHIM_REROOTED:-}" ]; then
  cshim_root=$(mktemp -d /tmp/cshim-root.XXXXXX)
  exec unshare --mount --propagation unchanged /bin/bash -c '
    set -e
    root=$0 dir=$1
    shift
    mount --rbind / "$root"
    mount --make-rprivate "$root"
    exec chroot "$root" /usr/bin/env CSHIM_REROOTED=1 /bin/bash -c "cd \"\$0\" && exec \"\$@\"" "$dir" "$@"
  ' "$cshim_root" "$PWD" "$0" "$@"
fi
