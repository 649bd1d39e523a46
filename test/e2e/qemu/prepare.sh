#!/usr/bin/env bash
# Prepares a real Linux kernel and a tiny initramfs for test/e2e/qemu.test.ts.
#
# Usage: prepare.sh CACHE_DIR
# Prints three lines on stdout: the path of vmlinuz, the path of the crashing initramfs, then the
# path of the clean one. Everything else goes to stderr.
#
# The kernel is Debian's cloud kernel and the userland Debian's static busybox, both fetched with
# `apt-get download` (nothing is installed). The initramfs's /init prints LegoOS-like console lines
# through /dev/kmsg, then crashes the kernel with sysrq-c, so the test sees a real kernel's console
# and a real kernel panic. The clean initramfs's /init prints one line and powers off: a whole
# boot with no report in it. Downloads are cached in CACHE_DIR; a warm run only rebuilds the
# (tiny) initramfs, so a change to the script below always takes effect.
set -euo pipefail

cache=${1:?usage: prepare.sh CACHE_DIR}
here=$(cd "$(dirname "$0")" && pwd)
node=${NODE:-node}
mkdir -p "$cache"
cache=$(cd "$cache" && pwd)

if [ ! -s "$cache/vmlinuz" ] || [ ! -s "$cache/busybox" ]; then
  depends() { apt-cache depends linux-image-cloud-amd64 2>/dev/null | sed -n 's/^ *Depends: linux-image-\(.*\)-cloud-amd64$/\1/p' | head -n 1; }
  version=$(depends)
  if [ -z "$version" ]; then
    # A fresh machine has no package lists yet.
    echo "prepare.sh: no package lists, running apt-get update" >&2
    apt-get update -qq >&2
    version=$(depends)
  fi
  if [ -z "$version" ]; then
    echo "prepare.sh: apt-cache knows no linux-image-cloud-amd64" >&2
    exit 1
  fi

  work=$(mktemp -d "$cache/fetch.XXXXXX")
  trap 'rm -rf "$work"' EXIT
  # apt-get download drops privileges to _apt when run as root: let it write here.
  chmod 0777 "$work"
  (cd "$work" && apt-get download -q "linux-image-$version-cloud-amd64" busybox-static >&2)

  mkdir "$work/kernel" "$work/busybox"
  dpkg-deb --fsys-tarfile "$work"/linux-image-"$version"-cloud-amd64_*.deb | tar -x -C "$work/kernel" ./boot
  dpkg-deb --fsys-tarfile "$work"/busybox-static_*.deb | tar -x -C "$work/busybox"
  # By path: the package also ships an initramfs-tools hook file named `busybox`.
  bb=
  for p in bin/busybox usr/bin/busybox; do
    if [ -f "$work/busybox/$p" ]; then bb="$work/busybox/$p"; fi
  done
  if [ -z "$bb" ]; then
    echo "prepare.sh: no busybox binary in busybox-static" >&2
    exit 1
  fi

  # Renamed into place last, so an interrupted run leaves no half-prepared cache behind.
  cp "$bb" "$cache/busybox.tmp"
  chmod 0755 "$cache/busybox.tmp"
  mv "$cache/busybox.tmp" "$cache/busybox"
  cp "$work/kernel/boot/vmlinuz-$version-cloud-amd64" "$cache/vmlinuz.tmp"
  mv "$cache/vmlinuz.tmp" "$cache/vmlinuz"
  echo "$version" >"$cache/version"
fi

# The init script: a M node's thread pool with a queue that stays deep (queue-growth), a P-style
# FIT timeout (rpc-timeout), then a real crash. `<4>` is KERN_WARNING, printed with loglevel=7.
# Only shell builtins and explicit `/bin/busybox APPLET` calls: Debian's busybox sh may not run
# applets by name without /bin links, and --install needs /proc.
cat >"$cache/init.tmp" <<'EOF'
#!/bin/sh
/bin/busybox mount -t proc proc /proc
/bin/busybox mount -t sysfs sysfs /sys
/bin/busybox mount -t devtmpfs devtmpfs /dev
reqs=1000
i=0
while [ "$i" -lt 8 ]; do
  echo "<4>hb: worker[0] max_nr_queued=6 nr_queued=5 in_handler=yes nr_thpool_reqs=$reqs" >/dev/kmsg
  reqs=$((reqs + 7))
  i=$((i + 1))
  /bin/busybox sleep 1
done
echo "<4>ibapi_send_reply() CPU:3 PID:27 timeout (30010 ms), caller: __pcache_do_fill_page+0x7e/0x130" >/dev/kmsg
echo c >/proc/sysrq-trigger
# Not reached: sysrq-c panics the kernel, and panic=-1 with -no-reboot ends QEMU.
/bin/busybox sleep 1000
EOF
mv "$cache/init.tmp" "$cache/init"

"$node" "$here/cpio.mjs" "$cache/initramfs.cpio" "$cache/busybox" "$cache/init"

# -f: straight to the kernel's power-off, which ends QEMU.
cat >"$cache/init-clean.tmp" <<'EOF'
#!/bin/sh
/bin/busybox mount -t proc proc /proc
echo "clean boot: init reached, powering off"
/bin/busybox poweroff -f
EOF
mv "$cache/init-clean.tmp" "$cache/init-clean"
"$node" "$here/cpio.mjs" "$cache/initramfs-clean.cpio" "$cache/busybox" "$cache/init-clean"

echo "$cache/vmlinuz"
echo "$cache/initramfs.cpio"
echo "$cache/initramfs-clean.cpio"
