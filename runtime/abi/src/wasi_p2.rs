//! WASI 0.2 (components): the host functions the runtime implements, the host resource
//! types, and the canonical-ABI context compiled code hands to every host call.
//!
//! A component imports interfaces by versioned name (`wasi:cli/stdout@0.2.6`). The
//! runtime implements each function once, under a version-free symbol, and an import
//! matches it semver-compatibly: any `0.2.x` of the same package and interface (a core
//! module built against 0.2.0 and a component importing 0.2.12 reach the same code).
//!
//! Every host function takes a [`CanonContext`] pointer first, then the import's *flat*
//! core parameters (the canonical ABI's lowering: a result too large for one core
//! value is written through a return pointer, the last parameter), in the target's C
//! convention. The compiler checks each import's flat signature against
//! [`HostFunc::params`] / [`HostFunc::results`] before it calls the symbol.

/// A core wasm value type in a flat signature.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FlatType {
    /// `i32`
    I32,
    /// `i64`
    I64,
    /// `f32`
    F32,
    /// `f64`
    F64,
}

use FlatType::{I32, I64};

/// A WASI 0.2 function the runtime implements.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HostFunc {
    /// `namespace:package/interface`, without a version.
    pub interface: &'static str,
    /// The function's name in the interface (`[method]output-stream.write`).
    pub name: &'static str,
    /// The runtime symbol.
    pub symbol: &'static str,
    /// Flat core parameters after the context pointer (a return pointer is the last).
    pub params: &'static [FlatType],
    /// Flat core results (at most one).
    pub results: &'static [FlatType],
}

const fn f(
    interface: &'static str,
    name: &'static str,
    symbol: &'static str,
    params: &'static [FlatType],
    results: &'static [FlatType],
) -> HostFunc {
    HostFunc {
        interface,
        name,
        symbol,
        params,
        results,
    }
}

