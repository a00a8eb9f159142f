#!/usr/bin/env bash
# Checks with the real AppArmor compiler whether container profiles stay within
# the sVirt parent models/svirt/libvirt-qemu.aa.
#
# Usage, from the repository root:
#   models/verify-with-apparmor_parser.sh [CHILD.aa ...]
# Without arguments it checks models/containers/vm-agent-within.aa (expected OK)
# and models/containers/vm-agent-expands.aa (expected DIFFERS), and exits 0 only
# if both give the expected verdict.
#
# Environment: APPARMOR_PARSER (default: apparmor_parser, 3.0.8 was used),
# AA_FEATURES (features file passed with -M; default: features.all from the
# AppArmor 3.0.8 parser tests in corpus/), AA_TIMEOUT (seconds, default 60).
#
# Method: byte-identical `apparmor_parser -S` output.
#   paste  P' = the parent P with the child's allow rules pasted at the end of
#          its body. compile(P') == compile(P) iff every permission the child
#          allows, less what P denies, is already allowed by P.
#   denies A  = P's preamble and head with only the child's allow rules as body;
#          A' = A plus every deny rule of P, rewritten as "audit deny".
#          compile(A') == compile(A) iff no permission the child allows is
#          denied by P. ("audit deny" of an ungranted permission leaves the
#          blob unchanged; a plain "deny" does not, it sets quiet bits.)
#   OK needs both. Not pasted: the child's own deny rules and exec rules that
#   name a target (px/cx/pix/cux..., "-> NAME"); the child must not use audit.
#   For a DIFFERS verdict the script names the child lines that change P on
#   their own and the parent deny rules that the child runs into.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(dirname "$here")
parent=$here/svirt/libvirt-qemu.aa
incdir=$here/apparmor.d

parser=${APPARMOR_PARSER:-$(command -v apparmor_parser || echo /usr/sbin/apparmor_parser)}
limit=${AA_TIMEOUT:-60}
if [[ -z ${AA_FEATURES:-} ]]; then
  for f in "$root/corpus/apparmor/parser-tests-3.0.8/features_files/features.all" \
           /work/shared/corpus/apparmor/parser-tests-3.0.8/features_files/features.all; do
    if [[ -f $f ]]; then AA_FEATURES=$f; break; fi
  done
fi
if [[ -z ${AA_FEATURES:-} || ! -f $AA_FEATURES ]]; then
  echo "no features file: set AA_FEATURES to a file from parser-tests-*/features_files/" >&2
  exit 2
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir "$work/base"   # empty base dir: every include must resolve in models/apparmor.d

# compile FILE OUT: binary policy of FILE to OUT; stderr kept in OUT.err
compile() {
  timeout -k 5 "$limit" "$parser" -Q -K -S -M "$AA_FEATURES" --config-file=/dev/null \
    -b "$work/base" -I "$incdir" "$1" > "$2" 2> "$2.err"
}

