" tests/dsl/editors/check_vim.vim: sourced by vim.sh with all_syntax.ht in the
" buffer; writes one line per failed check to $OUT (nothing: all passed).
let s:fails = []
if &filetype !=# 'routesht'
  call add(s:fails, 'filetype is "' . &filetype . '", not routesht (ftdetect)')
endif
" On the first line matching where, the text what (its nth match from
" where's start) must be in syntax group want at every byte.
function! s:Expect(where, what, want, ...) abort
  let nth = a:0 ? a:1 : 0
  let lnum = search('\V' . escape(a:where, '\'), 'w')
  if lnum == 0
    call add(s:fails, 'no line holds ' . a:where)
    return
  endif
  let line = getline(lnum)
  let col = stridx(line, a:where)
  for i in range(nth + 1)
    let col = stridx(line, a:what, i ? col + 1 : col)
  endfor
  if col < 0
    call add(s:fails, a:what . ' not on line ' . line)
    return
  endif
  for c in range(col, col + strlen(a:what) - 1)
    let got = synIDattr(synID(lnum, c + 1, 1), 'name')
    if got !=# a:want
      call add(s:fails, printf('%s in "%s": column %d is %s, not %s', a:what, line, c + 1, got, a:want))
      return
    endif
  endfor
endfunction

call s:Expect('# every piece', '# every piece', 'routeshtComment')
call s:Expect('prefix app', 'prefix', 'routeshtDirective')
call s:Expect('mount      /static', 'mount', 'routeshtDirective')
call s:Expect('group /api/v1', 'group', 'routeshtDirective')
call s:Expect('host *.example.com', 'host', 'routeshtDirective')
call s:Expect('GET|PUT', 'GET', 'routeshtMethods')
call s:Expect('GET|PUT', '|', 'routeshtPipe')
call s:Expect('GET|PUT', 'PUT', 'routeshtMethods')
call s:Expect('BREW', 'BREW', 'routeshtMethods')
call s:Expect('/users/{id:u64}', '/users/', 'routeshtPath')
call s:Expect('/users/{id:u64}', 'id', 'routeshtParamName')
call s:Expect('/users/{id:u64}', 'u64', 'routeshtType')
call s:Expect('-> user ', '->', 'routeshtArrow')
call s:Expect('-> user ', 'user', 'routeshtHandler')
call s:Expect('-> user ', '# typed', 'routeshtComment')
call s:Expect('{ver:/', 'v[0-9]{1,3}', 'routeshtRegex')
call s:Expect('{path...}', '...', 'routeshtRest')
call s:Expect('{file:path...}', 'path', 'routeshtType')
" a '#' inside a path is no comment; one after a blank is
call s:Expect('/a%20b/c#d', '#d', 'routeshtPath')
call s:Expect('/a%20b/c#d', '%20', 'routeshtEscape')
call s:Expect('/a%20b/c#d', '# the', 'routeshtComment')
call s:Expect('?q:str', '?q:', 'routeshtQuery')
call s:Expect('?q:str', 'str', 'routeshtQueryType')
call s:Expect('?page:u64=1', '=1', 'routeshtQuery')
call s:Expect('?s:str="a b"', '="a b"', 'routeshtQuery')
call s:Expect('?h:hex?', '?', 'routeshtQuery', 1)
call s:Expect('?s:str="a b"', 'num', 'routeshtHandler')
call s:Expect('body 1M', 'body', 'routeshtOption')
call s:Expect('body 1M', '1M', 'routeshtNumber')
call s:Expect('timeout 500ms', '500ms', 'routeshtNumber')
call s:Expect('timeout 500ms', 'upstream', 'routeshtOption')
call s:Expect('group /api/v1', 'before', 'routeshtKey')
call s:Expect('group /api/v1', '2s', 'routeshtNumber')
call s:Expect('embed', '"X-Frame-Options: DENY"', 'routeshtString')
call s:Expect('trailing_slash', 'redirect', 'routeshtConstant')
call s:Expect('errors     /static/', 'static_error', 'routeshtHandler')
call writefile(s:fails, $OUT)
