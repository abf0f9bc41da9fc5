;; wafer's own regression test of callees parked by calls between instances: $D starts
;; two `async` calls of $C.count (callback-lifted), each of which yields a few times
;; before it returns; both answer STARTED, take their turns while $D waits, keep their
;; own `context.get`/`context.set` storage across turns, and resolve their subtasks
;; with RETURNED once they call `task.return`. A synchronous call of $C.count returns
;; once it has called `task.return`, while the callee runs on.
(component
  (component $C
    (canon context.get i32 0 (core func $get))
    (canon context.set i32 0 (core func $set))
    (canon task.return (result u32) (core func $task.return))
    (core module $M
      (import "" "get" (func $get (result i32)))
      (import "" "set" (func $set (param i32)))
      (import "" "task.return" (func $task.return (param i32)))
      ;; Turns left per task are kept in the task's slot 0: n in the high 16 bits,
      ;; the turns left in the low ones.
      (func (export "count") (param $n i32) (result i32)
        (call $set (i32.or (i32.shl (local.get $n) (i32.const 16)) (i32.const 3)))
        (i32.const 1 (; YIELD ;)))
      (func (export "count-cb") (param $event i32) (param $index i32) (param $payload i32) (result i32)
        (local $slot i32)
        (if (i32.ne (local.get $event) (i32.const 0 (; NONE ;))) (then unreachable))
        (local.set $slot (call $get))
        (if (i32.eqz (i32.and (local.get $slot) (i32.const 0xffff))) (then
          ;; the sync caller's case: returned already, runs on until it exits
          (return (i32.const 0 (; EXIT ;)))))
        (local.set $slot (i32.sub (local.get $slot) (i32.const 1)))
        (call $set (local.get $slot))
        (if (i32.eqz (i32.and (local.get $slot) (i32.const 0xffff))) (then
          (call $task.return (i32.mul (i32.shr_u (local.get $slot) (i32.const 16)) (i32.const 10)))
          ;; yield once more after returning: the subtask has resolved already
          (return (i32.const 1 (; YIELD ;)))))
        (i32.const 1 (; YIELD ;))))
    (core instance $m (instantiate $M (with "" (instance
      (export "get" (func $get))
      (export "set" (func $set))
      (export "task.return" (func $task.return))))))
    (func (export "count") async (param "n" u32) (result u32)
      (canon lift (core func $m "count") async (callback (core func $m "count-cb")))))

  (component $D
    (import "count" (func $count async (param "n" u32) (result u32)))
    (core module $Memory (memory (export "mem") 1))
    (core instance $memory (instantiate $Memory))
    (canon lower (func $count) async (memory (core memory $memory "mem")) (core func $count-async))
    (canon lower (func $count) (core func $count-sync))
    (canon waitable.join (core func $join))
    (canon waitable-set.new (core func $set.new))
    (canon waitable-set.wait (memory (core memory $memory "mem")) (core func $set.wait))
    (canon subtask.drop (core func $subtask.drop))
    (core module $M
      (import "" "mem" (memory 1))
      (import "" "count-async" (func $count-async (param i32 i32) (result i32)))
      (import "" "count-sync" (func $count-sync (param i32) (result i32)))
      (import "" "join" (func $join (param i32 i32)))
      (import "" "set.new" (func $set.new (result i32)))
      (import "" "set.wait" (func $set.wait (param i32 i32) (result i32)))
      (import "" "subtask.drop" (func $subtask.drop (param i32)))
      ;; Waits for one SUBTASK event of set $ws; answers the subtask's handle.
      (func $wait-one (param $ws i32) (result i32)
        (if (i32.ne (call $set.wait (local.get $ws) (i32.const 0)) (i32.const 1 (; SUBTASK ;)))
          (then unreachable))
        (if (i32.ne (i32.load (i32.const 4)) (i32.const 2 (; RETURNED ;)))
          (then unreachable))
        (i32.load (i32.const 0)))
      (func (export "run") (result i32)
        (local $a i32) (local $b i32) (local $ws i32) (local $ret i32)
        (local.set $a (call $count-async (i32.const 1) (i32.const 100)))
        (local.set $b (call $count-async (i32.const 2) (i32.const 104)))
        (if (i32.ne (i32.and (local.get $a) (i32.const 0xf)) (i32.const 1 (; STARTED ;)))
          (then unreachable))
        (if (i32.ne (i32.and (local.get $b) (i32.const 0xf)) (i32.const 1 (; STARTED ;)))
          (then unreachable))
        (local.set $a (i32.shr_u (local.get $a) (i32.const 4)))
        (local.set $b (i32.shr_u (local.get $b) (i32.const 4)))
        (local.set $ws (call $set.new))
        (call $join (local.get $a) (local.get $ws))
        (call $join (local.get $b) (local.get $ws))
        (call $subtask.drop (call $wait-one (local.get $ws)))
        (call $subtask.drop (call $wait-one (local.get $ws)))
        ;; 10 + 20 from the two subtasks, and 30 from a synchronous call
        (i32.add
          (i32.add (i32.load (i32.const 100)) (i32.load (i32.const 104)))
          (call $count-sync (i32.const 3)))))
    (core instance $m (instantiate $M (with "" (instance
      (export "mem" (memory $memory "mem"))
      (export "count-async" (func $count-async))
      (export "count-sync" (func $count-sync))
      (export "join" (func $join))
      (export "set.new" (func $set.new))
      (export "set.wait" (func $set.wait))
      (export "subtask.drop" (func $subtask.drop))))))
    (func (export "run") async (result u32) (canon lift (core func $m "run"))))

  (instance $c (instantiate $C))
  (instance $d (instantiate $D (with "count" (func $c "count"))))
  (func (export "run") (alias export $d "run")))

(assert_return (invoke "run") (u32.const 60))
