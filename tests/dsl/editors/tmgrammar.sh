#!/bin/sh
# tests/dsl/editors/tmgrammar.sh SRC: the TextMate grammar's test
# (check_tmgrammar.js) with vscode-textmate and vscode-oniguruma from npm,
# installed when missing into $HT_NPM_DIR (default: the user's cache,
# ~/.cache/hachettp-npm). When they are missing and npm cannot reach its
# registry, the test fails and says so.
set -u
src=$1
dir=${HT_NPM_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/hachettp-npm}
pkgs="vscode-textmate@9.4.0 vscode-oniguruma@2.0.1"
command -v node >/dev/null 2>&1 || { echo "FAIL: no node (apt-get install nodejs npm: the Makefile's PKGS)"; exit 1; }
if [ ! -f "$dir/node_modules/vscode-textmate/package.json" ] || [ ! -f "$dir/node_modules/vscode-oniguruma/package.json" ]; then
  command -v npm >/dev/null 2>&1 || { echo "FAIL: no npm to install $pkgs (apt-get install npm)"; exit 1; }
  if ! npm view vscode-textmate version >/dev/null 2>&1; then
    echo "FAIL: npm cannot reach its registry ('npm view vscode-textmate version' failed), so $pkgs"
    echo "      cannot be installed into $dir; install them there by hand (npm install --prefix $dir $pkgs)"
    exit 1
  fi
  mkdir -p "$dir" && npm install --prefix "$dir" --no-audit --no-fund --no-save $pkgs >"$dir/install.log" 2>&1 ||
    { echo "FAIL: npm install $pkgs into $dir:"; tail -20 "$dir/install.log"; exit 1; }
fi
NODE_PATH="$dir/node_modules" exec node "$src/tests/dsl/editors/check_tmgrammar.js" "$src"
