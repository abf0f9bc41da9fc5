;; A WASI 0.3 command whose `run` task works with cooperative threads (the 🧵
;; built-ins), each on a stack of its own:
;; - four workers, made ready with `thread.resume-later`, each add their argument to
;;   a sum over three `thread.yield`s;
;; - a reader blocks in a synchronous `future.read` until `run` writes the future;
;; - two threads switch to each other (`thread.suspend-then-resume`) 2000 times each,
;;   counting (switches between fibers do not nest: the stack stays flat).
;; `run` yields until all seven are done and returns `ok` (exit status 0) if the sum,
;; the value read and the count are right; anything else traps.
(component
  (core module $Memory (memory (export "mem") 1))
  (core instance $memory (instantiate $Memory))
  (core module $Table (table (export "table") 3 funcref))
  (core instance $table (instantiate $Table))
  (type $FT (future u32))
  (core type $start (func (param i32)))
  (alias core export $table "table" (core table $tbl))
  (core func $new (canon thread.new-indirect $start (core table $tbl)))
  (core func $resume-later (canon thread.resume-later))
  (core func $yield (canon thread.yield))
  (core func $suspend-then-resume (canon thread.suspend-then-resume))
  (core func $yield-then-resume (canon thread.yield-then-resume))
  (core func $future.new (canon future.new $FT))
  (core func $future.read (canon future.read $FT (memory (core memory $memory "mem"))))
  (core func $future.write (canon future.write $FT async (memory (core memory $memory "mem"))))
  (core module $M
    (import "" "mem" (memory 1))
    (import "" "table" (table 3 funcref))
    (import "" "new" (func $new (param i32 i32) (result i32)))
    (import "" "resume-later" (func $resume-later (param i32)))
    (import "" "yield" (func $yield (result i32)))
    (import "" "suspend-then-resume" (func $suspend-then-resume (param i32) (result i32)))
    (import "" "yield-then-resume" (func $yield-then-resume (param i32) (result i32)))
    (import "" "future.new" (func $future.new (result i64)))
    (import "" "future.read" (func $future.read (param i32 i32) (result i32)))
    (import "" "future.write" (func $future.write (param i32 i32) (result i32)))
    (global $sum (mut i32) (i32.const 0))
    (global $count (mut i32) (i32.const 0))
    (global $done (mut i32) (i32.const 0))
    (global $ping (mut i32) (i32.const 0))
    (global $pong (mut i32) (i32.const 0))
    (func $worker (param $n i32)
      (local $i i32)
      (loop $again
        (global.set $sum (i32.add (global.get $sum) (local.get $n)))
        (drop (call $yield))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br_if $again (i32.lt_u (local.get $i) (i32.const 3))))
      (global.set $done (i32.add (global.get $done) (i32.const 1))))
    (func $reader (param $rx i32)
      (if (i32.ne (call $future.read (local.get $rx) (i32.const 64)) (i32.const 0 (; COMPLETED ;)))
        (then unreachable))
      (global.set $sum (i32.add (global.get $sum) (i32.load (i32.const 64))))
      (global.set $done (i32.add (global.get $done) (i32.const 1))))
    ;; Switches to the other thread (its argument: 0 for ping, 1 for pong) 2000 times;
    ;; ping, done first, lets pong end too.
    (func $switcher (param $pong i32)
      (local $i i32)
      (loop $again
        (global.set $count (i32.add (global.get $count) (i32.const 1)))
        (drop (call $suspend-then-resume
          (select (global.get $ping) (global.get $pong) (local.get $pong))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br_if $again (i32.lt_u (local.get $i) (i32.const 2000))))
      (if (i32.eqz (local.get $pong))
        (then (drop (call $yield-then-resume (global.get $pong)))))
      (global.set $done (i32.add (global.get $done) (i32.const 1))))
    (elem (i32.const 0) func $worker $reader $switcher)
    (func (export "run") (result i32)
      (local $n i32) (local $ends i64)
      (loop $spawn
        (local.set $n (i32.add (local.get $n) (i32.const 1)))
        (call $resume-later (call $new (i32.const 0) (local.get $n)))
        (br_if $spawn (i32.lt_u (local.get $n) (i32.const 4))))
      (local.set $ends (call $future.new))
      (call $resume-later (call $new (i32.const 1) (i32.wrap_i64 (local.get $ends))))
      (global.set $ping (call $new (i32.const 2) (i32.const 0)))
      (global.set $pong (call $new (i32.const 2) (i32.const 1)))
      (drop (call $yield-then-resume (global.get $ping)))
      ;; Let the reader block on the future, then write it.
      (drop (call $yield))
      (i32.store (i32.const 68) (i32.const 1000))
      (drop (call $future.write (i32.wrap_i64 (i64.shr_u (local.get $ends) (i64.const 32))) (i32.const 68)))
      (loop $wait
        (drop (call $yield))
        (br_if $wait (i32.lt_u (global.get $done) (i32.const 7))))
      ;; 3 * (1 + 2 + 3 + 4) + 1000, and 2000 switches each way.
      (if (i32.ne (global.get $sum) (i32.const 1030))
        (then unreachable))
      (if (i32.ne (global.get $count) (i32.const 4000))
        (then unreachable))
      (i32.const 0 (; ok ;))))
  (core instance $m (instantiate $M (with "" (instance
    (export "mem" (memory $memory "mem"))
    (export "table" (table $tbl))
    (export "new" (func $new))
    (export "resume-later" (func $resume-later))
    (export "yield" (func $yield))
    (export "suspend-then-resume" (func $suspend-then-resume))
    (export "yield-then-resume" (func $yield-then-resume))
    (export "future.new" (func $future.new))
    (export "future.read" (func $future.read))
    (export "future.write" (func $future.write))))))
  (func $run async (result (result)) (canon lift (core func $m "run")))
  (instance $run (export "run" (func $run)))
  (export "wasi:cli/run@0.3.0" (instance $run)))
