;; wafer's own regression test: an exception thrown by a callee and not caught crosses no
;; component boundary: the fused adapter between the two instances traps.
(component
  (component $C
    (core module $M
      (tag $t)
      (func (export "f") (throw $t)))
    (core instance $m (instantiate $M))
    (func (export "f") (canon lift (core func $m "f"))))
  (component $D
    (import "f" (func $f))
    (core func $f' (canon lower (func $f)))
    (core module $M
      (import "" "f" (func $f))
      (func (export "run") (call $f)))
    (core instance $m (instantiate $M (with "" (instance (export "f" (func $f'))))))
    (func (export "run") (canon lift (core func $m "run"))))
  (instance $c (instantiate $C))
  (instance $d (instantiate $D (with "f" (func $c "f"))))
  (func (export "run") (alias export $d "run")))
(assert_trap (invoke "run") "uncaught exception")
