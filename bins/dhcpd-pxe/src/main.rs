//! `dhcpd-pxe`: DHCP server and proxyDHCP for network boot.

fn main() -> std::process::ExitCode {
    dhcpd_pxe::main_with_args(std::env::args_os())
}
