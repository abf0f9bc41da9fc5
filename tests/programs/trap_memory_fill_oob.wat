;; memory.fill past the end traps before writing anything.
(module (memory 1) (func $fill (memory.fill (i32.const 65530) (i32.const 0) (i32.const 7)))
  (func (export "_start") (call $fill)))