/// Every WASI 0.2 function the runtime implements. Each symbol starts with
/// [`crate::symbols::WASI_P2_PREFIX`].
pub const FUNCTIONS: &[HostFunc] = &[
    // wasi:cli
    f(
        "wasi:cli/environment",
        "get-environment",
        "wafer_p2_cli_get_environment",
        &[I32],
        &[],
    ),
    f(
        "wasi:cli/environment",
        "get-arguments",
        "wafer_p2_cli_get_arguments",
        &[I32],
        &[],
    ),
    f(
        "wasi:cli/environment",
        "initial-cwd",
        "wafer_p2_cli_initial_cwd",
        &[I32],
        &[],
    ),
    f("wasi:cli/exit", "exit", "wafer_p2_cli_exit", &[I32], &[]),
    f(
        "wasi:cli/exit",
        "exit-with-code",
        "wafer_p2_cli_exit_with_code",
        &[I32],
        &[],
    ),
    f(
        "wasi:cli/stdin",
        "get-stdin",
        "wafer_p2_cli_get_stdin",
        &[],
        &[I32],
    ),
    f(
        "wasi:cli/stdout",
        "get-stdout",
        "wafer_p2_cli_get_stdout",
        &[],
        &[I32],
    ),
    f(
        "wasi:cli/stderr",
        "get-stderr",
        "wafer_p2_cli_get_stderr",
        &[],
        &[I32],
    ),
    f(
        "wasi:cli/terminal-stdin",
        "get-terminal-stdin",
        "wafer_p2_cli_get_terminal_stdin",
        &[I32],
        &[],
    ),
    f(
        "wasi:cli/terminal-stdout",
        "get-terminal-stdout",
        "wafer_p2_cli_get_terminal_stdout",
        &[I32],
        &[],
    ),
    f(
        "wasi:cli/terminal-stderr",
        "get-terminal-stderr",
        "wafer_p2_cli_get_terminal_stderr",
        &[I32],
        &[],
    ),
    // wasi:clocks
    f(
        "wasi:clocks/monotonic-clock",
        "now",
        "wafer_p2_clocks_monotonic_now",
        &[],
        &[I64],
    ),
    f(
        "wasi:clocks/monotonic-clock",
        "resolution",
        "wafer_p2_clocks_monotonic_resolution",
        &[],
        &[I64],
    ),
    f(
        "wasi:clocks/monotonic-clock",
        "subscribe-instant",
        "wafer_p2_clocks_subscribe_instant",
        &[I64],
        &[I32],
    ),
    f(
        "wasi:clocks/monotonic-clock",
        "subscribe-duration",
        "wafer_p2_clocks_subscribe_duration",
        &[I64],
        &[I32],
    ),
    f(
        "wasi:clocks/wall-clock",
        "now",
        "wafer_p2_clocks_wall_now",
        &[I32],
        &[],
    ),
    f(
        "wasi:clocks/wall-clock",
        "resolution",
        "wafer_p2_clocks_wall_resolution",
        &[I32],
        &[],
    ),
    // wasi:random
    f(
        "wasi:random/random",
        "get-random-bytes",
        "wafer_p2_random_get_random_bytes",
        &[I64, I32],
        &[],
    ),
    f(
        "wasi:random/random",
        "get-random-u64",
        "wafer_p2_random_get_random_u64",
        &[],
        &[I64],
    ),
    f(
        "wasi:random/insecure",
        "get-insecure-random-bytes",
        "wafer_p2_random_get_insecure_random_bytes",
        &[I64, I32],
        &[],
    ),
    f(
        "wasi:random/insecure",
        "get-insecure-random-u64",
        "wafer_p2_random_get_insecure_random_u64",
        &[],
        &[I64],
    ),
    f(
        "wasi:random/insecure-seed",
        "insecure-seed",
        "wafer_p2_random_insecure_seed",
        &[I32],
        &[],
    ),
    // wasi:io/error
    f(
        "wasi:io/error",
        "[method]error.to-debug-string",
        "wafer_p2_io_error_to_debug_string",
        &[I32, I32],
        &[],
    ),
    // wasi:io/poll
    f(
        "wasi:io/poll",
        "[method]pollable.ready",
        "wafer_p2_io_pollable_ready",
        &[I32],
        &[I32],
    ),
    f(
        "wasi:io/poll",
        "[method]pollable.block",
        "wafer_p2_io_pollable_block",
        &[I32],
        &[],
    ),
    f(
        "wasi:io/poll",
        "poll",
        "wafer_p2_io_poll",
        &[I32, I32, I32],
        &[],
    ),
    // wasi:io/streams
    f(
        "wasi:io/streams",
        "[method]input-stream.read",
        "wafer_p2_io_input_stream_read",
        &[I32, I64, I32],
        &[],
    ),
    f(
        "wasi:io/streams",
        "[method]input-stream.blocking-read",
        "wafer_p2_io_input_stream_blocking_read",
        &[I32, I64, I32],
        &[],
    ),
    f(
        "wasi:io/streams",
        "[method]input-stream.skip",
        "wafer_p2_io_input_stream_skip",
        &[I32, I64, I32],
        &[],
    ),
    f(
        "wasi:io/streams",
        "[method]input-stream.blocking-skip",
        "wafer_p2_io_input_stream_blocking_skip",
        &[I32, I64, I32],
        &[],
    ),
    f(
        "wasi:io/streams",
        "[method]input-stream.subscribe",
        "wafer_p2_io_input_stream_subscribe",
        &[I32],
        &[I32],
    ),
    f(
        "wasi:io/streams",
        "[method]output-stream.check-write",
        "wafer_p2_io_output_stream_check_write",
        &[I32, I32],
        &[],
    ),
    f(
        "wasi:io/streams",
        "[method]output-stream.write",
        "wafer_p2_io_output_stream_write",
        &[I32, I32, I32, I32],
        &[],
    ),
    f(
        "wasi:io/streams",
        "[method]output-stream.blocking-write-and-flush",
        "wafer_p2_io_output_stream_blocking_write_and_flush",
        &[I32, I32, I32, I32],
        &[],
    ),
    f(
        "wasi:io/streams",
        "[method]output-stream.flush",
        "wafer_p2_io_output_stream_flush",
        &[I32, I32],
        &[],
    ),
    f(
        "wasi:io/streams",
        "[method]output-stream.blocking-flush",
        "wafer_p2_io_output_stream_blocking_flush",
        &[I32, I32],
        &[],
    ),
    f(
        "wasi:io/streams",
        "[method]output-stream.subscribe",
        "wafer_p2_io_output_stream_subscribe",
        &[I32],
        &[I32],
    ),
    f(
        "wasi:io/streams",
        "[method]output-stream.write-zeroes",
        "wafer_p2_io_output_stream_write_zeroes",
        &[I32, I64, I32],
        &[],
    ),
    f(
        "wasi:io/streams",
        "[method]output-stream.blocking-write-zeroes-and-flush",
        "wafer_p2_io_output_stream_blocking_write_zeroes_and_flush",
        &[I32, I64, I32],
        &[],
    ),
    f(
        "wasi:io/streams",
        "[method]output-stream.splice",
        "wafer_p2_io_output_stream_splice",
        &[I32, I32, I64, I32],
        &[],
    ),
    f(
        "wasi:io/streams",
        "[method]output-stream.blocking-splice",
        "wafer_p2_io_output_stream_blocking_splice",
        &[I32, I32, I64, I32],
        &[],
    ),
    // wasi:filesystem
    f(
        "wasi:filesystem/preopens",
        "get-directories",
        "wafer_p2_filesystem_get_directories",
        &[I32],
        &[],
    ),
    f(
        "wasi:filesystem/types",
        "filesystem-error-code",
        "wafer_p2_filesystem_error_code",
        &[I32, I32],
        &[],
    ),
    f(
        "wasi:filesystem/types",
        "[method]descriptor.read-via-stream",
        "wafer_p2_filesystem_read_via_stream",
        &[I32, I64, I32],
        &[],
    ),
    f(
        "wasi:filesystem/types",
        "[method]descriptor.write-via-stream",
        "wafer_p2_filesystem_write_via_stream",
        &[I32, I64, I32],
        &[],
    ),
    f(
        "wasi:filesystem/types",
        "[method]descriptor.append-via-stream",
        "wafer_p2_filesystem_append_via_stream",
        &[I32, I32],
        &[],
    ),
    f(
        "wasi:filesystem/types",
        "[method]descriptor.advise",
        "wafer_p2_filesystem_advise",
        &[I32, I64, I64, I32, I32],
        &[],
    ),
    f(
        "wasi:filesystem/types",
        "[method]descriptor.sync-data",
        "wafer_p2_filesystem_sync_data",
        &[I32, I32],
        &[],
    ),
    f(
        "wasi:filesystem/types",
        "[method]descriptor.get-flags",
        "wafer_p2_filesystem_get_flags",
        &[I32, I32],
        &[],
    ),
    f(
        "wasi:filesystem/types",
        "[method]descriptor.get-type",
        "wafer_p2_filesystem_get_type",
        &[I32, I32],
        &[],
    ),
    f(
        "wasi:filesystem/types",
        "[method]descriptor.set-size",
        "wafer_p2_filesystem_set_size",
        &[I32, I64, I32],
        &[],
    ),
    f(
        "wasi:filesystem/types",
        "[method]descriptor.set-times",
        "wafer_p2_filesystem_set_times",
        &[I32, I32, I64, I32, I32, I64, I32, I32],
        &[],
    ),
    f(
        "wasi:filesystem/types",
        "[method]descriptor.read",
        "wafer_p2_filesystem_read",
        &[I32, I64, I64, I32],
        &[],
    ),
    f(
        "wasi:filesystem/types",
        "[method]descriptor.write",
        "wafer_p2_filesystem_write",
        &[I32, I32, I32, I64, I32],
        &[],
    ),
    f(
        "wasi:filesystem/types",
        "[method]descriptor.read-directory",
        "wafer_p2_filesystem_read_directory",
        &[I32, I32],
        &[],
    ),
    f(
        "wasi:filesystem/types",
        "[method]descriptor.sync",
        "wafer_p2_filesystem_sync",
        &[I32, I32],
        &[],
    ),
    f(
        "wasi:filesystem/types",
        "[method]descriptor.create-directory-at",
        "wafer_p2_filesystem_create_directory_at",
        &[I32, I32, I32, I32],
        &[],
    ),
    f(
        "wasi:filesystem/types",
        "[method]descriptor.stat",
        "wafer_p2_filesystem_stat",
        &[I32, I32],
        &[],
    ),
    f(
        "wasi:filesystem/types",
        "[method]descriptor.stat-at",
        "wafer_p2_filesystem_stat_at",
        &[I32, I32, I32, I32, I32],
        &[],
    ),
    f(
        "wasi:filesystem/types",
        "[method]descriptor.set-times-at",
        "wafer_p2_filesystem_set_times_at",
        &[I32, I32, I32, I32, I32, I64, I32, I32, I64, I32, I32],
        &[],
    ),
    f(
        "wasi:filesystem/types",
        "[method]descriptor.link-at",
        "wafer_p2_filesystem_link_at",
        &[I32, I32, I32, I32, I32, I32, I32, I32],
        &[],
    ),
    f(
        "wasi:filesystem/types",
        "[method]descriptor.open-at",
        "wafer_p2_filesystem_open_at",
        &[I32, I32, I32, I32, I32, I32, I32],
        &[],
    ),
    f(
        "wasi:filesystem/types",
        "[method]descriptor.readlink-at",
        "wafer_p2_filesystem_readlink_at",
        &[I32, I32, I32, I32],
        &[],
    ),
    f(
        "wasi:filesystem/types",
        "[method]descriptor.remove-directory-at",
        "wafer_p2_filesystem_remove_directory_at",
        &[I32, I32, I32, I32],
        &[],
    ),
    f(
        "wasi:filesystem/types",
        "[method]descriptor.rename-at",
        "wafer_p2_filesystem_rename_at",
        &[I32, I32, I32, I32, I32, I32, I32],
        &[],
    ),
    f(
        "wasi:filesystem/types",
        "[method]descriptor.symlink-at",
        "wafer_p2_filesystem_symlink_at",
        &[I32, I32, I32, I32, I32, I32],
        &[],
    ),
    f(
        "wasi:filesystem/types",
        "[method]descriptor.unlink-file-at",
        "wafer_p2_filesystem_unlink_file_at",
        &[I32, I32, I32, I32],
        &[],
    ),
    f(
        "wasi:filesystem/types",
        "[method]descriptor.is-same-object",
        "wafer_p2_filesystem_is_same_object",
        &[I32, I32],
        &[I32],
    ),
    f(
        "wasi:filesystem/types",
        "[method]descriptor.metadata-hash",
        "wafer_p2_filesystem_metadata_hash",
        &[I32, I32],
        &[],
    ),
    f(
        "wasi:filesystem/types",
        "[method]descriptor.metadata-hash-at",
        "wafer_p2_filesystem_metadata_hash_at",
        &[I32, I32, I32, I32, I32],
        &[],
    ),
    f(
        "wasi:filesystem/types",
        "[method]directory-entry-stream.read-directory-entry",
        "wafer_p2_filesystem_read_directory_entry",
        &[I32, I32],
        &[],
    ),
    // wasi:sockets
    f(
        "wasi:sockets/instance-network",
        "instance-network",
        "wafer_p2_sockets_instance_network",
        &[],
        &[I32],
    ),
    f(
        "wasi:sockets/network",
        "network-error-code",
        "wafer_p2_sockets_network_error_code",
        &[I32, I32],
        &[],
    ),
    f(
        "wasi:sockets/tcp-create-socket",
        "create-tcp-socket",
        "wafer_p2_sockets_create_tcp_socket",
        &[I32, I32],
        &[],
    ),
    f(
        "wasi:sockets/tcp",
        "[method]tcp-socket.start-bind",
        "wafer_p2_sockets_tcp_start_bind",
        &[
            I32, I32, I32, I32, I32, I32, I32, I32, I32, I32, I32, I32, I32, I32, I32,
        ],
        &[],
    ),
    f(
        "wasi:sockets/tcp",
        "[method]tcp-socket.finish-bind",
        "wafer_p2_sockets_tcp_finish_bind",
        &[I32, I32],
        &[],
    ),
    f(
        "wasi:sockets/tcp",
        "[method]tcp-socket.start-connect",
        "wafer_p2_sockets_tcp_start_connect",
        &[
            I32, I32, I32, I32, I32, I32, I32, I32, I32, I32, I32, I32, I32, I32, I32,
        ],
        &[],
    ),
    f(
        "wasi:sockets/tcp",
        "[method]tcp-socket.finish-connect",
        "wafer_p2_sockets_tcp_finish_connect",
        &[I32, I32],
        &[],
    ),
    f(
        "wasi:sockets/tcp",
        "[method]tcp-socket.start-listen",
        "wafer_p2_sockets_tcp_start_listen",
        &[I32, I32],
        &[],
    ),
    f(
        "wasi:sockets/tcp",
        "[method]tcp-socket.finish-listen",
        "wafer_p2_sockets_tcp_finish_listen",
        &[I32, I32],
        &[],
    ),
    f(
        "wasi:sockets/tcp",
        "[method]tcp-socket.accept",
        "wafer_p2_sockets_tcp_accept",
        &[I32, I32],
        &[],
    ),
    f(
        "wasi:sockets/tcp",
        "[method]tcp-socket.local-address",
        "wafer_p2_sockets_tcp_local_address",
        &[I32, I32],
        &[],
    ),
    f(
        "wasi:sockets/tcp",
        "[method]tcp-socket.remote-address",
        "wafer_p2_sockets_tcp_remote_address",
        &[I32, I32],
        &[],
    ),
    f(
        "wasi:sockets/tcp",
        "[method]tcp-socket.is-listening",
        "wafer_p2_sockets_tcp_is_listening",
        &[I32],
        &[I32],
    ),
    f(
        "wasi:sockets/tcp",
        "[method]tcp-socket.address-family",
        "wafer_p2_sockets_tcp_address_family",
        &[I32],
        &[I32],
    ),
    f(
        "wasi:sockets/tcp",
        "[method]tcp-socket.set-listen-backlog-size",
        "wafer_p2_sockets_tcp_set_listen_backlog_size",
        &[I32, I64, I32],
        &[],
    ),
    f(
        "wasi:sockets/tcp",
        "[method]tcp-socket.keep-alive-enabled",
        "wafer_p2_sockets_tcp_keep_alive_enabled",
        &[I32, I32],
        &[],
    ),
    f(
        "wasi:sockets/tcp",
        "[method]tcp-socket.set-keep-alive-enabled",
        "wafer_p2_sockets_tcp_set_keep_alive_enabled",
        &[I32, I32, I32],
        &[],
    ),
    f(
        "wasi:sockets/tcp",
        "[method]tcp-socket.keep-alive-idle-time",
        "wafer_p2_sockets_tcp_keep_alive_idle_time",
        &[I32, I32],
        &[],
    ),
    f(
        "wasi:sockets/tcp",
        "[method]tcp-socket.set-keep-alive-idle-time",
        "wafer_p2_sockets_tcp_set_keep_alive_idle_time",
        &[I32, I64, I32],
        &[],
    ),
    f(
        "wasi:sockets/tcp",
        "[method]tcp-socket.keep-alive-interval",
        "wafer_p2_sockets_tcp_keep_alive_interval",
        &[I32, I32],
        &[],
    ),
    f(
        "wasi:sockets/tcp",
        "[method]tcp-socket.set-keep-alive-interval",
        "wafer_p2_sockets_tcp_set_keep_alive_interval",
        &[I32, I64, I32],
        &[],
    ),
    f(
        "wasi:sockets/tcp",
        "[method]tcp-socket.keep-alive-count",
        "wafer_p2_sockets_tcp_keep_alive_count",
        &[I32, I32],
        &[],
    ),
    f(
        "wasi:sockets/tcp",
        "[method]tcp-socket.set-keep-alive-count",
        "wafer_p2_sockets_tcp_set_keep_alive_count",
        &[I32, I32, I32],
        &[],
    ),
    f(
        "wasi:sockets/tcp",
        "[method]tcp-socket.hop-limit",
        "wafer_p2_sockets_tcp_hop_limit",
        &[I32, I32],
        &[],
    ),
    f(
        "wasi:sockets/tcp",
        "[method]tcp-socket.set-hop-limit",
        "wafer_p2_sockets_tcp_set_hop_limit",
        &[I32, I32, I32],
        &[],
    ),
    f(
        "wasi:sockets/tcp",
        "[method]tcp-socket.receive-buffer-size",
        "wafer_p2_sockets_tcp_receive_buffer_size",
        &[I32, I32],
        &[],
    ),
    f(
        "wasi:sockets/tcp",
        "[method]tcp-socket.set-receive-buffer-size",
        "wafer_p2_sockets_tcp_set_receive_buffer_size",
        &[I32, I64, I32],
        &[],
    ),
    f(
        "wasi:sockets/tcp",
        "[method]tcp-socket.send-buffer-size",
        "wafer_p2_sockets_tcp_send_buffer_size",
        &[I32, I32],
        &[],
    ),
    f(
        "wasi:sockets/tcp",
        "[method]tcp-socket.set-send-buffer-size",
        "wafer_p2_sockets_tcp_set_send_buffer_size",
        &[I32, I64, I32],
        &[],
    ),
    f(
        "wasi:sockets/tcp",
        "[method]tcp-socket.subscribe",
        "wafer_p2_sockets_tcp_subscribe",
        &[I32],
        &[I32],
    ),
    f(
        "wasi:sockets/tcp",
        "[method]tcp-socket.shutdown",
        "wafer_p2_sockets_tcp_shutdown",
        &[I32, I32, I32],
        &[],
    ),
    f(
        "wasi:sockets/udp-create-socket",
        "create-udp-socket",
        "wafer_p2_sockets_create_udp_socket",
        &[I32, I32],
        &[],
    ),
    f(
        "wasi:sockets/udp",
        "[method]udp-socket.start-bind",
        "wafer_p2_sockets_udp_start_bind",
        &[
            I32, I32, I32, I32, I32, I32, I32, I32, I32, I32, I32, I32, I32, I32, I32,
        ],
        &[],
    ),
    f(
        "wasi:sockets/udp",
        "[method]udp-socket.finish-bind",
        "wafer_p2_sockets_udp_finish_bind",
        &[I32, I32],
        &[],
    ),
    f(
        "wasi:sockets/udp",
        "[method]udp-socket.stream",
        "wafer_p2_sockets_udp_stream",
        &[
            I32, I32, I32, I32, I32, I32, I32, I32, I32, I32, I32, I32, I32, I32, I32,
        ],
        &[],
    ),
    f(
        "wasi:sockets/udp",
        "[method]udp-socket.local-address",
        "wafer_p2_sockets_udp_local_address",
        &[I32, I32],
        &[],
    ),
    f(
        "wasi:sockets/udp",
        "[method]udp-socket.remote-address",
        "wafer_p2_sockets_udp_remote_address",
        &[I32, I32],
        &[],
    ),
    f(
        "wasi:sockets/udp",
        "[method]udp-socket.address-family",
        "wafer_p2_sockets_udp_address_family",
        &[I32],
        &[I32],
    ),
    f(
        "wasi:sockets/udp",
        "[method]udp-socket.unicast-hop-limit",
        "wafer_p2_sockets_udp_unicast_hop_limit",
        &[I32, I32],
        &[],
    ),
    f(
        "wasi:sockets/udp",
        "[method]udp-socket.set-unicast-hop-limit",
        "wafer_p2_sockets_udp_set_unicast_hop_limit",
        &[I32, I32, I32],
        &[],
    ),
    f(
        "wasi:sockets/udp",
        "[method]udp-socket.receive-buffer-size",
        "wafer_p2_sockets_udp_receive_buffer_size",
        &[I32, I32],
        &[],
    ),
    f(
        "wasi:sockets/udp",
        "[method]udp-socket.set-receive-buffer-size",
        "wafer_p2_sockets_udp_set_receive_buffer_size",
        &[I32, I64, I32],
        &[],
    ),
    f(
        "wasi:sockets/udp",
        "[method]udp-socket.send-buffer-size",
        "wafer_p2_sockets_udp_send_buffer_size",
        &[I32, I32],
        &[],
    ),
    f(
        "wasi:sockets/udp",
        "[method]udp-socket.set-send-buffer-size",
        "wafer_p2_sockets_udp_set_send_buffer_size",
        &[I32, I64, I32],
        &[],
    ),
    f(
        "wasi:sockets/udp",
        "[method]udp-socket.subscribe",
        "wafer_p2_sockets_udp_subscribe",
        &[I32],
        &[I32],
    ),
    f(
        "wasi:sockets/udp",
        "[method]incoming-datagram-stream.receive",
        "wafer_p2_sockets_udp_receive",
        &[I32, I64, I32],
        &[],
    ),
    f(
        "wasi:sockets/udp",
        "[method]incoming-datagram-stream.subscribe",
        "wafer_p2_sockets_udp_incoming_subscribe",
        &[I32],
        &[I32],
    ),
    f(
        "wasi:sockets/udp",
        "[method]outgoing-datagram-stream.check-send",
        "wafer_p2_sockets_udp_check_send",
        &[I32, I32],
        &[],
    ),
    f(
        "wasi:sockets/udp",
        "[method]outgoing-datagram-stream.send",
        "wafer_p2_sockets_udp_send",
        &[I32, I32, I32, I32],
        &[],
    ),
    f(
        "wasi:sockets/udp",
        "[method]outgoing-datagram-stream.subscribe",
        "wafer_p2_sockets_udp_outgoing_subscribe",
        &[I32],
        &[I32],
    ),
    f(
        "wasi:sockets/ip-name-lookup",
        "resolve-addresses",
        "wafer_p2_sockets_resolve_addresses",
        &[I32, I32, I32, I32],
        &[],
    ),
    f(
        "wasi:sockets/ip-name-lookup",
        "[method]resolve-address-stream.resolve-next-address",
        "wafer_p2_sockets_resolve_next_address",
        &[I32, I32],
        &[],
    ),
    f(
        "wasi:sockets/ip-name-lookup",
        "[method]resolve-address-stream.subscribe",
        "wafer_p2_sockets_resolve_subscribe",
        &[I32],
        &[I32],
    ),
];

