#!/usr/bin/env bash
# Real speech recordings for tests, taken from Debian's pocketsphinx-testdata package (BSD) with
# `apt-get download` and `dpkg-deb -x` (nothing is installed). Idempotent: does nothing when the
# files are present.
#   goforward.raw           "go forward ten meters": 16 kHz mono 16-bit little-endian PCM, no header
#   austen-0880.wav         LibriVox, Sense and Sensibility ch. 1: "he was not an ill disposed young man"
#   austen-0920.wav         "had he married a more amiable woman he might have been made still more
#                           respectable than he was" (16 kHz mono 16-bit WAV)
#   librivox-transcription  the reference transcripts of the LibriVox clips, as the package ships them
set -euo pipefail
dest="${1:-$(dirname "$0")/../test/fixtures/audio}"
mkdir -p "$dest"
dest=$(cd "$dest" && pwd)
want=(goforward.raw austen-0880.wav austen-0920.wav librivox-transcription)
missing=0
for f in "${want[@]}"; do [ -s "$dest/$f" ] || missing=1; done
[ "$missing" = 0 ] && exit 0

command -v apt-get >/dev/null || { echo "fetch-audio: apt-get not found; copy ${want[*]} into $dest by hand" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
if ! apt-get download pocketsphinx-testdata >/dev/null 2>&1; then
  # a fresh machine has no package lists yet
  apt-get update -qq >/dev/null 2>&1 || true
  apt-get download pocketsphinx-testdata >/dev/null
fi
dpkg-deb -x pocketsphinx-testdata_*.deb x
data=x/usr/share/pocketsphinx/test/data
cp "$data/goforward.raw" "$dest/goforward.raw"
cp "$data/librivox/sense_and_sensibility_01_austen_64kb-0880.wav" "$dest/austen-0880.wav"
cp "$data/librivox/sense_and_sensibility_01_austen_64kb-0920.wav" "$dest/austen-0920.wav"
cp "$data/librivox/transcription" "$dest/librivox-transcription"
echo "fetch-audio: ${want[*]} -> $dest"
