//! `tftpd`: a drop-in replacement for tftp-hpa's `in.tftpd`.

fn main() -> std::process::ExitCode {
    tftpd::main_with_args(std::env::args_os())
}
