;; prelude
;; Globals of every type with constant and extended-constant initialisers, and a start
;; function that runs before `_start` and sees initialised data.
(module
  (memory (export "memory") 1)
  (data (i32.const 80) "\2a")
  (global $base i32 (i32.const 40))
  (global $derived i32 (i32.add (global.get $base) (i32.mul (i32.const 2) (i32.const 3))))
  (global $counter (mut i32) (i32.const 0))
  (global $big (mut i64) (i64.const -9000000000))
  (global $single (mut f32) (f32.const 1.5))
  (global $double f64 (f64.const -0.125))
  (global $started (mut i32) (i32.const 0))
  (func $start
    (global.set $started (i32.load8_u (i32.const 80)))
    (global.set $counter (i32.add (global.get $counter) (i32.const 1))))
  (start $start)
  (func $i (param i32) (call $print_i32 (local.get 0)) (call $sp))
  (func (export "_start")
    (call $i (global.get $base))
    (call $i (global.get $derived))
    (call $i (global.get $counter))
    (call $i (global.get $started))
    (global.set $big (i64.mul (global.get $big) (i64.const 2)))
    (call $print_i64 (global.get $big)) (call $sp)
    (global.set $single (f32.add (global.get $single) (f32.const 1)))
    (call $print_f32 (global.get $single)) (call $sp)
    (call $print_f64 (global.get $double))
    (call $nl)))
