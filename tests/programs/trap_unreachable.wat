;; `unreachable` traps with its own message.
(module (func $boom unreachable) (func (export "_start") (call $boom)))
