;; prelude
;; build: --target-cpu x86-64-v2
;; Byte permutations: i8x16.swizzle (indices >= 16 give 0) and i8x16.shuffle with masks
;; that need pshufb. Built for x86-64-v2: at the SSE2 baseline Cranelift lowers these to
;; its `__cranelift_x86_pshufb` library call, which the runtime does not define yet.
(module
  (memory (export "memory") 1)
  (func $o (param v128)
    (call $print_hex (i64x2.extract_lane 1 (local.get 0)) (i32.const 16))
    (call $print_hex (i64x2.extract_lane 0 (local.get 0)) (i32.const 16))
    (call $sp))

  (func $shuffles (param $a v128) (param $b v128)
    (call $o (i8x16.shuffle 31 30 29 28 27 26 25 24 23 22 21 20 19 18 17 16 (local.get $a) (local.get $b)))
    (call $o (i8x16.shuffle 15 14 13 12 11 10 9 8 7 6 5 4 3 2 1 0 (local.get $a) (local.get $b)))
    (call $o (i8x16.shuffle 3 3 3 3 3 3 3 3 3 3 3 3 3 3 3 3 (local.get $a) (local.get $b)))
    (call $o (i8x16.shuffle 2 3 0 1 6 7 4 5 10 11 8 9 14 15 12 13 (local.get $a) (local.get $b)))
    (call $o (i8x16.shuffle 1 0 3 2 5 4 7 6 9 8 11 10 13 12 15 14 (local.get $a) (local.get $b)))
    (call $o (i8x16.shuffle 5 30 0 17 9 9 31 2 20 13 7 24 11 16 1 28 (local.get $a) (local.get $b)))
    (call $o (i8x16.shuffle 0 1 2 3 20 21 22 23 8 9 10 11 28 29 30 31 (local.get $a) (local.get $b)))
    (call $o (i8x16.shuffle 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 (local.get $a) (local.get $b)))
    (call $o (i8x16.shuffle 0 17 2 19 4 21 6 23 8 25 10 27 12 29 14 31 (local.get $a) (local.get $b)))
    (call $nl))

  (func $swizzles (param $a v128) (param $s v128)
    (call $o (i8x16.swizzle (local.get $a) (local.get $s)))
    (call $o (i8x16.swizzle (local.get $a)
      (v128.const i8x16 15 14 13 12 16 17 127 128 255 -1 0 1 2 0x70 0x8f 7)))
    (call $o (i8x16.swizzle (local.get $a)
      (v128.const i8x16 0 0 0 0 1 1 1 1 15 15 15 15 32 64 100 200)))
    (call $nl))

  (func (export "_start") (local $a v128) (local $b v128) (local $c v128)
    (local.set $a (v128.const i8x16 0x80 0x81 0x82 0x83 0x84 0x85 0x86 0x87 0x88 0x89 0x8a 0x8b 0x8c 0x8d 0x8e 0xff))
    (local.set $b (v128.const i8x16 16 17 18 19 20 21 22 23 24 25 26 27 28 29 30 31))
    (local.set $c (v128.const i8x16 0 15 1 14 16 31 240 255 8 8 8 8 0x7f 0x80 3 0x10))
    (call $shuffles (local.get $a) (local.get $b))
    (call $shuffles (local.get $b) (local.get $a))
    (call $swizzles (local.get $a) (local.get $b))
    (call $swizzles (local.get $b) (local.get $c))
    (call $swizzles (local.get $a) (local.get $a))))