# Allow rules of the child's (first) profile body, one per line as "LINENO<TAB>RULE".
child_allow_rules() {
  awk '
    function trim(s) { sub(/^[ \t]+/, "", s); sub(/[ \t]+$/, "", s); return s }
    !inbody && /^[ \t]*(profile[ \t]|\/).*\{[ \t]*(#.*)?$/ { inbody = 1; next }
    inbody && /^\}/ { exit }
    inbody {
      line = $0
      if (line ~ /^[ \t]*#[ \t]*include[ \t]/ || line ~ /^[ \t]*include[ \t]/) { print NR "\t" trim(line); next }
      sub(/(^|[ \t])#.*$/, "", line)
      line = trim(line)
      if (line == "") next
      if (line ~ /^audit[ \t]/) { print "audit rules are not supported: line " NR > "/dev/stderr"; exit 3 }
      if (line ~ /^(deny)[ \t]/) next
      if (line ~ /->/) next
      if (match(line, /[ \t][rwalkmixXuUpPcCI]+[ \t]*,$/)) {
        mode = substr(line, RSTART, RLENGTH)
        if (mode ~ /[pPcC]/ && mode ~ /[xX]/) next
      }
      print NR "\t" line
    }
  ' "$1"
}

# Deny rules of the parent, includes expanded, rewritten as "audit deny".
parent_denies() {
  timeout -k 5 "$limit" "$parser" -p -M "$AA_FEATURES" --config-file=/dev/null \
    -b "$work/base" -I "$incdir" "$parent" |
  awk '
    /^[ \t]*(audit[ \t]+)?deny[ \t]/ {
      line = $0
      sub(/[ \t]#.*$/, "", line); sub(/^[ \t]+/, "", line); sub(/[ \t]+$/, "", line)
      if (line !~ /,$/) { print "unsupported multi-line deny rule: " line > "/dev/stderr"; exit 3 }
      sub(/^audit[ \t]+/, "", line)
      print "audit " line
    }
  '
}

# make_pasted RULES OUT: the parent with RULES inserted before the closing brace of its profile.
make_pasted() {
  local last
  last=$(grep -n '^}' "$parent" | tail -n 1 | cut -d: -f1)
  { head -n $((last - 1)) "$parent"; cat "$1"; tail -n +"$last" "$parent"; } > "$2"
}

# make_allow_only RULES [DENIES] OUT: the parent's preamble and profile head, RULES (+ DENIES) as body.
# Both variants carry one audit deny on an unused path, so that a file DFA exists even when
# the child has no file rules (otherwise the first file deny alone changes the blob).
make_allow_only() {
  local head_line sentinel='  audit deny /.verify-with-apparmor_parser-sentinel r,'
  head_line=$(grep -n -m1 -E '^[[:space:]]*profile[[:space:]].*\{' "$parent" | cut -d: -f1)
  if [[ $# -eq 3 ]]; then
    { head -n "$head_line" "$parent"; echo "$sentinel"; cat "$1" "$2"; echo '}'; } > "$3"
  else
    { head -n "$head_line" "$parent"; echo "$sentinel"; cat "$1"; echo '}'; } > "$2"
  fi
}

compile "$parent" "$work/P.bin" || { echo "ERROR: the parent does not compile:" >&2; cat "$work/P.bin.err" >&2; exit 2; }
parent_denies > "$work/denies"

check() {
  local child=$1 name paste=identical denies=untouched verdict
  name=$(basename "$child")
  child_allow_rules "$child" > "$work/numbered"
  cut -f2- "$work/numbered" > "$work/rules"

  make_pasted "$work/rules" "$work/Pp.aa"
  if compile "$work/Pp.aa" "$work/Pp.bin"; then
    cmp -s "$work/P.bin" "$work/Pp.bin" || paste=differs
  elif grep -q 'conflicting x modifiers' "$work/Pp.bin.err"; then
    paste="differs (exec modes conflict with the parent's)"
  else
    echo "ERROR $name: parent + child rules do not compile:" >&2; cat "$work/Pp.bin.err" >&2; return 2
  fi

  make_allow_only "$work/rules" "$work/A.aa"
  make_allow_only "$work/rules" "$work/denies" "$work/Ad.aa"
  compile "$work/A.aa" "$work/A.bin" || { echo "ERROR $name: child rules do not compile:" >&2; cat "$work/A.bin.err" >&2; return 2; }
  compile "$work/Ad.aa" "$work/Ad.bin" || { echo "ERROR $name: child rules + parent denies do not compile:" >&2; cat "$work/Ad.bin.err" >&2; return 2; }
  cmp -s "$work/A.bin" "$work/Ad.bin" || denies=hit

  if [[ $paste == identical && $denies == untouched ]]; then verdict=OK; else verdict=DIFFERS; fi
  printf '%-8s %s  (paste: %s; parent denies: %s)\n' "$verdict" "$name" "$paste" "$denies"

  if [[ $verdict == DIFFERS ]]; then
    local n rule one
    while IFS=$'\t' read -r n rule; do
      printf '%s\n' "$rule" > "$work/one"
      make_pasted "$work/one" "$work/P1.aa"
      if ! compile "$work/P1.aa" "$work/P1.bin"; then
        echo "         line $n exceeds the parent (exec conflict): $rule"
      elif ! cmp -s "$work/P.bin" "$work/P1.bin"; then
        echo "         line $n exceeds the parent: $rule"
      fi
    done < "$work/numbered"
    if [[ $denies == hit ]]; then
      while IFS= read -r one; do
        printf '%s\n' "$one" > "$work/one"
        make_allow_only "$work/rules" "$work/one" "$work/A1.aa"
        compile "$work/A1.aa" "$work/A1.bin" && cmp -s "$work/A.bin" "$work/A1.bin" ||
          echo "         the child allows what the parent denies with: ${one#audit }"
      done < "$work/denies"
    fi
  fi
  [[ $verdict == OK ]]
}

status=0
if [[ $# -gt 0 ]]; then
  for c in "$@"; do check "$c" || status=1; done
else
  check "$here/containers/vm-agent-within.aa" || status=1
  if check "$here/containers/vm-agent-expands.aa"; then status=1; fi
fi
exit $status
