;; wafer's own regression test: an own handle moved into another component instance and
;; dropped there runs the defining instance's destructor, once; the handle indices of
;; each instance's table are its own.
(component
  (component $R
    (core module $Dtor
      (global $dropped (mut i32) (i32.const 0))
      (global $last (mut i32) (i32.const 0))
      (func (export "dtor") (param i32)
        (global.set $dropped (i32.add (global.get $dropped) (i32.const 1)))
        (global.set $last (local.get 0)))
      (func (export "dropped") (result i32) (global.get $dropped))
      (func (export "last") (result i32) (global.get $last)))
    (core instance $d (instantiate $Dtor))
    (type $r' (resource (rep i32) (dtor (core func $d "dtor"))))
    (export $r "r" (type $r'))
    (canon resource.new $r' (core func $new))
    (core module $M
      (import "" "new" (func $new (param i32) (result i32)))
      (func (export "make") (param i32) (result i32) (call $new (local.get 0))))
    (core instance $m (instantiate $M (with "" (instance (export "new" (func $new))))))
    (func (export "make") (param "rep" u32) (result (own $r)) (canon lift (core func $m "make")))
    (func (export "dropped") (result u32) (canon lift (core func $d "dropped")))
    (func (export "last") (result u32) (canon lift (core func $d "last"))))
  (component $E
    (import "r" (instance $ri (export "r" (type (sub resource)))))
    (alias export $ri "r" (type $r))
    (canon resource.drop $r (core func $drop))
    (core module $M
      (import "" "drop" (func $drop (param i32)))
      (global $held (mut i32) (i32.const 0))
      ;; keeps the first handle it is given, drops the second with the first
      (func (export "take") (param $h i32) (result i32)
        (if (i32.eqz (global.get $held))
          (then (global.set $held (local.get $h)) (return (local.get $h))))
        (call $drop (global.get $held))
        (call $drop (local.get $h))
        (global.set $held (i32.const 0))
        (local.get $h)))
    (core instance $m (instantiate $M (with "" (instance (export "drop" (func $drop))))))
    (func (export "take") (param "r" (own $r)) (result u32) (canon lift (core func $m "take"))))
  (component $D
    (import "r" (instance $ri
      (export "r" (type $r (sub resource)))
      (export "make" (func (param "rep" u32) (result (own $r))))
      (export "dropped" (func (result u32)))
      (export "last" (func (result u32)))))
    (alias export $ri "r" (type $r))
    (import "e" (instance $e (export "take" (func (param "r" (own $r)) (result u32)))))
    (canon lower (func $ri "make") (core func $make))
    (canon lower (func $ri "dropped") (core func $dropped))
    (canon lower (func $ri "last") (core func $last))
    (canon lower (func $e "take") (core func $take))
    (core module $M
      (import "" "make" (func $make (param i32) (result i32)))
      (import "" "dropped" (func $dropped (result i32)))
      (import "" "last" (func $last (result i32)))
      (import "" "take" (func $take (param i32) (result i32)))
      (func (export "run") (result i32)
        ;; D's handles are 1 and 2; each moves out of D's table as E takes it, and E
        ;; numbers them in its own table
        (if (i32.ne (call $make (i32.const 100)) (i32.const 1)) (then unreachable))
        (if (i32.ne (call $take (i32.const 1)) (i32.const 1)) (then unreachable))
        (if (i32.ne (call $dropped) (i32.const 0)) (then unreachable))
        (if (i32.ne (call $make (i32.const 200)) (i32.const 1)) (then unreachable))
        (if (i32.ne (call $take (i32.const 1)) (i32.const 2)) (then unreachable))
        (if (i32.ne (call $dropped) (i32.const 2)) (then unreachable))
        (call $last)))
    (core instance $m (instantiate $M (with "" (instance
      (export "make" (func $make))
      (export "dropped" (func $dropped))
      (export "last" (func $last))
      (export "take" (func $take))))))
    (func (export "run") (result u32) (canon lift (core func $m "run"))))
  (instance $r (instantiate $R))
  (instance $e (instantiate $E (with "r" (instance $r))))
  (instance $d (instantiate $D (with "r" (instance $r)) (with "e" (instance $e))))
  (func (export "run") (alias export $d "run")))

(assert_return (invoke "run") (u32.const 200))
