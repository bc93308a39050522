#!/bin/sh
# tests/dsl/editors/vim.sh SRC: the Vim syntax file (dsl/editors/vim) on
# all_syntax.ht: ftdetect sets the filetype, and synID() at chosen places
# gives the expected group (check_vim.vim). Without vim it checks nothing
# and says so (exit 0): vim is no build dependency.
set -u
src=$1
command -v vim >/dev/null 2>&1 || { echo "vim.sh: no vim, skipped"; exit 0; }
t=$(mktemp -d /tmp/ht_vim.XXXXXX)
trap 'rm -rf "$t"' EXIT
echo "not run" >"$t/fails"
OUT=$t/fails vim -N -u NONE -i NONE -es \
  -c "set rtp^=$src/dsl/editors/vim" -c 'filetype on' -c 'syntax on' \
  -c "edit $src/tests/dsl/editors/all_syntax.ht" -c "source $src/tests/dsl/editors/check_vim.vim" -c 'qa!' \
  </dev/null >"$t/log" 2>&1
if [ -s "$t/fails" ]; then
  echo "FAIL: the Vim syntax file:"; sed 's/^/  /' "$t/fails"; cat "$t/log"; exit 1
fi
echo "vim.sh: $(grep -c 'call s:Expect' "$src/tests/dsl/editors/check_vim.vim") checks passed"
