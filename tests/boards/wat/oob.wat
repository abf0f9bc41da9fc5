;; An access past the end of linear memory: explicit bounds checks trap (a board has no
;; guard pages), including the one-byte-too-far access at the last page's end.
(module
  (memory 1)
  (func $peek (param i32) (result i32) (i32.load (local.get 0)))
  (func (export "_start")
    (drop (call $peek (i32.const 65532)))
    (drop (call $peek (i32.const 65533)))))
