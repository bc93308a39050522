" hachettp routes.ht (dsl/SPEC.md). Vim calls *.ht "haste": a file named
" routes.ht, or a .ht file with a route or a routes.ht directive at the start
" of a line, is routesht instead.
autocmd BufRead,BufNewFile *.ht
      \ if expand('<afile>:t') ==# 'routes.ht' ||
      \    search('^\s*\%(\u\+\%(\s*|\s*\u\+\)*\s\+/\|\%(prefix\|context\|mount\|embed\|group\|host\)\s\)', 'nw') |
      \   set filetype=routesht |
      \ endif
