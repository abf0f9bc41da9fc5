;; Strings between component instances whose encodings differ, through fused adapters:
;; UTF-8 <-> UTF-16 both ways (echoed back, so each string is transcoded there and back),
;; latin1+utf16 (in its latin1 form and in its UTF-16 form) into UTF-8 and UTF-16, and
;; every encoding into latin1+utf16 and back, with strings that fit latin1 and strings
;; that do not.
;; `run` returns ok (exit status 0) when every string arrives as expected.
(component
  ;; echo(s) = s, with strings in utf8 in its own memory.
  (component $utf8-side
    (core module $libc
      (memory (export "memory") 1)
      (global $heap (mut i32) (i32.const 4096))
      (func (export "realloc") (param i32 i32 i32 i32) (result i32)
        (local $ptr i32)
        (local.set $ptr
          (i32.and
            (i32.add (global.get $heap) (i32.sub (local.get 2) (i32.const 1)))
            (i32.sub (i32.const 0) (local.get 2))))
        (global.set $heap (i32.add (local.get $ptr) (local.get 3)))
        (memory.copy (local.get $ptr) (local.get 0)
          (select (local.get 1) (local.get 3) (i32.lt_u (local.get 1) (local.get 3))))
        (local.get $ptr)))
    (core instance $libc (instantiate $libc))
    (core module $m
      (import "libc" "memory" (memory 1))
      ;; The string stays where the adapter put it; the result area is at 0.
      (func (export "echo") (param i32 i32) (result i32)
        (i32.store (i32.const 0) (local.get 0))
        (i32.store (i32.const 4) (local.get 1))
        (i32.const 0))
      ;; measure(s) = its length in code units (latin1+utf16: with the UTF-16 tag).
      (func (export "measure") (param i32 i32) (result i32) (local.get 1)))
    (core instance $i (instantiate $m (with "libc" (instance $libc))))
    (func (export "echo") (param "s" string) (result string)
      (canon lift (core func $i "echo") string-encoding=utf8
        (memory (core memory $libc "memory")) (realloc (core func $libc "realloc"))))
    (func (export "measure") (param "s" string) (result u32)
      (canon lift (core func $i "measure") string-encoding=utf8
        (memory (core memory $libc "memory")) (realloc (core func $libc "realloc")))))
  ;; echo(s) = s, with strings in utf16 in its own memory.
  (component $utf16-side
    (core module $libc
      (memory (export "memory") 1)
      (global $heap (mut i32) (i32.const 4096))
      (func (export "realloc") (param i32 i32 i32 i32) (result i32)
        (local $ptr i32)
        (local.set $ptr
          (i32.and
            (i32.add (global.get $heap) (i32.sub (local.get 2) (i32.const 1)))
            (i32.sub (i32.const 0) (local.get 2))))
        (global.set $heap (i32.add (local.get $ptr) (local.get 3)))
        (memory.copy (local.get $ptr) (local.get 0)
          (select (local.get 1) (local.get 3) (i32.lt_u (local.get 1) (local.get 3))))
        (local.get $ptr)))
    (core instance $libc (instantiate $libc))
    (core module $m
      (import "libc" "memory" (memory 1))
      ;; The string stays where the adapter put it; the result area is at 0.
      (func (export "echo") (param i32 i32) (result i32)
        (i32.store (i32.const 0) (local.get 0))
        (i32.store (i32.const 4) (local.get 1))
        (i32.const 0))
      ;; measure(s) = its length in code units (latin1+utf16: with the UTF-16 tag).
      (func (export "measure") (param i32 i32) (result i32) (local.get 1)))
    (core instance $i (instantiate $m (with "libc" (instance $libc))))
    (func (export "echo") (param "s" string) (result string)
      (canon lift (core func $i "echo") string-encoding=utf16
        (memory (core memory $libc "memory")) (realloc (core func $libc "realloc"))))
    (func (export "measure") (param "s" string) (result u32)
      (canon lift (core func $i "measure") string-encoding=utf16
        (memory (core memory $libc "memory")) (realloc (core func $libc "realloc")))))
  ;; echo(s) = s, with strings in latin1+utf16 in its own memory.
  (component $compact-side
    (core module $libc
      (memory (export "memory") 1)
      (global $heap (mut i32) (i32.const 4096))
      (func (export "realloc") (param i32 i32 i32 i32) (result i32)
        (local $ptr i32)
        (local.set $ptr
          (i32.and
            (i32.add (global.get $heap) (i32.sub (local.get 2) (i32.const 1)))
            (i32.sub (i32.const 0) (local.get 2))))
        (global.set $heap (i32.add (local.get $ptr) (local.get 3)))
        (memory.copy (local.get $ptr) (local.get 0)
          (select (local.get 1) (local.get 3) (i32.lt_u (local.get 1) (local.get 3))))
        (local.get $ptr)))
    (core instance $libc (instantiate $libc))
    (core module $m
      (import "libc" "memory" (memory 1))
      ;; The string stays where the adapter put it; the result area is at 0.
      (func (export "echo") (param i32 i32) (result i32)
        (i32.store (i32.const 0) (local.get 0))
        (i32.store (i32.const 4) (local.get 1))
        (i32.const 0))
      ;; measure(s) = its length in code units (latin1+utf16: with the UTF-16 tag).
      (func (export "measure") (param i32 i32) (result i32) (local.get 1)))
    (core instance $i (instantiate $m (with "libc" (instance $libc))))
    (func (export "echo") (param "s" string) (result string)
      (canon lift (core func $i "echo") string-encoding=latin1+utf16
        (memory (core memory $libc "memory")) (realloc (core func $libc "realloc"))))
    (func (export "measure") (param "s" string) (result u32)
      (canon lift (core func $i "measure") string-encoding=latin1+utf16
        (memory (core memory $libc "memory")) (realloc (core func $libc "realloc")))))
  (component $user
    (import "echo8" (func $echo8 (param "s" string) (result string)))
    (import "echo16" (func $echo16 (param "s" string) (result string)))
    (import "measure8" (func $measure8 (param "s" string) (result u32)))
    (import "measure16" (func $measure16 (param "s" string) (result u32)))
    (import "echo-compact" (func $echo-compact (param "s" string) (result string)))
    (core module $libc
      (memory (export "memory") 1)
      (global $heap (mut i32) (i32.const 4096))
      (func (export "realloc") (param i32 i32 i32 i32) (result i32)
        (local $ptr i32)
        (local.set $ptr
          (i32.and
            (i32.add (global.get $heap) (i32.sub (local.get 2) (i32.const 1)))
            (i32.sub (i32.const 0) (local.get 2))))
        (global.set $heap (i32.add (local.get $ptr) (local.get 3)))
        (memory.copy (local.get $ptr) (local.get 0)
          (select (local.get 1) (local.get 3) (i32.lt_u (local.get 1) (local.get 3))))
        (local.get $ptr)))
    (core instance $libc (instantiate $libc))
    (core func $echo16-from-utf8 (canon lower (func $echo16) string-encoding=utf8
      (memory (core memory $libc "memory")) (realloc (core func $libc "realloc"))))
    (core func $echo8-from-utf16 (canon lower (func $echo8) string-encoding=utf16
      (memory (core memory $libc "memory")) (realloc (core func $libc "realloc"))))
    (core func $measure8-from-compact (canon lower (func $measure8)
      string-encoding=latin1+utf16
      (memory (core memory $libc "memory")) (realloc (core func $libc "realloc"))))
    (core func $measure16-from-compact (canon lower (func $measure16)
      string-encoding=latin1+utf16
      (memory (core memory $libc "memory")) (realloc (core func $libc "realloc"))))
    (core func $compact-from-utf8 (canon lower (func $echo-compact) string-encoding=utf8
      (memory (core memory $libc "memory")) (realloc (core func $libc "realloc"))))
    (core func $compact-from-utf16 (canon lower (func $echo-compact) string-encoding=utf16
      (memory (core memory $libc "memory")) (realloc (core func $libc "realloc"))))
    (core func $compact-from-compact (canon lower (func $echo-compact)
      string-encoding=latin1+utf16
      (memory (core memory $libc "memory")) (realloc (core func $libc "realloc"))))
    (core module $main
      (import "libc" "memory" (memory 1))
      (import "" "echo16-from-utf8" (func $echo16-from-utf8 (param i32 i32 i32)))
      (import "" "echo8-from-utf16" (func $echo8-from-utf16 (param i32 i32 i32)))
      (import "" "measure8-from-compact" (func $measure8-from-compact (param i32 i32) (result i32)))
      (import "" "measure16-from-compact" (func $measure16-from-compact (param i32 i32) (result i32)))
      (import "" "compact-from-utf8" (func $compact-from-utf8 (param i32 i32 i32)))
      (import "" "compact-from-utf16" (func $compact-from-utf16 (param i32 i32 i32)))
      (import "" "compact-from-compact" (func $compact-from-compact (param i32 i32 i32)))
      ;; "hé€😀", 10 bytes of UTF-8.
      (data (i32.const 100) "h\c3\a9\e2\82\ac\f0\9f\98\80")
      ;; The same in UTF-16, 5 code units.
      (data (i32.const 200) "h\00\e9\00\ac\20\3d\d8\00\de")
      ;; "héllo" in latin1.
      (data (i32.const 300) "h\e9llo")
      ;; "héllo" in UTF-8.
      (data (i32.const 400) "h\c3\a9llo")
      ;; "hé" in UTF-16.
      (data (i32.const 500) "h\00\e9\00")
      (func $check (param i32) (if (i32.eqz (local.get 0)) (then (unreachable))))
      ;; Whether the result at 0 (pointer, length) holds `len` bytes equal to those at `expected`.
      (func $same (param $expected i32) (param $len i32) (result i32)
        (local $at i32) (local $i i32)
        (local.set $at (i32.load (i32.const 0)))
        (block $differ
          (loop $bytes
            (if (i32.eq (local.get $i) (local.get $len)) (then (return (i32.const 1))))
            (br_if $differ
              (i32.ne
                (i32.load8_u (i32.add (local.get $at) (local.get $i)))
                (i32.load8_u (i32.add (local.get $expected) (local.get $i)))))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (br $bytes)))
        (i32.const 0))
      (func (export "run") (result i32)
        ;; UTF-8 -> UTF-16 -> UTF-8.
        (call $echo16-from-utf8 (i32.const 100) (i32.const 10) (i32.const 0))
        (call $check (i32.eq (i32.load (i32.const 4)) (i32.const 10)))
        (call $check (call $same (i32.const 100) (i32.const 10)))
        ;; UTF-16 -> UTF-8 -> UTF-16.
        (call $echo8-from-utf16 (i32.const 200) (i32.const 5) (i32.const 0))
        (call $check (i32.eq (i32.load (i32.const 4)) (i32.const 5)))
        (call $check (call $same (i32.const 200) (i32.const 10)))
        ;; latin1 -> UTF-8: "héllo" is 6 bytes.
        (call $check (i32.eq (call $measure8-from-compact (i32.const 300) (i32.const 5)) (i32.const 6)))
        ;; latin1 -> UTF-16: 5 code units.
        (call $check (i32.eq (call $measure16-from-compact (i32.const 300) (i32.const 5)) (i32.const 5)))
        ;; latin1+utf16 in its UTF-16 form (the length tagged) -> UTF-8: 10 bytes.
        (call $check
          (i32.eq
            (call $measure8-from-compact (i32.const 200) (i32.const 0x8000_0005))
            (i32.const 10)))
        ;; UTF-8 -> latin1+utf16 -> UTF-8: not latin1 (it becomes UTF-16 on the way)...
        (call $compact-from-utf8 (i32.const 100) (i32.const 10) (i32.const 0))
        (call $check (i32.eq (i32.load (i32.const 4)) (i32.const 10)))
        (call $check (call $same (i32.const 100) (i32.const 10)))
        ;; ... and latin1.
        (call $compact-from-utf8 (i32.const 400) (i32.const 6) (i32.const 0))
        (call $check (i32.eq (i32.load (i32.const 4)) (i32.const 6)))
        (call $check (call $same (i32.const 400) (i32.const 6)))
        ;; UTF-16 -> latin1+utf16 -> UTF-16.
        (call $compact-from-utf16 (i32.const 200) (i32.const 5) (i32.const 0))
        (call $check (i32.eq (i32.load (i32.const 4)) (i32.const 5)))
        (call $check (call $same (i32.const 200) (i32.const 10)))
        ;; latin1+utf16 in its UTF-16 form, all latin1: it comes back as latin1.
        (call $compact-from-compact (i32.const 500) (i32.const 0x8000_0002) (i32.const 0))
        (call $check (i32.eq (i32.load (i32.const 4)) (i32.const 2)))
        (call $check (call $same (i32.const 300) (i32.const 2)))
        ;; ... not latin1: it stays UTF-16.
        (call $compact-from-compact (i32.const 200) (i32.const 0x8000_0005) (i32.const 0))
        (call $check (i32.eq (i32.load (i32.const 4)) (i32.const 0x8000_0005)))
        (call $check (call $same (i32.const 200) (i32.const 10)))
        ;; latin1 stays latin1.
        (call $compact-from-compact (i32.const 300) (i32.const 5) (i32.const 0))
        (call $check (i32.eq (i32.load (i32.const 4)) (i32.const 5)))
        (call $check (call $same (i32.const 300) (i32.const 5)))
        (i32.const 0)))
    (core instance $main (instantiate $main
      (with "libc" (instance $libc))
      (with "" (instance
        (export "echo16-from-utf8" (func $echo16-from-utf8))
        (export "echo8-from-utf16" (func $echo8-from-utf16))
        (export "measure8-from-compact" (func $measure8-from-compact))
        (export "measure16-from-compact" (func $measure16-from-compact))
        (export "compact-from-utf8" (func $compact-from-utf8))
        (export "compact-from-utf16" (func $compact-from-utf16))
        (export "compact-from-compact" (func $compact-from-compact))))))
    (func (export "run") (result (result)) (canon lift (core func $main "run"))))
  (instance $utf8-side (instantiate $utf8-side))
  (instance $utf16-side (instantiate $utf16-side))
  (instance $compact-side (instantiate $compact-side))
  (instance $user (instantiate $user
    (with "echo8" (func $utf8-side "echo"))
    (with "echo16" (func $utf16-side "echo"))
    (with "measure8" (func $utf8-side "measure"))
    (with "measure16" (func $utf16-side "measure"))
    (with "echo-compact" (func $compact-side "echo"))))
  (alias export $user "run" (func $run))
  (instance $run (export "run" (func $run)))
  (export "wasi:cli/run@0.2.0" (instance $run)))
