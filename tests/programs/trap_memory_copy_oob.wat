;; memory.copy from past the end.
(module (memory 1) (func $copy (memory.copy (i32.const 0) (i32.const 65535) (i32.const 2)))
  (func (export "_start") (call $copy)))