/// Resource types the host defines, by number (never 0). A handle of one in a component
/// instance's table records its number (the runtime keeps it apart from the resources
/// components define, which the component numbers).
pub mod resource {
    /// `wasi:io/poll.pollable`
    pub const POLLABLE: u32 = 1;
    /// `wasi:io/error.error`
    pub const ERROR: u32 = 2;
    /// `wasi:io/streams.input-stream`
    pub const INPUT_STREAM: u32 = 3;
    /// `wasi:io/streams.output-stream`
    pub const OUTPUT_STREAM: u32 = 4;
    /// `wasi:cli/terminal-input.terminal-input`
    pub const TERMINAL_INPUT: u32 = 5;
    /// `wasi:cli/terminal-output.terminal-output`
    pub const TERMINAL_OUTPUT: u32 = 6;
    /// `wasi:filesystem/types.descriptor`
    pub const DESCRIPTOR: u32 = 7;
    /// `wasi:filesystem/types.directory-entry-stream`
    pub const DIRECTORY_ENTRY_STREAM: u32 = 8;
    /// `wasi:sockets/network.network`
    pub const NETWORK: u32 = 9;
    /// `wasi:sockets/tcp.tcp-socket`
    pub const TCP_SOCKET: u32 = 10;
    /// `wasi:sockets/udp.udp-socket`
    pub const UDP_SOCKET: u32 = 11;
    /// `wasi:sockets/udp.incoming-datagram-stream`
    pub const INCOMING_DATAGRAM_STREAM: u32 = 12;
    /// `wasi:sockets/udp.outgoing-datagram-stream`
    pub const OUTGOING_DATAGRAM_STREAM: u32 = 13;
    /// `wasi:sockets/ip-name-lookup.resolve-address-stream`
    pub const RESOLVE_ADDRESS_STREAM: u32 = 14;
    /// `wasi:http/types@0.3.fields`
    pub const HTTP_FIELDS: u32 = 32;
    /// `wasi:http/types@0.3.request`
    pub const HTTP_REQUEST: u32 = 33;
    /// `wasi:http/types@0.3.response`
    pub const HTTP_RESPONSE: u32 = 34;
    /// `wasi:http/types@0.3.request-options`
    pub const HTTP_REQUEST_OPTIONS: u32 = 35;
    /// `wasi:filesystem/types@0.3.descriptor`: the same host object as 0.2's, a
    /// resource type of its own (a handle of one is not a handle of the other).
    pub const DESCRIPTOR_P3: u32 = 15;
    /// `wasi:sockets/types@0.3.tcp-socket`: 0.2's socket object, a resource type of
    /// its own.
    pub const TCP_SOCKET_P3: u32 = 16;
    /// `wasi:sockets/types@0.3.udp-socket`.
    pub const UDP_SOCKET_P3: u32 = 17;
}

