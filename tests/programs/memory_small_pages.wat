;; prelude
;; checks: none bounds,stack
;; no-reference: wasmtime runs custom page sizes only with -W custom-page-sizes
;; A memory of 1-byte pages (the custom-page-sizes proposal) next to the usual one:
;; sizes and growth count bytes, a data segment fills it exactly, the byte just past
;; its end traps although the host page it lies in is mapped.
(module
  (memory 1)
  (memory $small 5 16 (pagesize 1))
  (data (memory $small) (i32.const 0) "wafer")
  (func $load (param i32) (result i32) (i32.load8_u $small (local.get 0)))
  (func (export "_start") (local $i i32)
    (call $print_i32 (memory.size $small)) (call $nl)
    (loop $bytes
      (call $print_char (call $load (local.get $i)))
      (br_if $bytes (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1))) (i32.const 5))))
    (call $nl)
    (call $print_i32 (memory.grow $small (i32.const 3))) (call $nl)
    (call $print_i32 (memory.size $small)) (call $nl)
    (call $print_i32 (memory.grow $small (i32.const 9))) (call $nl)
    (i32.store8 $small (i32.const 7) (i32.const 33))
    (call $print_char (call $load (i32.const 7))) (call $nl)
    (call $print_i32 (call $load (i32.const 8)))))
