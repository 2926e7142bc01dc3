# Sourced by setup.sh and test.sh. Inside a plain chroot (a build chroot, a debootstrap check) "/" is not a
# mount point, and runc depends on it twice: it makes the container's "/" a slave mount (EINVAL when "/" is
# no mount), and `runc exec` enters the container's mount namespace with setns(), which puts the new
# process at the namespace's top root mount, not at the caller's chroot; the container's root is only
# found there if it sits on top of the namespace's own "/". A bind mount of the chroot at some
# subdirectory is not enough: containers start, but every `runc exec` lands in the host's tree.
#
# So here, in a mount namespace of our own made private, the chroot is bind-mounted and that mount is
# moved onto the namespace's real "/" (what switch_root does), then the calling script is re-run inside it.
# Reaching the real "/" from inside a chroot takes the classic step out of it (a chroot below the working
# directory, then ".." up to the top), done in perl because perl-base is in every Debian; the mount itself
# is made by the chroot's own mount(8), through /proc/self/fd paths. On a normal machine none of this runs.
if ! mountpoint -q / && [ -z "${CSHIM_REROOTED:-}" ]; then
  cshim_root=$(mktemp -d /tmp/cshim-root.XXXXXX)
  exec unshare --mount --propagation unchanged /usr/bin/perl -e '
    use strict;
    my ($new, $dir, @cmd) = @ARGV;
    $^F = 1000;  # the fds below must survive the exec of mount(8)
    open(my $oldfd, "<", "/") or die "reroot: /: $!\n";       # the chroot
    my $step = "/.cshim-reroot.$$";
    mkdir $step or die "reroot: $step: $!\n";
    chroot $step or die "reroot: chroot: $!\n";                # the working directory is now outside the root
    chdir ".." for 1 .. 256;
    chroot "." or die "reroot: chroot to the real root: $!\n";
    open(my $realfd, "<", "/") or die "reroot: real /: $!\n";
    chdir $oldfd or die "reroot: back to the chroot: $!\n";
    chroot "." or die "reroot: chroot back: $!\n";
    rmdir $step;
    my $real = "/proc/self/fd/" . fileno($realfd);
    # Private from the real "/" down before anything is mounted (unshare cannot do it: the chroot'"'"'s "/" is
    # no mount), so nothing propagates out and the move below is allowed.
    system("mount", "--no-canonicalize", "--make-rprivate", $real) == 0
      or die "reroot: mount --make-rprivate of the real / failed\n";
    system("mount", "--rbind", "/", $new) == 0 or die "reroot: bind mount of / failed\n";
    chdir $new or die "reroot: $new: $!\n";
    open(my $newfd, "<", ".") or die "reroot: $new: $!\n";    # the bind mount'"'"'s root
    system("mount", "--no-canonicalize", "--move", "/proc/self/fd/" . fileno($newfd), $real) == 0
      or die "reroot: moving the bind mount onto / failed\n";
    chdir $newfd or die "reroot: into the new root: $!\n";
    chroot "." or die "reroot: chroot into the new root: $!\n";
    close $_ for $newfd, $oldfd, $realfd;
    chdir $dir or die "reroot: $dir: $!\n";
    $ENV{CSHIM_REROOTED} = 1;
    exec { $cmd[0] } @cmd or die "reroot: exec $cmd[0]: $!\n";
  ' "$cshim_root" "$PWD" /bin/bash "$0" "$@"
fi