/// Whether host resource type `ty` is one of `wasi:http`'s (its representation indexes
/// the HTTP host's own objects, not the WASI 0.2 host objects).
pub const fn is_http_resource(ty: u32) -> bool {
    matches!(
        ty,
        resource::HTTP_FIELDS
            | resource::HTTP_REQUEST
            | resource::HTTP_RESPONSE
            | resource::HTTP_REQUEST_OPTIONS
    )
}

/// Host resources of WASI 0.3 interfaces (interfaces at `0.3.x`): (interface without
/// version, resource name, type number).
pub const P3_RESOURCES: &[(&str, &str, u32)] = &[
    (
        "wasi:filesystem/types",
        "descriptor",
        resource::DESCRIPTOR_P3,
    ),
    ("wasi:sockets/types", "tcp-socket", resource::TCP_SOCKET_P3),
    ("wasi:sockets/types", "udp-socket", resource::UDP_SOCKET_P3),
    ("wasi:http/types", "fields", resource::HTTP_FIELDS),
    ("wasi:http/types", "request", resource::HTTP_REQUEST),
    ("wasi:http/types", "response", resource::HTTP_RESPONSE),
    (
        "wasi:http/types",
        "request-options",
        resource::HTTP_REQUEST_OPTIONS,
    ),
];

/// Host resources: (interface without version, resource name, type number).
pub const RESOURCES: &[(&str, &str, u32)] = &[
    ("wasi:io/poll", "pollable", resource::POLLABLE),
    ("wasi:io/error", "error", resource::ERROR),
    ("wasi:io/streams", "input-stream", resource::INPUT_STREAM),
    ("wasi:io/streams", "output-stream", resource::OUTPUT_STREAM),
    (
        "wasi:cli/terminal-input",
        "terminal-input",
        resource::TERMINAL_INPUT,
    ),
    (
        "wasi:cli/terminal-output",
        "terminal-output",
        resource::TERMINAL_OUTPUT,
    ),
    ("wasi:filesystem/types", "descriptor", resource::DESCRIPTOR),
    (
        "wasi:filesystem/types",
        "directory-entry-stream",
        resource::DIRECTORY_ENTRY_STREAM,
    ),
    ("wasi:sockets/network", "network", resource::NETWORK),
    ("wasi:sockets/tcp", "tcp-socket", resource::TCP_SOCKET),
    ("wasi:sockets/udp", "udp-socket", resource::UDP_SOCKET),
    (
        "wasi:sockets/udp",
        "incoming-datagram-stream",
        resource::INCOMING_DATAGRAM_STREAM,
    ),
    (
        "wasi:sockets/udp",
        "outgoing-datagram-stream",
        resource::OUTGOING_DATAGRAM_STREAM,
    ),
    (
        "wasi:sockets/ip-name-lookup",
        "resolve-address-stream",
        resource::RESOLVE_ADDRESS_STREAM,
    ),
];

/// The parts of an interface name: `wasi:cli/stdout@0.2.6` is `("wasi:cli/stdout",
/// Some("0.2.6"))`.
pub fn split_version(interface: &str) -> (&str, Option<&str>) {
    match interface.split_once('@') {
        Some((name, version)) => (name, Some(version)),
        None => (interface, None),
    }
}

/// Whether `version` (of an import) is semver-compatible with the 0.2 the host
/// implements: `0.2.x` for any patch `x`, pre-releases included.
pub fn is_compatible_version(version: Option<&str>) -> bool {
    let Some(version) = version else {
        return false;
    };
    let mut parts = version.splitn(3, '.');
    let (Some("0"), Some("2"), Some(patch)) = (parts.next(), parts.next(), parts.next()) else {
        return false;
    };
    let digits = patch.split(['-', '+']).next().unwrap_or_default();
    !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())
}

