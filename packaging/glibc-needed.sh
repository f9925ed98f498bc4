#!/usr/bin/env bash
# The highest glibc symbol version any ELF file under a folder needs, and
# which files need it (objdump -T over every ELF: executables and libraries).
#   packaging/glibc-needed.sh dist/triage-desk [MAX]
# With MAX (e.g. 2.31), exits 1 when something needs a newer glibc, listing it.
set -euo pipefail
folder=$1 max=${2:-}
needs=$(mktemp)
trap 'rm -f "$needs"' EXIT
while IFS= read -r -d '' file; do
  [ "$(head -c4 "$file" | od -An -c | tr -d ' ')" = '177ELF' ] || continue
  objdump -T "$file" 2>/dev/null | grep -o 'GLIBC_[0-9][0-9.]*' | sort -u |
    sed "s#^GLIBC_#&#; s#\$# ${file#"$folder"/}#" >>"$needs" || true
done < <(find "$folder" -type f -print0)
highest=$(cut -d' ' -f1 "$needs" | sed 's/GLIBC_//' | sort -V | tail -1)
echo "highest glibc symbol version needed: GLIBC_$highest ($(cut -d' ' -f2 "$needs" | sort -u | wc -l) ELF files)"
if [ -n "$max" ]; then
  newer=$(awk -v max="$max" '{v=$1; sub("GLIBC_","",v); print v, $2}' "$needs" |
    while read -r v f; do [ "$(printf '%s\n%s\n' "$v" "$max" | sort -V | tail -1)" = "$max" ] || echo "  GLIBC_$v $f"; done | sort -u)
  if [ -n "$newer" ]; then
    echo "needs a glibc newer than $max:"; echo "$newer" | sort -V | head -40
    exit 1
  fi
  echo "every ELF file runs on glibc $max"
fi
