// Writes the test kernel's initramfs as a newc cpio archive, so the e2e test needs no `cpio` package.
// Usage: node cpio.mjs OUT BUSYBOX INIT [FILE...]
// The archive holds /bin/busybox, /bin/sh -> busybox, the /init script, the mount points and a
// /dev/console node: the kernel unpacks the archive as root, so it creates the device node we could
// not create here without root, and init gets a console for its stdio. Each further FILE (a kernel
// module, say) goes under /lib by its base name.
import { readFileSync, renameSync, writeFileSync } from "node:fs";
import { basename } from "node:path";

const [out, busybox, init, ...extra] = process.argv.slice(2);
if (!out || !busybox || !init) {
  console.error("usage: node cpio.mjs OUT BUSYBOX INIT [FILE...]");
  process.exit(2);
}

const S_IFDIR = 0o040000;
const S_IFREG = 0o100000;
const S_IFLNK = 0o120000;
const S_IFCHR = 0o020000;

const parts = [];
let ino = 1;
let size = 0;

function push(buf) {
  parts.push(buf);
  size += buf.length;
}

/** Pads the archive to a multiple of 4 bytes, as newc wants after each name and each file body. */
function pad4() {
  const n = (4 - (size % 4)) % 4;
  if (n > 0) push(Buffer.alloc(n));
}

function entry(name, mode, data = Buffer.alloc(0), rdev = [0, 0]) {
  const hex = (v) => v.toString(16).padStart(8, "0");
  const nameBuf = Buffer.from(`${name}\0`);
  const fields = [
    ino++,
    mode,
    0, // uid
    0, // gid
    (mode & 0o170000) === S_IFDIR ? 2 : 1, // nlink
    0, // mtime: fixed, so the archive is the same on every run
    data.length,
    0, // devmajor
    0, // devminor
    rdev[0],
    rdev[1],
    nameBuf.length,
    0, // check (unused by newc)
  ];
  push(Buffer.from(`070701${fields.map(hex).join("")}`, "ascii"));
  push(nameBuf);
  pad4();
  push(data);
  pad4();
}

for (const dir of ["bin", "dev", "lib", "proc", "sys", "tmp"]) entry(dir, S_IFDIR | 0o755);
entry("dev/console", S_IFCHR | 0o600, undefined, [5, 1]);
entry("bin/busybox", S_IFREG | 0o755, readFileSync(busybox));
entry("bin/sh", S_IFLNK | 0o777, Buffer.from("busybox"));
entry("init", S_IFREG | 0o755, readFileSync(init));
for (const file of extra) entry(`lib/${basename(file)}`, S_IFREG | 0o644, readFileSync(file));
entry("TRAILER!!!", 0);

// Written beside the target and renamed, so a concurrent run never boots a half-written archive.
const tmp = `${out}.${process.pid}.tmp`;
writeFileSync(tmp, Buffer.concat(parts));
renameSync(tmp, out);