/// The WASI 0.3 functions the host implements (interfaces at `0.3.x`). An `async`
/// function is lowered `async`: it returns the packed status of its subtask (a new
/// subtask's handle above the 4 status bits), as the canonical ABI's async lower does.
/// The synchronous ones have the ABI of their WASI 0.2 counterparts and share their
/// symbols.
pub const P3_FUNCTIONS: &[HostFunc] = &[
    // The stdio streams (wasmtime 49's shape: `write-via-stream` is synchronous and
    // returns a future of the outcome).
    f(
        "wasi:cli/stdin",
        "read-via-stream",
        "wafer_p3_stdin_read_via_stream",
        &[I32],
        &[],
    ),
    f(
        "wasi:cli/stdout",
        "write-via-stream",
        "wafer_p3_stdout_write_via_stream",
        &[I32],
        &[I32],
    ),
    f(
        "wasi:cli/stderr",
        "write-via-stream",
        "wafer_p3_stderr_write_via_stream",
        &[I32],
        &[I32],
    ),
    f(
        "wasi:cli/environment",
        "get-environment",
        "wafer_p2_cli_get_environment",
        &[I32],
        &[],
    ),
    f(
        "wasi:cli/environment",
        "get-arguments",
        "wafer_p2_cli_get_arguments",
        &[I32],
        &[],
    ),
    f(
        "wasi:cli/environment",
        "get-initial-cwd",
        "wafer_p2_cli_initial_cwd",
        &[I32],
        &[],
    ),
    f("wasi:cli/exit", "exit", "wafer_p2_cli_exit", &[I32], &[]),
    f(
        "wasi:cli/exit",
        "exit-with-code",
        "wafer_p2_cli_exit_with_code",
        &[I32],
        &[],
    ),
    f(
        "wasi:random/random",
        "get-random-bytes",
        "wafer_p2_random_get_random_bytes",
        &[I64, I32],
        &[],
    ),
    f(
        "wasi:random/random",
        "get-random-u64",
        "wafer_p2_random_get_random_u64",
        &[],
        &[I64],
    ),
    f(
        "wasi:random/insecure",
        "get-insecure-random-bytes",
        "wafer_p2_random_get_insecure_random_bytes",
        &[I64, I32],
        &[],
    ),
    f(
        "wasi:random/insecure",
        "get-insecure-random-u64",
        "wafer_p2_random_get_insecure_random_u64",
        &[],
        &[I64],
    ),
    f(
        "wasi:random/insecure-seed",
        "get-insecure-seed",
        "wafer_p2_random_insecure_seed",
        &[I32],
        &[],
    ),
    // `system-clock` is the later drafts' name of `wall-clock`; `now` returns the
    // same two fields, through the return pointer.
    f(
        "wasi:clocks/wall-clock",
        "now",
        "wafer_p2_clocks_wall_now",
        &[I32],
        &[],
    ),
    f(
        "wasi:clocks/system-clock",
        "now",
        "wafer_p2_clocks_wall_now",
        &[I32],
        &[],
    ),
    f(
        "wasi:clocks/monotonic-clock",
        "now",
        "wafer_p2_clocks_monotonic_now",
        &[],
        &[I64],
    ),
    f(
        "wasi:clocks/monotonic-clock",
        "get-resolution",
        "wafer_p2_clocks_monotonic_resolution",
        &[],
        &[I64],
    ),
    f(
        "wasi:clocks/monotonic-clock",
        "wait-for",
        "wafer_p3_clocks_wait_for",
        &[I64],
        &[I32],
    ),
    f(
        "wasi:clocks/monotonic-clock",
        "wait-until",
        "wafer_p3_clocks_wait_until",
        &[I64],
        &[I32],
    ),
    // wasi:http/client: `send` is `async`, lowered `async`.
    f(
        "wasi:http/client",
        "send",
        "wafer_p3_http_client_send",
        &[I32, I32],
        &[I32],
    ),
    // wasi:http/types: the resources of requests and responses (`runtime/src/http/`).
    f(
        "wasi:http/types",
        "[constructor]fields",
        "wafer_p3_http_fields_new",
        &[],
        &[I32],
    ),
    f(
        "wasi:http/types",
        "[static]fields.from-list",
        "wafer_p3_http_fields_from_list",
        &[I32, I32, I32],
        &[],
    ),
    f(
        "wasi:http/types",
        "[method]fields.get",
        "wafer_p3_http_fields_get",
        &[I32, I32, I32, I32],
        &[],
    ),
    f(
        "wasi:http/types",
        "[method]fields.has",
        "wafer_p3_http_fields_has",
        &[I32, I32, I32],
        &[I32],
    ),
    f(
        "wasi:http/types",
        "[method]fields.set",
        "wafer_p3_http_fields_set",
        &[I32, I32, I32, I32, I32, I32],
        &[],
    ),
    f(
        "wasi:http/types",
        "[method]fields.delete",
        "wafer_p3_http_fields_delete",
        &[I32, I32, I32, I32],
        &[],
    ),
    f(
        "wasi:http/types",
        "[method]fields.get-and-delete",
        "wafer_p3_http_fields_get_and_delete",
        &[I32, I32, I32, I32],
        &[],
    ),
    f(
        "wasi:http/types",
        "[method]fields.append",
        "wafer_p3_http_fields_append",
        &[I32, I32, I32, I32, I32, I32],
        &[],
    ),
    f(
        "wasi:http/types",
        "[method]fields.copy-all",
        "wafer_p3_http_fields_copy_all",
        &[I32, I32],
        &[],
    ),
    f(
        "wasi:http/types",
        "[method]fields.clone",
        "wafer_p3_http_fields_clone",
        &[I32],
        &[I32],
    ),
    f(
        "wasi:http/types",
        "[static]request.new",
        "wafer_p3_http_request_new",
        &[I32, I32, I32, I32, I32, I32, I32],
        &[],
    ),
    f(
        "wasi:http/types",
        "[method]request.get-method",
        "wafer_p3_http_request_get_method",
        &[I32, I32],
        &[],
    ),
    f(
        "wasi:http/types",
        "[method]request.set-method",
        "wafer_p3_http_request_set_method",
        &[I32, I32, I32, I32],
        &[I32],
    ),
    f(
        "wasi:http/types",
        "[method]request.get-path-with-query",
        "wafer_p3_http_request_get_path_with_query",
        &[I32, I32],
        &[],
    ),
    f(
        "wasi:http/types",
        "[method]request.set-path-with-query",
        "wafer_p3_http_request_set_path_with_query",
        &[I32, I32, I32, I32],
        &[I32],
    ),
    f(
        "wasi:http/types",
        "[method]request.get-scheme",
        "wafer_p3_http_request_get_scheme",
        &[I32, I32],
        &[],
    ),
    f(
        "wasi:http/types",
        "[method]request.set-scheme",
        "wafer_p3_http_request_set_scheme",
        &[I32, I32, I32, I32, I32],
        &[I32],
    ),
    f(
        "wasi:http/types",
        "[method]request.get-authority",
        "wafer_p3_http_request_get_authority",
        &[I32, I32],
        &[],
    ),
    f(
        "wasi:http/types",
        "[method]request.set-authority",
        "wafer_p3_http_request_set_authority",
        &[I32, I32, I32, I32],
        &[I32],
    ),
    f(
        "wasi:http/types",
        "[method]request.get-options",
        "wafer_p3_http_request_get_options",
        &[I32, I32],
        &[],
    ),
    f(
        "wasi:http/types",
        "[method]request.get-headers",
        "wafer_p3_http_request_get_headers",
        &[I32],
        &[I32],
    ),
    f(
        "wasi:http/types",
        "[static]request.consume-body",
        "wafer_p3_http_request_consume_body",
        &[I32, I32, I32],
        &[],
    ),
    f(
        "wasi:http/types",
        "[constructor]request-options",
        "wafer_p3_http_options_new",
        &[],
        &[I32],
    ),
    f(
        "wasi:http/types",
        "[method]request-options.get-connect-timeout",
        "wafer_p3_http_options_get_connect_timeout",
        &[I32, I32],
        &[],
    ),
    f(
        "wasi:http/types",
        "[method]request-options.set-connect-timeout",
        "wafer_p3_http_options_set_connect_timeout",
        &[I32, I32, I64, I32],
        &[],
    ),
    f(
        "wasi:http/types",
        "[method]request-options.get-first-byte-timeout",
        "wafer_p3_http_options_get_first_byte_timeout",
        &[I32, I32],
        &[],
    ),
    f(
        "wasi:http/types",
        "[method]request-options.set-first-byte-timeout",
        "wafer_p3_http_options_set_first_byte_timeout",
        &[I32, I32, I64, I32],
        &[],
    ),
    f(
        "wasi:http/types",
        "[method]request-options.get-between-bytes-timeout",
        "wafer_p3_http_options_get_between_bytes_timeout",
        &[I32, I32],
        &[],
    ),
    f(
        "wasi:http/types",
        "[method]request-options.set-between-bytes-timeout",
        "wafer_p3_http_options_set_between_bytes_timeout",
        &[I32, I32, I64, I32],
        &[],
    ),
    f(
        "wasi:http/types",
        "[method]request-options.clone",
        "wafer_p3_http_options_clone",
        &[I32],
        &[I32],
    ),
    f(
        "wasi:http/types",
        "[static]response.new",
        "wafer_p3_http_response_new",
        &[I32, I32, I32, I32, I32],
        &[],
    ),
    f(
        "wasi:http/types",
        "[method]response.get-status-code",
        "wafer_p3_http_response_get_status_code",
        &[I32],
        &[I32],
    ),
    f(
        "wasi:http/types",
        "[method]response.set-status-code",
        "wafer_p3_http_response_set_status_code",
        &[I32, I32],
        &[I32],
    ),
    f(
        "wasi:http/types",
        "[method]response.get-headers",
        "wafer_p3_http_response_get_headers",
        &[I32],
        &[I32],
    ),
    f(
        "wasi:http/types",
        "[static]response.consume-body",
        "wafer_p3_http_response_consume_body",
        &[I32, I32, I32],
        &[],
    ),
];

