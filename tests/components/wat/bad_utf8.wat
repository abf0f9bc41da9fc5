;; A string that is not UTF-8 passed to another component instance traps.
(component
  (component $callee
    (core module $m
      (memory (export "memory") 1)
      (func (export "realloc") (param i32 i32 i32 i32) (result i32) (i32.const 64))
      (func (export "take") (param i32 i32)))
    (core instance $i (instantiate $m))
    (func (export "take") (param "s" string)
      (canon lift (core func $i "take") (memory (core memory $i "memory")) (realloc (core func $i "realloc")))))
  (component $caller
    (import "take" (func $take (param "s" string)))
    (core module $libc (memory (export "memory") 1))
    (core instance $libc (instantiate $libc))
    (core func $take (canon lower (func $take) (memory (core memory $libc "memory"))))
    (core module $main
      (import "libc" "memory" (memory 1))
      (import "callee" "take" (func $take (param i32 i32)))
      (data (i32.const 8) "\ff\fe")
      (func (export "run") (result i32)
        (call $take (i32.const 8) (i32.const 2))
        (i32.const 0)))
    (core instance $main (instantiate $main
      (with "libc" (instance $libc))
      (with "callee" (instance (export "take" (func $take))))))
    (func (export "run") (result (result)) (canon lift (core func $main "run"))))
  (instance $callee (instantiate $callee))
  (instance $caller (instantiate $caller (with "take" (func $callee "take"))))
  (alias export $caller "run" (func $run))
  (instance $run (export "run" (func $run)))
  (export "wasi:cli/run@0.2.0" (instance $run)))
