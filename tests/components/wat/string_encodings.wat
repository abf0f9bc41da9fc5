;; Host strings lowered in the encodings a component can ask for: the arguments (run
;; with `hé h€`) through wasi:cli/environment in UTF-16, and in latin1+utf16, where "hé"
;; fits latin1 and "h€" does not (UTF-16, its length tagged with the top bit).
;; `run` returns ok (exit status 0) when every string arrives as expected.
(component
  (import "wasi:cli/environment@0.2.6" (instance $env
    (export "get-arguments" (func (result (list string))))))
  (core module $libc
    (memory (export "memory") 1)
    (global $heap (mut i32) (i32.const 1024))
    (func (export "realloc") (param i32 i32 i32 i32) (result i32)
      (local $ptr i32)
      (local.set $ptr
        (i32.and
          (i32.add (global.get $heap) (i32.sub (local.get 2) (i32.const 1)))
          (i32.sub (i32.const 0) (local.get 2))))
      (global.set $heap (i32.add (local.get $ptr) (local.get 3)))
      ;; Growing or shrinking keeps the contents (the canonical ABI may shrink a
      ;; string it allocated for the worst case).
      (memory.copy (local.get $ptr) (local.get 0)
        (select (local.get 1) (local.get 3) (i32.lt_u (local.get 1) (local.get 3))))
      (local.get $ptr)))
  (core instance $libc (instantiate $libc))
  (core func $args-utf16 (canon lower (func $env "get-arguments") string-encoding=utf16
    (memory (core memory $libc "memory")) (realloc (core func $libc "realloc"))))
  (core func $args-compact (canon lower (func $env "get-arguments")
    string-encoding=latin1+utf16
    (memory (core memory $libc "memory")) (realloc (core func $libc "realloc"))))
  (core module $main
    (import "libc" "memory" (memory 1))
    (import "env" "args-utf16" (func $args-utf16 (param i32)))
    (import "env" "args-compact" (func $args-compact (param i32)))
    (func $check (param i32) (if (i32.eqz (local.get 0)) (then (unreachable))))
    ;; The (pointer, length) of argument `i` of the list whose (pointer, length) is at 0.
    (func $arg (param $i i32) (result i32)
      (i32.add (i32.load (i32.const 0)) (i32.mul (local.get $i) (i32.const 8))))
    (func (export "run") (result i32)
      (local $s i32)
      (call $args-utf16 (i32.const 0))
      (call $check (i32.eq (i32.load (i32.const 4)) (i32.const 3)))
      ;; "hé": two UTF-16 code units.
      (local.set $s (call $arg (i32.const 1)))
      (call $check (i32.eq (i32.load offset=4 (local.get $s)) (i32.const 2)))
      (local.set $s (i32.load (local.get $s)))
      (call $check (i32.eq (i32.load (local.get $s)) (i32.const 0x00e9_0068)))
      ;; "h€": U+20AC.
      (local.set $s (call $arg (i32.const 2)))
      (call $check (i32.eq (i32.load offset=4 (local.get $s)) (i32.const 2)))
      (local.set $s (i32.load (local.get $s)))
      (call $check (i32.eq (i32.load (local.get $s)) (i32.const 0x20ac_0068)))

      (call $args-compact (i32.const 0))
      ;; "hé" in latin1: two bytes, no tag.
      (local.set $s (call $arg (i32.const 1)))
      (call $check (i32.eq (i32.load offset=4 (local.get $s)) (i32.const 2)))
      (local.set $s (i32.load (local.get $s)))
      (call $check (i32.eq (i32.load16_u (local.get $s)) (i32.const 0xe968)))
      ;; "h€" in UTF-16: two code units, tagged.
      (local.set $s (call $arg (i32.const 2)))
      (call $check (i32.eq (i32.load offset=4 (local.get $s)) (i32.const 0x8000_0002)))
      (local.set $s (i32.load (local.get $s)))
      (call $check (i32.eq (i32.load (local.get $s)) (i32.const 0x20ac_0068)))
      (i32.const 0)))
  (core instance $main (instantiate $main
    (with "libc" (instance $libc))
    (with "env" (instance
      (export "args-utf16" (func $args-utf16))
      (export "args-compact" (func $args-compact))))))
  (func $run (result (result)) (canon lift (core func $main "run")))
  (instance $run (export "run" (func $run)))
  (export "wasi:cli/run@0.2.0" (instance $run)))