/// `wasi:filesystem@0.3`: the functions of `descriptor` that take or give streams are
/// synchronous (`read-via-stream`, `read-directory`: a stream and the future of its
/// outcome through the return pointer); the others are `async` (parameters past 4 flat
/// values through a pointer, results through the return pointer, the subtask's status
/// returned).
const P3_FILESYSTEM: &[HostFunc] = &[
    f(
        "wasi:filesystem/preopens",
        "get-directories",
        "wafer_p3_filesystem_get_directories",
        &[I32],
        &[],
    ),
    f(
        "wasi:filesystem/types",
        "[method]descriptor.read-via-stream",
        "wafer_p3_filesystem_read_via_stream",
        &[I32, I64, I32],
        &[],
    ),
    f(
        "wasi:filesystem/types",
        "[method]descriptor.write-via-stream",
        "wafer_p3_filesystem_write_via_stream",
        &[I32, I32, I64],
        &[I32],
    ),
    f(
        "wasi:filesystem/types",
        "[method]descriptor.append-via-stream",
        "wafer_p3_filesystem_append_via_stream",
        &[I32, I32],
        &[I32],
    ),
    f(
        "wasi:filesystem/types",
        "[method]descriptor.read-directory",
        "wafer_p3_filesystem_read_directory",
        &[I32, I32],
        &[],
    ),
    f(
        "wasi:filesystem/types",
        "[method]descriptor.advise",
        "wafer_p3_filesystem_advise",
        &[I32, I64, I64, I32, I32],
        &[I32],
    ),
    f(
        "wasi:filesystem/types",
        "[method]descriptor.sync-data",
        "wafer_p3_filesystem_sync_data",
        &[I32, I32],
        &[I32],
    ),
    f(
        "wasi:filesystem/types",
        "[method]descriptor.sync",
        "wafer_p3_filesystem_sync",
        &[I32, I32],
        &[I32],
    ),
    f(
        "wasi:filesystem/types",
        "[method]descriptor.get-flags",
        "wafer_p3_filesystem_get_flags",
        &[I32, I32],
        &[I32],
    ),
    f(
        "wasi:filesystem/types",
        "[method]descriptor.get-type",
        "wafer_p3_filesystem_get_type",
        &[I32, I32],
        &[I32],
    ),
    f(
        "wasi:filesystem/types",
        "[method]descriptor.set-size",
        "wafer_p3_filesystem_set_size",
        &[I32, I64, I32],
        &[I32],
    ),
    f(
        "wasi:filesystem/types",
        "[method]descriptor.set-times",
        "wafer_p3_filesystem_set_times",
        &[I32, I32],
        &[I32],
    ),
    f(
        "wasi:filesystem/types",
        "[method]descriptor.create-directory-at",
        "wafer_p3_filesystem_create_directory_at",
        &[I32, I32, I32, I32],
        &[I32],
    ),
    f(
        "wasi:filesystem/types",
        "[method]descriptor.stat",
        "wafer_p3_filesystem_stat",
        &[I32, I32],
        &[I32],
    ),
    f(
        "wasi:filesystem/types",
        "[method]descriptor.stat-at",
        "wafer_p3_filesystem_stat_at",
        &[I32, I32, I32, I32, I32],
        &[I32],
    ),
    f(
        "wasi:filesystem/types",
        "[method]descriptor.set-times-at",
        "wafer_p3_filesystem_set_times_at",
        &[I32, I32],
        &[I32],
    ),
    f(
        "wasi:filesystem/types",
        "[method]descriptor.link-at",
        "wafer_p3_filesystem_link_at",
        &[I32, I32],
        &[I32],
    ),
    f(
        "wasi:filesystem/types",
        "[method]descriptor.open-at",
        "wafer_p3_filesystem_open_at",
        &[I32, I32],
        &[I32],
    ),
    f(
        "wasi:filesystem/types",
        "[method]descriptor.readlink-at",
        "wafer_p3_filesystem_readlink_at",
        &[I32, I32, I32, I32],
        &[I32],
    ),
    f(
        "wasi:filesystem/types",
        "[method]descriptor.remove-directory-at",
        "wafer_p3_filesystem_remove_directory_at",
        &[I32, I32, I32, I32],
        &[I32],
    ),
    f(
        "wasi:filesystem/types",
        "[method]descriptor.rename-at",
        "wafer_p3_filesystem_rename_at",
        &[I32, I32],
        &[I32],
    ),
    f(
        "wasi:filesystem/types",
        "[method]descriptor.symlink-at",
        "wafer_p3_filesystem_symlink_at",
        &[I32, I32],
        &[I32],
    ),
    f(
        "wasi:filesystem/types",
        "[method]descriptor.unlink-file-at",
        "wafer_p3_filesystem_unlink_file_at",
        &[I32, I32, I32, I32],
        &[I32],
    ),
    f(
        "wasi:filesystem/types",
        "[method]descriptor.is-same-object",
        "wafer_p3_filesystem_is_same_object",
        &[I32, I32, I32],
        &[I32],
    ),
    f(
        "wasi:filesystem/types",
        "[method]descriptor.metadata-hash",
        "wafer_p3_filesystem_metadata_hash",
        &[I32, I32],
        &[I32],
    ),
    f(
        "wasi:filesystem/types",
        "[method]descriptor.metadata-hash-at",
        "wafer_p3_filesystem_metadata_hash_at",
        &[I32, I32, I32, I32, I32],
        &[I32],
    ),
];

