#!/usr/bin/env bash
# Build the rpm test image into OUTDIR, for tests/packages_rpm.rs:
#     tests/images/build-rpm.sh OUTDIR
# Needs root, rpm (rpmbuild; Debian's rpm package, whose rpm writes the sqlite
# database), buildah and skopeo. No network.
#   rpm.tar      docker-archive, two ADD layers laid out as on Fedora
#                (database in /usr/lib/sysimage/rpm, /var/lib/rpm a symlink to it):
#                  layer 0: `rpm -i imgscope-hello` into an empty root
#                  layer 1: then `rpm -i imgscope-tools`: its files and the new database
#   rpm-qa.txt   what rpm itself says of the final database: one line a file,
#                NAME<TAB>EPOCH:VERSION-RELEASE<TAB>PATH (packages without files: no line)
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
OUT=${1:?usage: build-rpm.sh OUTDIR}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
# shellcheck source=lib.sh
source "$HERE/lib.sh"
img_need rpm rpmbuild
[[ $(id -u) == 0 ]] || { echo "run as root (buildah --isolation chroot needs it)" >&2; exit 1; }
img_init

DB=/usr/lib/sysimage/rpm
top=$IMG_WORK/rpmbuild
echo "  rpmbuild imgscope-hello, imgscope-tools" >&2
rpmbuild --quiet --define "_topdir $top" --define "_build_id_links none" \
    -bb "$HERE/src/rpm/hello.spec" >>"$IMG_LOG" 2>&1
r=$IMG_WORK/root
mkdir -p "$r/var/lib" "$r$DB"
ln -s ../../usr/lib/sysimage/rpm "$r/var/lib/rpm"
install_rpm() {
    # Debian's rpm warns that it is not Debian's package manager: expected.
    rpm --root "$r" --dbpath "$DB" --nodeps --ignorearch -i "$1" >>"$IMG_LOG" 2>&1
    rm -f "$r$DB/.rpm.lock" "$r$DB/rpmdb.sqlite-shm"
    # rpm checkpoints on close: the write-ahead log is empty.
    [[ ! -s "$r$DB/rpmdb.sqlite-wal" ]] || { echo "rpm left a write-ahead log" >&2; exit 1; }
    rm -f "$r$DB/rpmdb.sqlite-wal"
}
c=$IMG_WORK/ctx
mkdir -p "$c"
cp "$HERE/src/rpm/Containerfile" "$c/"
install_rpm "$top"/RPMS/noarch/imgscope-hello-1.2-3.noarch.rpm
img_pack "$r" "$c/layer1.tar"
install_rpm "$top"/RPMS/noarch/imgscope-tools-0.9-1.noarch.rpm
# The second layer: the new database and the second package's files.
(cd "$r" && { echo ".${DB}/rpmdb.sqlite"; rpm --root "$r" --dbpath "$DB" -ql imgscope-tools | sed 's|^|.|'; } |
    tar --no-recursion --mtime=@0 --owner=0 --group=0 --numeric-owner --format=gnu -cf "$c/layer2.tar" -T -)
rpm --root "$r" --dbpath "$DB" -qa --qf '[%{=NAME}\t%{=EPOCHNUM}:%{=VERSION}-%{=RELEASE}\t%{FILENAMES}\n]' \
    2>>"$IMG_LOG" | sort >"$OUT/rpm-qa.txt"
IMG_SCOPE=rpm
img_bud overlay rpm "$c"
img_docker_archive overlay rpm "$OUT/rpm.tar"
echo "built $OUT/rpm.tar" >&2
