#!/bin/sh
# Builds bin/ossd_<version>_<arch>.deb with dpkg-deb from `make install`
# into a staging tree. Binaries are static (CGO_ENABLED=0): the package
# depends on nothing.
set -eu
out=${1:-bin}
cd "$(dirname "$0")/../.."
arch=$(dpkg --print-architecture)
rev=$(git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)
version=${DEB_VERSION:-$(git describe --tags --match 'v[0-9]*' 2>/dev/null | sed 's/^v//; s/-/+git/; s/-/./g')}
[ -n "$version" ] || version="0.0.0+git${rev}"
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
chmod 0755 "$stage"
make install DESTDIR="$stage" PREFIX=/usr UNITDIR=/usr/lib/systemd/system >/dev/null
for b in "$stage"/usr/bin/*; do
	if go version -m "$b" | grep -q 'CGO_ENABLED=1'; then
		echo "$b is not a static build" >&2
		exit 1
	fi
done
mkdir -p "$stage/DEBIAN"
size=$(du -sk "$stage/usr" "$stage/etc" | awk '{s += $1} END {print s}')
cat >"$stage/DEBIAN/control" <<CONTROL
Package: ossd
Version: $version
Architecture: $arch
Maintainer: ossd developers <ossd@localhost>
Installed-Size: $size
Section: admin
Priority: optional
Homepage: https://github.com/ossd/ossd
Description: local credential daemon for Alibaba Cloud
 ossd holds a source credential, assumes RAM roles through STS, caches and
 renews one token per role and serves them to local processes over a Unix
 socket, an ECS-metadata-compatible endpoint and a credentials URI.
 Built from revision $rev.
CONTROL
echo /etc/ossd/ossd.toml.example >"$stage/DEBIAN/conffiles"
install -m 0755 packaging/deb/postinst packaging/deb/prerm packaging/deb/postrm "$stage/DEBIAN/"
mkdir -p "$out"
deb="$out/ossd_${version}_${arch}.deb"
dpkg-deb --root-owner-group --build "$stage" "$deb" >/dev/null
echo "$deb"
