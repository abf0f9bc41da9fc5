;; wafer's own regression tests of borrow scoping between component instances: a borrow
;; lowered into a call must be dropped before the call returns, and an own handle lent
;; to a call cannot be dropped or moved meanwhile. $R defines the resource; $E takes
;; borrows of it (so it gets handles, not representations); $D calls $E with handles it
;; got from $R.
(component definition $Scopes
  (component $R
    (type $r' (resource (rep i32)))
    (export $r "r" (type $r'))
    (canon resource.new $r' (core func $new))
    (core module $M
      (import "" "new" (func $new (param i32) (result i32)))
      (func (export "make") (param i32) (result i32) (call $new (local.get 0))))
    (core instance $m (instantiate $M (with "" (instance (export "new" (func $new))))))
    (func (export "make") (param "rep" u32) (result (own $r)) (canon lift (core func $m "make"))))
  (component $E
    (import "r" (instance $ri (export "r" (type (sub resource)))))
    (alias export $ri "r" (type $r))
    (canon resource.drop $r (core func $drop))
    (core module $M
      (import "" "drop" (func $drop (param i32)))
      (func (export "drop-it") (param i32) (call $drop (local.get 0)))
      (func (export "keep-it") (param i32)))
    (core instance $m (instantiate $M (with "" (instance (export "drop" (func $drop))))))
    (func (export "drop-it") (param "b" (borrow $r)) (canon lift (core func $m "drop-it")))
    (func (export "keep-it") (param "b" (borrow $r)) (canon lift (core func $m "keep-it"))))
  (component $D
    (import "r" (instance $ri
      (export "r" (type $r (sub resource)))
      (export "make" (func (param "rep" u32) (result (own $r))))))
    (alias export $ri "r" (type $r))
    (import "e" (instance $e
      (export "drop-it" (func (param "b" (borrow $r))))
      (export "keep-it" (func (param "b" (borrow $r))))))
    (canon lower (func $ri "make") (core func $make))
    (canon lower (func $e "drop-it") (core func $drop-it))
    (canon lower (func $e "keep-it") (core func $keep-it))
    (canon resource.drop $r (core func $drop))
    (core module $M
      (import "" "make" (func $make (param i32) (result i32)))
      (import "" "drop-it" (func $drop-it (param i32)))
      (import "" "keep-it" (func $keep-it (param i32)))
      (import "" "drop" (func $drop (param i32)))
      (func (export "lend-and-drop") (result i32)
        (local $h i32)
        (local.set $h (call $make (i32.const 7)))
        (call $drop-it (local.get $h))
        (call $drop-it (local.get $h))
        ;; the lends ended with the calls: the own handle can go
        (call $drop (local.get $h))
        (i32.const 42))
      (func (export "lend-and-keep")
        (call $keep-it (call $make (i32.const 8)))))
    (core instance $m (instantiate $M (with "" (instance
      (export "make" (func $make))
      (export "drop-it" (func $drop-it))
      (export "keep-it" (func $keep-it))
      (export "drop" (func $drop))))))
    (func (export "lend-and-drop") (result u32) (canon lift (core func $m "lend-and-drop")))
    (func (export "lend-and-keep") (canon lift (core func $m "lend-and-keep"))))
  (instance $r (instantiate $R))
  (instance $e (instantiate $E (with "r" (instance $r))))
  (instance $d (instantiate $D (with "r" (instance $r)) (with "e" (instance $e))))
  (func (export "lend-and-drop") (alias export $d "lend-and-drop"))
  (func (export "lend-and-keep") (alias export $d "lend-and-keep")))

(component instance $i $Scopes)
(assert_return (invoke "lend-and-drop") (u32.const 42))
(assert_return (invoke "lend-and-drop") (u32.const 42))
(assert_trap (invoke "lend-and-keep") "borrow handles still remain at the end of the call")
;; a trap leaves the instances it ran in unusable
(assert_trap (invoke "lend-and-drop") "cannot enter component instance")
(component instance $i $Scopes)
(assert_return (invoke "lend-and-drop") (u32.const 42))
