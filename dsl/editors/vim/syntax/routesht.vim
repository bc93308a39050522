" Vim syntax file
" Language:   hachettp routes.ht (the route language, dsl/SPEC.md)
" Install:    copy (or add to 'runtimepath') dsl/editors/vim: syntax/ and ftdetect/
" Tested by:  tests/dsl/editors/vim.sh
if exists("b:current_syntax")
  finish
endif
syntax case match

" A '#' starts a comment anywhere but inside a path token or a quoted value:
" the path and the quoted string below are matched first, whole.
syntax match routeshtComment "#.*$" contains=@Spell

" METHOD|METHOD before the path (a lower-case word too: the compiler warns)
syntax match routeshtMethods "^\s*\zs[!$%&'*+.^_`~0-9A-Za-z-]\+\%(\s*|\s*[!$%&'*+.^_`~0-9A-Za-z-]\+\)*\ze\s\+/" contains=routeshtPipe
syntax match routeshtPipe "|" contained

" Directives (defined after the methods: they win where both start)
syntax match routeshtDirective "^\s*\zs\%(prefix\|context\|trailing_slash\|mount\|embed\|mime\|errors\|group\|host\|end\)\ze\%(\s\|$\|#\)"

" A path: '/' after a blank or at the start, to the next blank; {parameters} inside
syntax match routeshtPath "\%(^\|\s\)\zs/\S*" contains=routeshtParam,routeshtEscape
syntax match routeshtEscape "%\x\x" contained
syntax match routeshtParam "{[A-Za-z_][A-Za-z0-9_]*\%(:/.\{-}/\|:[A-Za-z0-9_]*\)\=\%(\.\.\.\)\=}" contained contains=routeshtParamName,routeshtType,routeshtRegex,routeshtRest
syntax match routeshtParamName "{\zs[A-Za-z_][A-Za-z0-9_]*" contained
syntax match routeshtType ":\zs\%(u64\|i64\|hex\|uuid\|slug\|str\|path\)\ze\%(}\|\.\.\.}\)" contained
syntax match routeshtRegex ":\zs/.\{-}/\ze}" contained
syntax match routeshtRest "\.\.\.\ze}" contained

" Query parameters between the path and ->: ?name:type=default*
" (the default quoted when it holds blanks; then * repeats or ? optional)
syntax match routeshtQuery +\s\zs?[A-Za-z_][A-Za-z0-9_]*\%(:[A-Za-z0-9_]\+\)\=\%(=\%("[^"]*"\|[^ \t*?#"]*\)\)\=[*?]\=+ contains=routeshtQueryType
syntax match routeshtQueryType ":\zs\%(u64\|i64\|hex\|uuid\|slug\|str\)\>" contained

" -> handler
syntax match routeshtArrow "\s\zs->\ze\%(\s\|$\)" nextgroup=routeshtHandler skipwhite
syntax match routeshtHandler "[A-Za-z_][A-Za-z0-9_]*" contained

" Route options, key=value options, sizes and durations, quoted values
syntax match routeshtOption "\s\zs\%(body\|timeout\|upstream\|stream\|strict\)\ze\%(\s\|$\|#\)"
syntax match routeshtNumber "\%(\s\|=\)\zs\d\+\%(ms\|[KMGkmgsmh]\)\=\ze\%(\s\|$\|#\|,\)"
syntax match routeshtKey "\s\zs[A-Za-z_][A-Za-z0-9_-]*\ze="
syntax region routeshtString start=+"+ end=+"+ oneline
syntax match routeshtConstant "\s\zs\%(redirect\|strict\|json\|on\|off\|struct\|union\|void\)\ze\%(\s\|$\|#\)"

highlight default link routeshtComment   Comment
highlight default link routeshtMethods   Keyword
highlight default link routeshtPipe      Delimiter
highlight default link routeshtDirective PreProc
highlight default link routeshtPath      String
highlight default link routeshtEscape    SpecialChar
highlight default link routeshtParam     Identifier
highlight default link routeshtParamName Identifier
highlight default link routeshtType      Type
highlight default link routeshtRegex     Special
highlight default link routeshtRest      Operator
highlight default link routeshtQuery     Identifier
highlight default link routeshtQueryType Type
highlight default link routeshtArrow     Operator
highlight default link routeshtHandler   Function
highlight default link routeshtOption    Statement
highlight default link routeshtNumber    Number
highlight default link routeshtKey       Identifier
highlight default link routeshtString    String
highlight default link routeshtConstant  Constant

let b:current_syntax = "routesht"
