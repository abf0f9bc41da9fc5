;; An exception nothing catches ends the program with status 1, as under wasmtime.
(module
  (tag $e (param i32))
  (func $thrower (throw $e (i32.const 1)))
  (func (export "_start") (call $thrower)))
