;; resource.rep of a handle already dropped traps.
(component
  (type $thing (resource (rep i32)))
  (core func $new (canon resource.new $thing))
  (core func $rep (canon resource.rep $thing))
  (core func $drop (canon resource.drop $thing))
  (core module $m
    (import "thing" "new" (func $new (param i32) (result i32)))
    (import "thing" "rep" (func $rep (param i32) (result i32)))
    (import "thing" "drop" (func $drop (param i32)))
    (func (export "run") (result i32)
      (local $h i32)
      (local.set $h (call $new (i32.const 5)))
      (call $drop (local.get $h))
      (drop (call $rep (local.get $h)))
      (i32.const 0)))
  (core instance $i (instantiate $m
    (with "thing" (instance
      (export "new" (func $new))
      (export "rep" (func $rep))
      (export "drop" (func $drop))))))
  (func $run (result (result)) (canon lift (core func $i "run")))
  (instance $run (export "run" (func $run)))
  (export "wasi:cli/run@0.2.0" (instance $run)))
