;; Small functions are inlined into their direct callers: parameters and locals become
;; fresh variables, `return` and the final `end` continue after the call with the
;; results, and trap sites keep the callee's wasm offsets. A wrapper of a wrapper is
;; inlined all the way down; recursion and tail calls are not inlined. A function with a
;; single call site (`$wrapper`, `$early`) is not compiled on its own at all.
(module
  (memory 1)
  (func $leaf (param i32) (result i32)
    (i32.load offset=8 (local.get 0)))
  (func $wrapper (param i32) (result i32)
    (call $leaf (i32.add (local.get 0) (i32.const 4))))
  (func $early (param i32) (result i32 i32) (local $t i32)
    (local.set $t (i32.mul (local.get 0) (i32.const 3)))
    (if (i32.eqz (local.get 0)) (then (return (i32.const 7) (local.get $t))))
    (local.get $t) (i32.div_u (i32.const 100) (local.get 0)))
  (func $recursive (param i32) (result i32)
    (if (result i32) (local.get 0)
      (then (call $recursive (i32.sub (local.get 0) (i32.const 1))))
      (else (i32.const 0))))
  (func $tail (param i32) (result i32)
    (return_call $leaf (local.get 0)))
  (func (export "outer") (param i32) (result i32)
    (call $wrapper (local.get 0))
    (call $early (local.get 0))
    (i32.add)
    (i32.add)
    (call $recursive (local.get 0))
    (call $tail (local.get 0))
    (i32.add)
    (i32.add)))
