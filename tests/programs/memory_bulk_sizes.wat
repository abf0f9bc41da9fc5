;; prelude
;; memory.fill and memory.copy at every length from 0 to 300 bytes, from every start
;; alignment in a 16-byte window, and (for copy) overlapping in both directions. The
;; runtime's memset and memmove take different paths by size (head and tail stores,
;; 32-byte blocks, rep stosb/movsb or loops); each result is checked byte by byte
;; against a plain loop, including the bytes just outside the range, which must not
;; change.
(module
  (memory (export "memory") 1)
  (global $checks (mut i32) (i32.const 0))
  (global $errors (mut i32) (i32.const 0))
  (func $pattern (param $i i32) (result i32)
    (i32.and (i32.add (i32.mul (local.get $i) (i32.const 7)) (i32.const 3)) (i32.const 0xff)))
  ;; Writes the pattern over the test region [4096, 4096 + 1024) one byte at a time.
  (func $reset (local $i i32)
    (loop $next
      (i32.store8 offset=4096 (local.get $i) (call $pattern (local.get $i)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $next (i32.lt_u (local.get $i) (i32.const 1024)))))
  (func $expect (param $at i32) (param $want i32)
    (global.set $checks (i32.add (global.get $checks) (i32.const 1)))
    (if (i32.ne (i32.load8_u offset=4096 (local.get $at)) (local.get $want))
      (then (global.set $errors (i32.add (global.get $errors) (i32.const 1))))))
  ;; fill of $len bytes at $at with 0x1c5 (only the low byte, 0xc5, may be written)
  (func $fill_case (param $at i32) (param $len i32) (local $i i32)
    (call $reset)
    (memory.fill (i32.add (i32.const 4096) (local.get $at)) (i32.const 0x1c5) (local.get $len))
    (loop $next
      (call $expect (local.get $i)
        (select (i32.const 0xc5) (call $pattern (local.get $i))
          (i32.and (i32.ge_u (local.get $i) (local.get $at))
                   (i32.lt_u (local.get $i) (i32.add (local.get $at) (local.get $len))))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $next (i32.lt_u (local.get $i) (i32.const 640)))))
  ;; copy of $len bytes from $src to $dst: memmove semantics, so the destination gets
  ;; the source bytes as they were before the copy even where the two overlap
  (func $copy_case (param $dst i32) (param $src i32) (param $len i32) (local $i i32)
    (call $reset)
    (memory.copy (i32.add (i32.const 4096) (local.get $dst))
                 (i32.add (i32.const 4096) (local.get $src)) (local.get $len))
    (loop $next
      (call $expect (local.get $i)
        (call $pattern
          (select (i32.add (local.get $src) (i32.sub (local.get $i) (local.get $dst)))
                  (local.get $i)
            (i32.and (i32.ge_u (local.get $i) (local.get $dst))
                     (i32.lt_u (local.get $i) (i32.add (local.get $dst) (local.get $len)))))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $next (i32.lt_u (local.get $i) (i32.const 640)))))
  (func $report (param $what i32) (param $len i32)
    (call $print_i32 (local.get $what)) (call $sp)
    (call $print_i32 (global.get $checks)) (call $sp)
    (call $print_i32 (global.get $errors)) (call $nl)
    (global.set $checks (i32.const 0))
    (global.set $errors (i32.const 0)))
  (func (export "_start") (local $len i32) (local $align i32)
    ;; fill: every length, every alignment
    (loop $lengths
      (local.set $align (i32.const 0))
      (loop $aligns
        (call $fill_case (i32.add (i32.const 16) (local.get $align)) (local.get $len))
        (local.set $align (i32.add (local.get $align) (i32.const 1)))
        (br_if $aligns (i32.lt_u (local.get $align) (i32.const 16))))
      (local.set $len (i32.add (local.get $len) (i32.const 1)))
      (br_if $lengths (i32.le_u (local.get $len) (i32.const 300))))
    (call $report (i32.const 1) (i32.const 0))
    ;; copy: disjoint, same alignment and not, and overlapping by a little and a lot
    ;; in both directions
    (local.set $len (i32.const 0))
    (loop $lengths
      (call $copy_case (i32.const 16) (i32.const 320) (local.get $len))
      (call $copy_case (i32.const 321) (i32.const 19) (local.get $len))
      (call $copy_case (i32.const 17) (i32.const 16) (local.get $len))
      (call $copy_case (i32.const 16) (i32.const 17) (local.get $len))
      (call $copy_case (i32.const 40) (i32.const 16) (local.get $len))
      (call $copy_case (i32.const 16) (i32.const 40) (local.get $len))
      (call $copy_case (i32.const 24) (i32.const 16) (local.get $len))
      (call $copy_case (i32.const 16) (i32.const 16) (local.get $len))
      (local.set $len (i32.add (local.get $len) (i32.const 1)))
      (br_if $lengths (i32.le_u (local.get $len) (i32.const 300))))
    (call $report (i32.const 2) (i32.const 0))))
