#!/usr/bin/env bash
# Real photos for tests and benchmarks, taken from Debian packages with `apt-get download` and
# `dpkg-deb -x` (nothing is installed). Idempotent: does nothing when the photos are present.
#   dogs.jpg       libdlib19.1 examples: four dogs
#   puppy.jpg      gnome-control-center-data: a puppy face (small)
#   astronaut.png  python3-skimage data: a person (Eileen Collins)
#   chelsea.png    python3-skimage data: a cat
#   coffee.png     python3-skimage data: a cup of coffee
set -euo pipefail
dest="${1:-$(dirname "$0")/../test/fixtures/photos}"
mkdir -p "$dest"
dest=$(cd "$dest" && pwd)
want=(dogs.jpg puppy.jpg astronaut.png chelsea.png coffee.png)
missing=0
for f in "${want[@]}"; do [ -s "$dest/$f" ] || missing=1; done
[ "$missing" = 0 ] && exit 0

command -v apt-get >/dev/null || { echo "fetch-photos: apt-get not found; copy ${want[*]} into $dest by hand" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
if ! apt-get download libdlib19.1 gnome-control-center-data python3-skimage >/dev/null 2>&1; then
  # a fresh machine has no package lists yet
  apt-get update -qq >/dev/null 2>&1 || true
  apt-get download libdlib19.1 gnome-control-center-data python3-skimage >/dev/null
fi
for deb in *.deb; do dpkg-deb -x "$deb" x; done
cp x/usr/share/doc/libdlib19.1/examples/faces/dogs.jpg "$dest/dogs.jpg"
cp -L x/usr/share/pixmaps/faces/puppy.jpg "$dest/puppy.jpg"
for f in astronaut.png chelsea.png coffee.png; do cp x/usr/lib/python3/dist-packages/skimage/data/$f "$dest/$f"; done
echo "fetch-photos: ${want[*]} -> $dest"
