;; Prints "hello, <name>!" for each argument, or "hello, world!" without arguments.
;; Build and run:  wafer run examples/hello.wat -- wafer
(module
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "args_sizes_get" (func $args_sizes_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "args_get" (func $args_get (param i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "hello, ")
  (data (i32.const 8) "world")
  (data (i32.const 16) "!\n")
  ;; iovecs at 32, argc and argv-buffer size at 64, argv pointers at 128, strings at 1024
  (func $greet (param $name i32) (param $len i32)
    (i32.store (i32.const 32) (i32.const 0))
    (i32.store (i32.const 36) (i32.const 7))
    (i32.store (i32.const 40) (local.get $name))
    (i32.store (i32.const 44) (local.get $len))
    (i32.store (i32.const 48) (i32.const 16))
    (i32.store (i32.const 52) (i32.const 2))
    (drop (call $fd_write (i32.const 1) (i32.const 32) (i32.const 3) (i32.const 56))))
  (func $strlen (param $p i32) (result i32) (local $n i32)
    (block $done
      (loop $next
        (br_if $done (i32.eqz (i32.load8_u (i32.add (local.get $p) (local.get $n)))))
        (local.set $n (i32.add (local.get $n) (i32.const 1)))
        (br $next)))
    (local.get $n))
  (func (export "_start") (local $i i32) (local $arg i32)
    (drop (call $args_sizes_get (i32.const 64) (i32.const 68)))
    (drop (call $args_get (i32.const 128) (i32.const 1024)))
    (if (i32.le_u (i32.load (i32.const 64)) (i32.const 1))
      (then (call $greet (i32.const 8) (i32.const 5)) (return)))
    (local.set $i (i32.const 1))
    (loop $each
      (local.set $arg (i32.load (i32.add (i32.const 128) (i32.shl (local.get $i) (i32.const 2)))))
      (call $greet (local.get $arg) (call $strlen (local.get $arg)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $each (i32.lt_u (local.get $i) (i32.load (i32.const 64)))))))
