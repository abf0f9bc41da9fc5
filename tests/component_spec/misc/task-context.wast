;; wafer's own regression test of task storage (`context.get` / `context.set`): each
;; call between component instances is a task of its own, whose slots start at zero and
;; are its own; the caller's slots are as it left them when the call returns, and a
;; second call starts afresh.
(component
  (component $B
    (canon context.get i32 0 (core func $get))
    (canon context.set i32 0 (core func $set))
    (core module $M
      (import "" "get" (func $get (result i32)))
      (import "" "set" (func $set (param i32)))
      ;; What slot 0 held when it started; leaves `v` in it.
      (func (export "swap") (param $v i32) (result i32)
        (local $old i32)
        (local.set $old (call $get))
        (call $set (local.get $v))
        (local.get $old)))
    (core instance $m (instantiate $M (with "" (instance
      (export "get" (func $get))
      (export "set" (func $set))))))
    (func (export "swap") (param "v" u32) (result u32) (canon lift (core func $m "swap"))))
  (component $A
    (import "b" (instance $b (export "swap" (func (param "v" u32) (result u32)))))
    (canon lower (func $b "swap") (core func $swap))
    (canon context.get i32 0 (core func $get))
    (canon context.set i32 0 (core func $set))
    (core module $M
      (import "" "get" (func $get (result i32)))
      (import "" "set" (func $set (param i32)))
      (import "" "swap" (func $swap (param i32) (result i32)))
      ;; 1000 * (slot 0 at the start) + 100 * (what the first call found)
      ;; + 10 * (what the second found) + (slot 0 at the end).
      (func (export "run") (result i32)
        (local $result i32)
        (local.set $result (i32.mul (call $get) (i32.const 1000)))
        (call $set (i32.const 5))
        (local.set $result (i32.add (local.get $result)
          (i32.mul (call $swap (i32.const 8)) (i32.const 100))))
        (local.set $result (i32.add (local.get $result)
          (i32.mul (call $swap (i32.const 9)) (i32.const 10))))
        (i32.add (local.get $result) (call $get)))
      (func (export "leave") (call $set (i32.const 3))))
    (core instance $m (instantiate $M (with "" (instance
      (export "get" (func $get))
      (export "set" (func $set))
      (export "swap" (func $swap))))))
    (func (export "run") (result u32) (canon lift (core func $m "run")))
    (func (export "leave") (canon lift (core func $m "leave"))))
  (instance $b (instantiate $B))
  (instance $a (instantiate $A (with "b" (instance $b))))
  (export "run" (func $a "run"))
  (export "leave" (func $a "leave")))

(assert_return (invoke "run") (u32.const 5))
;; A call from the host is a new task too.
(assert_return (invoke "leave"))
(assert_return (invoke "run") (u32.const 5))