/// `wasi:sockets@0.3`: `tcp-socket.connect`, `udp-socket.send` and `.receive` and
/// `resolve-addresses` are `async` (parameters past 4 flat values through a pointer,
/// results through the return pointer, the subtask's status returned); the rest are
/// synchronous. An `ip-socket-address` is 12 flat values (the case, then the port and
/// the IPv6 fields, an IPv4 address in the first four).
const P3_SOCKETS: &[HostFunc] = &[
    f(
        "wasi:sockets/types",
        "[static]tcp-socket.create",
        "wafer_p3_sockets_tcp_create",
        &[I32, I32],
        &[],
    ),
    f(
        "wasi:sockets/types",
        "[method]tcp-socket.bind",
        "wafer_p3_sockets_tcp_bind",
        &[
            I32, I32, I32, I32, I32, I32, I32, I32, I32, I32, I32, I32, I32, I32,
        ],
        &[],
    ),
    f(
        "wasi:sockets/types",
        "[method]tcp-socket.connect",
        "wafer_p3_sockets_tcp_connect",
        &[I32, I32],
        &[I32],
    ),
    f(
        "wasi:sockets/types",
        "[method]tcp-socket.listen",
        "wafer_p3_sockets_tcp_listen",
        &[I32, I32],
        &[],
    ),
    f(
        "wasi:sockets/types",
        "[method]tcp-socket.send",
        "wafer_p3_sockets_tcp_send",
        &[I32, I32],
        &[I32],
    ),
    f(
        "wasi:sockets/types",
        "[method]tcp-socket.receive",
        "wafer_p3_sockets_tcp_receive",
        &[I32, I32],
        &[],
    ),
    f(
        "wasi:sockets/types",
        "[method]tcp-socket.get-local-address",
        "wafer_p3_sockets_tcp_local_address",
        &[I32, I32],
        &[],
    ),
    f(
        "wasi:sockets/types",
        "[method]tcp-socket.get-remote-address",
        "wafer_p3_sockets_tcp_remote_address",
        &[I32, I32],
        &[],
    ),
    f(
        "wasi:sockets/types",
        "[method]tcp-socket.get-is-listening",
        "wafer_p3_sockets_tcp_is_listening",
        &[I32],
        &[I32],
    ),
    f(
        "wasi:sockets/types",
        "[method]tcp-socket.get-address-family",
        "wafer_p3_sockets_tcp_address_family",
        &[I32],
        &[I32],
    ),
    f(
        "wasi:sockets/types",
        "[method]tcp-socket.set-listen-backlog-size",
        "wafer_p3_sockets_tcp_set_listen_backlog_size",
        &[I32, I64, I32],
        &[],
    ),
    f(
        "wasi:sockets/types",
        "[method]tcp-socket.get-keep-alive-enabled",
        "wafer_p3_sockets_tcp_keep_alive_enabled",
        &[I32, I32],
        &[],
    ),
    f(
        "wasi:sockets/types",
        "[method]tcp-socket.set-keep-alive-enabled",
        "wafer_p3_sockets_tcp_set_keep_alive_enabled",
        &[I32, I32, I32],
        &[],
    ),
    f(
        "wasi:sockets/types",
        "[method]tcp-socket.get-keep-alive-idle-time",
        "wafer_p3_sockets_tcp_keep_alive_idle_time",
        &[I32, I32],
        &[],
    ),
    f(
        "wasi:sockets/types",
        "[method]tcp-socket.set-keep-alive-idle-time",
        "wafer_p3_sockets_tcp_set_keep_alive_idle_time",
        &[I32, I64, I32],
        &[],
    ),
    f(
        "wasi:sockets/types",
        "[method]tcp-socket.get-keep-alive-interval",
        "wafer_p3_sockets_tcp_keep_alive_interval",
        &[I32, I32],
        &[],
    ),
    f(
        "wasi:sockets/types",
        "[method]tcp-socket.set-keep-alive-interval",
        "wafer_p3_sockets_tcp_set_keep_alive_interval",
        &[I32, I64, I32],
        &[],
    ),
    f(
        "wasi:sockets/types",
        "[method]tcp-socket.get-keep-alive-count",
        "wafer_p3_sockets_tcp_keep_alive_count",
        &[I32, I32],
        &[],
    ),
    f(
        "wasi:sockets/types",
        "[method]tcp-socket.set-keep-alive-count",
        "wafer_p3_sockets_tcp_set_keep_alive_count",
        &[I32, I32, I32],
        &[],
    ),
    f(
        "wasi:sockets/types",
        "[method]tcp-socket.get-hop-limit",
        "wafer_p3_sockets_tcp_hop_limit",
        &[I32, I32],
        &[],
    ),
    f(
        "wasi:sockets/types",
        "[method]tcp-socket.set-hop-limit",
        "wafer_p3_sockets_tcp_set_hop_limit",
        &[I32, I32, I32],
        &[],
    ),
    f(
        "wasi:sockets/types",
        "[method]tcp-socket.get-receive-buffer-size",
        "wafer_p3_sockets_tcp_receive_buffer_size",
        &[I32, I32],
        &[],
    ),
    f(
        "wasi:sockets/types",
        "[method]tcp-socket.set-receive-buffer-size",
        "wafer_p3_sockets_tcp_set_receive_buffer_size",
        &[I32, I64, I32],
        &[],
    ),
    f(
        "wasi:sockets/types",
        "[method]tcp-socket.get-send-buffer-size",
        "wafer_p3_sockets_tcp_send_buffer_size",
        &[I32, I32],
        &[],
    ),
    f(
        "wasi:sockets/types",
        "[method]tcp-socket.set-send-buffer-size",
        "wafer_p3_sockets_tcp_set_send_buffer_size",
        &[I32, I64, I32],
        &[],
    ),
    f(
        "wasi:sockets/types",
        "[static]udp-socket.create",
        "wafer_p3_sockets_udp_create",
        &[I32, I32],
        &[],
    ),
    f(
        "wasi:sockets/types",
        "[method]udp-socket.bind",
        "wafer_p3_sockets_udp_bind",
        &[
            I32, I32, I32, I32, I32, I32, I32, I32, I32, I32, I32, I32, I32, I32,
        ],
        &[],
    ),
    f(
        "wasi:sockets/types",
        "[method]udp-socket.connect",
        "wafer_p3_sockets_udp_connect",
        &[
            I32, I32, I32, I32, I32, I32, I32, I32, I32, I32, I32, I32, I32, I32,
        ],
        &[],
    ),
    f(
        "wasi:sockets/types",
        "[method]udp-socket.disconnect",
        "wafer_p3_sockets_udp_disconnect",
        &[I32, I32],
        &[],
    ),
    f(
        "wasi:sockets/types",
        "[method]udp-socket.send",
        "wafer_p3_sockets_udp_send",
        &[I32, I32],
        &[I32],
    ),
    f(
        "wasi:sockets/types",
        "[method]udp-socket.receive",
        "wafer_p3_sockets_udp_receive",
        &[I32, I32],
        &[I32],
    ),
    f(
        "wasi:sockets/types",
        "[method]udp-socket.get-local-address",
        "wafer_p3_sockets_udp_local_address",
        &[I32, I32],
        &[],
    ),
    f(
        "wasi:sockets/types",
        "[method]udp-socket.get-remote-address",
        "wafer_p3_sockets_udp_remote_address",
        &[I32, I32],
        &[],
    ),
    f(
        "wasi:sockets/types",
        "[method]udp-socket.get-address-family",
        "wafer_p3_sockets_udp_address_family",
        &[I32],
        &[I32],
    ),
    f(
        "wasi:sockets/types",
        "[method]udp-socket.get-unicast-hop-limit",
        "wafer_p3_sockets_udp_unicast_hop_limit",
        &[I32, I32],
        &[],
    ),
    f(
        "wasi:sockets/types",
        "[method]udp-socket.set-unicast-hop-limit",
        "wafer_p3_sockets_udp_set_unicast_hop_limit",
        &[I32, I32, I32],
        &[],
    ),
    f(
        "wasi:sockets/types",
        "[method]udp-socket.get-receive-buffer-size",
        "wafer_p3_sockets_udp_receive_buffer_size",
        &[I32, I32],
        &[],
    ),
    f(
        "wasi:sockets/types",
        "[method]udp-socket.set-receive-buffer-size",
        "wafer_p3_sockets_udp_set_receive_buffer_size",
        &[I32, I64, I32],
        &[],
    ),
    f(
        "wasi:sockets/types",
        "[method]udp-socket.get-send-buffer-size",
        "wafer_p3_sockets_udp_send_buffer_size",
        &[I32, I32],
        &[],
    ),
    f(
        "wasi:sockets/types",
        "[method]udp-socket.set-send-buffer-size",
        "wafer_p3_sockets_udp_set_send_buffer_size",
        &[I32, I64, I32],
        &[],
    ),
    f(
        "wasi:sockets/ip-name-lookup",
        "resolve-addresses",
        "wafer_p3_sockets_resolve_addresses",
        &[I32, I32, I32],
        &[I32],
    ),
];

/// Whether `version` is a WASI 0.3 version (`0.3.x`, with any pre-release suffix).
pub fn is_p3_version(version: Option<&str>) -> bool {
    let mut parts = version.unwrap_or_default().splitn(3, '.');
    matches!((parts.next(), parts.next()), (Some("0"), Some("3")))
        && parts
            .next()
            .is_some_and(|patch| patch.starts_with(|c: char| c.is_ascii_digit()))
}

/// The host function an import of `name` from interface `interface` (versioned, as the
/// component names it) resolves to, if the runtime implements it.
pub fn find(interface: &str, name: &str) -> Option<&'static HostFunc> {
    let (interface, version) = split_version(interface);
    let functions = if is_compatible_version(version) {
        FUNCTIONS
    } else if is_p3_version(version) {
        return P3_FUNCTIONS
            .iter()
            .chain(P3_FILESYSTEM)
            .chain(P3_SOCKETS)
            .find(|func| func.interface == interface && func.name == name);
    } else {
        return None;
    };
    functions
        .iter()
        .find(|func| func.interface == interface && func.name == name)
}

/// The host resource type of resource `name` imported from `interface` (versioned).
pub fn find_resource(interface: &str, name: &str) -> Option<u32> {
    let (interface, version) = split_version(interface);
    let resources = if is_compatible_version(version) {
        RESOURCES
    } else if is_p3_version(version) {
        P3_RESOURCES
    } else {
        return None;
    };
    resources
        .iter()
        .find(|(i, n, _)| *i == interface && *n == name)
        .map(|(_, _, ty)| *ty)
}

