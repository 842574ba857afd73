//! `--map-test`: print what the `-m` rules make of file names, serve nothing.
//!
//! Two inputs. tftp-hpa 6.0's `--map-test FILE`: one name per line, the
//! request a read unless `-c` is given, the client `192.0.2.34` (with `-6`:
//! `2001:db8::feed:face:dead:beef`), each result printed as the rewritten
//! name or `ERROR: MESSAGE`. And `--map-test` alone: `[G|P] [ADDRESS] NAME`
//! lines on stdin, so one run can test reads, writes and clients at once,
//! each result printed as the name or `refused: MESSAGE`.

use std::io::BufRead;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use tftp::Direction;

use crate::cli::{Family, MapTest};
use crate::{exit, load_rules, Config};

/// tftp-hpa 6.0's simulated IPv4 client (RFC 5737 documentation range).
const TEST_CLIENT_V4: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 34);
/// tftp-hpa 6.0's simulated IPv6 client (RFC 3849 documentation range).
const TEST_CLIENT_V6: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0xfeed, 0xface, 0xdead, 0xbeef);

/// Runs the test for `config` (whose `map_test` is set); returns the exit status.
pub fn run(config: &Config) -> u8 {
    let rules = match load_rules(config) {
        Ok(Some(rules)) => rules,
        Ok(None) => {
            eprintln!("tftpd: --map-test needs -m FILE");
            return exit::USAGE;
        }
        Err(failure) => {
            eprintln!("tftpd: {:#}", failure.error);
            return failure.code;
        }
    };
    match &config.map_test {
        Some(MapTest::File(path)) => {
            let file = match std::fs::File::open(path) {
                Ok(file) => file,
                Err(err) => {
                    eprintln!(
                        "tftpd: {}: cannot open map test file: {err}",
                        path.display()
                    );
                    return exit::NOINPUT;
                }
            };
            let client = match config.family {
                Family::V6 => IpAddr::V6(TEST_CLIENT_V6),
                _ => IpAddr::V4(TEST_CLIENT_V4),
            };
            let direction = match config.create {
                true => Direction::Write,
                false => Direction::Read,
            };
            for line in std::io::BufReader::new(file).split(b'\n') {
                let Ok(name) = line else { break };
                match rules.apply(&name, client, direction) {
                    Ok(mapped) => println!("{}", String::from_utf8_lossy(&mapped)),
                    Err(refused) => println!("ERROR: {}", refused.message),
                }
            }
        }
        _ => {
            for line in std::io::stdin().lock().lines() {
                let Ok(line) = line else { break };
                if let Some((direction, client, name)) = request_line(&line) {
                    match rules.apply(name.as_bytes(), client, direction) {
                        Ok(mapped) => println!("{}", String::from_utf8_lossy(&mapped)),
                        Err(refused) => println!("refused: {}", refused.message),
                    }
                }
            }
        }
    }
    exit::OK
}

/// `[G|P] [ADDRESS] NAME` (the name may hold spaces); `None` for a blank line.
fn request_line(line: &str) -> Option<(Direction, IpAddr, String)> {
    let mut words = line.split_whitespace().peekable();
    let mut direction = Direction::Read;
    if let Some(&w) = words.peek() {
        if w == "G" || w == "P" {
            if w == "P" {
                direction = Direction::Write;
            }
            words.next();
        }
    }
    let mut client = IpAddr::V4(Ipv4Addr::LOCALHOST);
    if let Some(ip) = words.peek().and_then(|w| w.parse::<IpAddr>().ok()) {
        client = ip;
        words.next();
    }
    let name: Vec<&str> = words.collect();
    (!name.is_empty()).then(|| (direction, client, name.join(" ")))
}
