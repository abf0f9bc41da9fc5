;; checks: stack
;; A memory of 1-byte pages (the custom-page-sizes proposal): sizes and growth count
;; bytes, and its accesses are checked even on a guarded memory (the host page past its
;; end is accessible). With stack-limit checks, every function loads its limit from the
;; VM context (`stack_limit`).
(module
  (memory $small 16 (pagesize 1))
  (memory $large 1)
  (func $size (result i32) (memory.size $small))
  (func $grow (param i32) (result i32) (memory.grow $small (local.get 0)))
  (func $load (param i32) (result i32)
    (i32.add (i32.load $small (local.get 0)) (i32.load $large (local.get 0))))
  (func $constant (result i32)
    (i32.add (i32.load $small (i32.const 12)) (i32.load $small (i32.const 13))))
  (export "size" (func $size))
  (export "grow" (func $grow))
  (export "load" (func $load))
  (export "constant" (func $constant)))
