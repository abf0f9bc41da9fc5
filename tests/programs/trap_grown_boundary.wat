;; checks: none bounds,stack
;; After memory.grow the new page is usable and the one after it is not.
(module (memory 1) (func $touch (param i32) (i32.store8 (local.get 0) (i32.const 1)))
  (func (export "_start") (drop (memory.grow (i32.const 1))) (call $touch (i32.const 131071)) (call $touch (i32.const 131072))))
