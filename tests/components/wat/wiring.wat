;; Static instantiation of a component graph, without WASI: a nested component
;; instantiated twice (each instance keeps its own state), a sibling component whose
;; imports are the other two instances' exports (calls across component instances
;; through fused adapters), aliases and re-exports up to the root, and a resource the
;; component defines (resource.new, resource.rep, and resource.drop running its
;; destructor).
;; `run` returns ok (exit status 0) when every check passes, else err (1).
(component
  (component $counter
    (core module $m
      (global $total (mut i32) (i32.const 0))
      (func (export "add") (param i32) (result i32)
        (global.set $total (i32.add (global.get $total) (local.get 0)))
        (global.get $total)))
    (core instance $i (instantiate $m))
    (func (export "add") (param "n" u32) (result u32) (canon lift (core func $i "add"))))
  (component $user
    (import "add-a" (func $add-a (param "n" u32) (result u32)))
    (import "add-b" (func $add-b (param "n" u32) (result u32)))
    (core func $add-a (canon lower (func $add-a)))
    (core func $add-b (canon lower (func $add-b)))

    (core module $state
      (global $dropped (mut i32) (i32.const 0))
      (func (export "dtor") (param i32) (global.set $dropped (local.get 0)))
      (func (export "dropped") (result i32) (global.get $dropped)))
    (core instance $state (instantiate $state))
    (alias core export $state "dtor" (core func $dtor))
    (type $thing (resource (rep i32) (dtor (core func $dtor))))
    (core func $new (canon resource.new $thing))
    (core func $rep (canon resource.rep $thing))
    (core func $drop (canon resource.drop $thing))

    (core module $main
      (import "a" "add" (func $add-a (param i32) (result i32)))
      (import "b" "add" (func $add-b (param i32) (result i32)))
      (import "thing" "new" (func $new (param i32) (result i32)))
      (import "thing" "rep" (func $rep (param i32) (result i32)))
      (import "thing" "drop" (func $drop (param i32)))
      (import "state" "dropped" (func $dropped (result i32)))
      (func $check (param i32) (if (i32.eqz (local.get 0)) (then (unreachable))))
      (func $run (result i32)
        (local $first i32) (local $second i32)
        (call $check (i32.eq (call $add-a (i32.const 5)) (i32.const 5)))
        (call $check (i32.eq (call $add-a (i32.const 10)) (i32.const 15)))
        (call $check (i32.eq (call $add-b (i32.const 7)) (i32.const 7)))
        (local.set $first (call $new (i32.const 42)))
        (local.set $second (call $new (i32.const 43)))
        (call $check (i32.ne (local.get $first) (local.get $second)))
        (call $check (i32.eq (call $rep (local.get $first)) (i32.const 42)))
        (call $check (i32.eq (call $rep (local.get $second)) (i32.const 43)))
        (call $drop (local.get $first))
        (call $check (i32.eq (call $dropped) (i32.const 42)))
        (call $drop (local.get $second))
        (call $check (i32.eq (call $dropped) (i32.const 43)))
        (i32.const 0))
      (func (export "run") (result i32)
        (call $run)))
    (core instance $main (instantiate $main
      (with "a" (instance (export "add" (func $add-a))))
      (with "b" (instance (export "add" (func $add-b))))
      (with "thing" (instance
        (export "new" (func $new))
        (export "rep" (func $rep))
        (export "drop" (func $drop))))
      (with "state" (instance $state))))
    (func (export "run") (result (result)) (canon lift (core func $main "run"))))
  (instance $a (instantiate $counter))
  (instance $b (instantiate $counter))
  (instance $user (instantiate $user
    (with "add-a" (func $a "add"))
    (with "add-b" (func $b "add"))))
  (alias export $user "run" (func $run))
  (instance $run (export "run" (func $run)))
  (export "wasi:cli/run@0.2.0" (instance $run)))