/// The canonical-ABI context of one set of canonical options (`canon lower ...
/// (memory ..) (realloc ..) string-encoding=..`), emitted by the compiler as writable
/// data; every host call receives it first. Pointer-sized fields, for the target's
/// pointer width `p`:
///
/// ```text
/// 0     memory     *VMMemoryDefinition of the lowering instance's memory, or null
/// p     realloc    extern "C" fn(old_ptr: u32, old_size: u32, align: u32, new_size: u32)
///                  -> u32 (the instance's `cabi_realloc`, through a generated
///                  wrapper), or null
/// 2p    instance   the address of the component instance's state word (one pointer,
///                  zero-initialised by the compiler, owned by the runtime: the
///                  instance's state, with its one handle table, created on first use;
///                  the component descriptor's instance record points at it too)
/// 3p    trap       u32: 0, or a `TrapKind` the host sets before it returns; the
///                  compiled caller then traps with it
/// 3p+4  encoding   u32: STRING_UTF8, STRING_UTF16 or STRING_LATIN1_UTF16
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CanonContext {
    ptr: u32,
}

impl CanonContext {
    /// The layout for a target with `pointer_size`-byte pointers.
    pub const fn new(pointer_size: u8) -> Self {
        CanonContext {
            ptr: pointer_size as u32,
        }
    }

    /// Offset of the memory pointer.
    pub const fn memory(&self) -> u32 {
        0
    }

    /// Offset of the realloc function pointer.
    pub const fn realloc(&self) -> u32 {
        self.ptr
    }

    /// Offset of the pointer to the component instance's state word.
    pub const fn instance(&self) -> u32 {
        2 * self.ptr
    }

    /// Offset of the pending trap.
    pub const fn trap(&self) -> u32 {
        3 * self.ptr
    }

    /// Offset of the string encoding.
    pub const fn encoding(&self) -> u32 {
        3 * self.ptr + 4
    }

    /// Size in bytes.
    pub const fn size(&self) -> u32 {
        4 * self.ptr
    }
}

/// The string transcodings of fused adapters ([`crate::symbols::TRANSCODE`]), with their
/// flat parameters and results (pointers and lengths in the memories' 32-bit address
/// spaces; lengths in code units unless said otherwise).
pub mod transcode {
    /// `(src, units, dst)`: UTF-8 copied, validated.
    pub const COPY_UTF8: u32 = 0;
    /// `(src, units, dst)`: UTF-16 copied.
    pub const COPY_UTF16: u32 = 1;
    /// `(src, units, dst)`: latin1 copied.
    pub const COPY_LATIN1: u32 = 2;
    /// `(src, units, dst)`: latin1 widened to UTF-16.
    pub const LATIN1_TO_UTF16: u32 = 3;
    /// `(src, bytes, dst) -> units`: UTF-8 to UTF-16 into `2 * bytes` bytes at `dst`,
    /// validated; returns the UTF-16 units written.
    pub const UTF8_TO_UTF16: u32 = 4;
    /// `(src, units, dst, dst_bytes, first_pass) -> (units_read, bytes_written)`: UTF-16
    /// to UTF-8, as much as fits (a character that does not fit stops it).
    pub const UTF16_TO_UTF8: u32 = 5;
    /// `(src, bytes, dst, dst_bytes, first_pass) -> (bytes_read, bytes_written)`: latin1
    /// to UTF-8, as much as fits.
    pub const LATIN1_TO_UTF8: u32 = 6;
    /// `(src, bytes, dst) -> (bytes_read, bytes_written)`: the first step from UTF-8 into
    /// latin1+utf16, latin1 while the characters fit it.
    pub const UTF8_TO_LATIN1: u32 = 7;
    /// `(src, units, dst) -> (units_read, bytes_written)`: the same from UTF-16.
    pub const UTF16_TO_LATIN1: u32 = 8;
    /// `(src, bytes, dst, dst_units, latin1_bytes) -> units`: the second step, when a
    /// character did not fit latin1: the latin1 bytes at `dst` widened to UTF-16, the
    /// rest of the source after them.
    pub const UTF8_TO_COMPACT_UTF16: u32 = 9;
    /// `(src, units, dst, dst_units, latin1_bytes) -> units`: the same from UTF-16.
    pub const UTF16_TO_COMPACT_UTF16: u32 = 10;
    /// `(src, units, dst) -> units | tag`: UTF-16 into latin1+utf16, narrowed to latin1
    /// when every unit fits (else the length is tagged with the top bit).
    pub const UTF16_TO_COMPACT_PROBABLY_UTF16: u32 = 11;
}

/// [`CanonContext`] string encoding: UTF-8.
pub const STRING_UTF8: u32 = 0;
/// [`CanonContext`] string encoding: UTF-16.
pub const STRING_UTF16: u32 = 1;
/// [`CanonContext`] string encoding: latin1+utf16.
pub const STRING_LATIN1_UTF16: u32 = 2;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_0_2_patch_matches_and_nothing_else() {
        for interface in [
            "wasi:cli/stdout@0.2.0",
            "wasi:cli/stdout@0.2.6",
            "wasi:cli/stdout@0.2.12",
            "wasi:cli/stdout@0.2.0-rc-2023-11-10",
        ] {
            let func = find(interface, "get-stdout").unwrap();
            assert_eq!(func.symbol, "wafer_p2_cli_get_stdout");
        }
        for interface in [
            "wasi:cli/stdout",
            "wasi:cli/stdout@0.3.0",
            "wasi:cli/stdout@1.2.0",
            "wasi:cli/stdout@0.2",
            "wasi:cli/stdout@0.2.x",
            "wasi:cli/stdoutx@0.2.6",
        ] {
            assert!(find(interface, "get-stdout").is_none(), "{interface}");
        }
        assert!(find("wasi:cli/stdout@0.2.6", "get-stdin").is_none());
    }

    #[test]
    fn symbols_are_unique_and_functions_return_at_most_one_value() {
        for (i, a) in FUNCTIONS.iter().enumerate() {
            assert!(a.results.len() <= 1, "{}", a.name);
            assert!(a.symbol.starts_with(crate::symbols::WASI_P2_PREFIX));
            for b in &FUNCTIONS[i + 1..] {
                assert_ne!(a.symbol, b.symbol);
                assert!(a.interface != b.interface || a.name != b.name);
            }
        }
    }

    #[test]
    fn resources_match_by_interface_and_name() {
        assert_eq!(
            find_resource("wasi:io/streams@0.2.12", "output-stream"),
            Some(resource::OUTPUT_STREAM)
        );
        assert_eq!(find_resource("wasi:io/streams@0.2.12", "pollable"), None);
        // 0.2's and 0.3's descriptors are different resource types.
        assert_eq!(
            find_resource("wasi:filesystem/types@0.2.6", "descriptor"),
            Some(resource::DESCRIPTOR)
        );
        assert_eq!(
            find_resource("wasi:filesystem/types@0.3.0", "descriptor"),
            Some(resource::DESCRIPTOR_P3)
        );
        assert_eq!(
            find_resource("wasi:io/streams@0.3.0", "output-stream"),
            None
        );
    }

    /// `INTERFACE@0.3.0` in `buf` (the crate has no allocator without `alloc`).
    fn at_0_3<'b>(interface: &str, buf: &'b mut [u8; 64]) -> &'b str {
        let len = interface.len() + 6;
        buf[..interface.len()].copy_from_slice(interface.as_bytes());
        buf[interface.len()..len].copy_from_slice(b"@0.3.0");
        core::str::from_utf8(&buf[..len]).unwrap()
    }

    #[test]
    fn p3_functions_are_found_only_at_0_3() {
        let all = || P3_FUNCTIONS.iter().chain(P3_FILESYSTEM).chain(P3_SOCKETS);
        for (i, a) in all().enumerate() {
            assert!(a.results.len() <= 1, "{}", a.name);
            assert_eq!(find(at_0_3(a.interface, &mut [0; 64]), a.name), Some(a));
            // Symbols may be shared (`wall-clock.now` and `system-clock.now`); names not.
            for b in all().skip(i + 1) {
                assert!(a.interface != b.interface || a.name != b.name);
            }
        }
        let open_at = "[method]descriptor.open-at";
        assert_eq!(
            find("wasi:filesystem/types@0.3.0", open_at).map(|f| f.symbol),
            Some("wafer_p3_filesystem_open_at")
        );
        assert_eq!(
            find("wasi:filesystem/types@0.2.6", open_at).map(|f| f.symbol),
            Some("wafer_p2_filesystem_open_at")
        );
    }
}
