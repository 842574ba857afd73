//! Option 43 as PXE vendor sub-options (Intel PXE 2.1 §2.4, table 2-1).
//!
//! The payload of option 43 sent to or by a `PXEClient` is itself a list of
//! `code, length, data` sub-options ended by 255:
//!
//! | code | name | payload |
//! |---|---|---|
//! | 1 | PXE_MTFTP_IP | IPv4 address |
//! | 2, 3 | PXE_MTFTP_CPORT / SPORT | u16 |
//! | 4, 5 | PXE_MTFTP_TMOUT / DELAY | u8 seconds |
//! | 6 | PXE_DISCOVERY_CONTROL | u8 bit field |
//! | 7 | DISCOVERY_MCAST_ADDR | IPv4 address |
//! | 8 | PXE_BOOT_SERVERS | (type u16, count u8, count × IPv4)* |
//! | 9 | PXE_BOOT_MENU | (type u16, len u8, description)* |
//! | 10 | PXE_MENU_PROMPT | timeout u8, prompt |
//! | 71 | PXE_BOOT_ITEM | type u16, layer u16 |
//! | 255 | end | — |
//!
//! A sub-option whose payload does not have its form is kept as [`VendorOption::Raw`],
//! so decoding never loses bytes.

use std::net::Ipv4Addr;

use crate::error::DecodeError;
use crate::wire::code::codes;

/// The description Raspberry Pi boot ROMs look for in option 43 (menu and prompt).
pub const RASPBERRY_PI_BOOT: &str = "Raspberry Pi Boot";

/// PXE discovery control (sub-option 6) bits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct DiscoveryControl(pub u8);

impl DiscoveryControl {
    /// Bit 0: do not use broadcast discovery.
    pub const NO_BROADCAST: u8 = 1;
    /// Bit 1: do not use multicast discovery.
    pub const NO_MULTICAST: u8 = 2;
    /// Bit 2: only use (and accept) servers in PXE_BOOT_SERVERS.
    pub const ONLY_LISTED: u8 = 4;
    /// Bit 3: skip discovery and download the boot file in `file` directly.
    pub const USE_BOOT_FILE: u8 = 8;

    /// "Bypass": boot the file named in the offer (value 8).
    pub fn bypass() -> Self {
        Self(Self::USE_BOOT_FILE)
    }

    /// Whether a bit (one of the constants) is set.
    pub fn has(self, bit: u8) -> bool {
        self.0 & bit != 0
    }
}

/// One boot server type and its addresses (sub-option 8).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct BootServer {
    /// Boot server type (0 = PXE bootstrap server).
    pub kind: u16,
    /// Addresses (at most 255).
    pub addrs: Vec<Ipv4Addr>,
}

/// One boot menu entry (sub-option 9).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct MenuItem {
    /// Boot server type this entry selects.
    pub kind: u16,
    /// Description shown to the user (at most 255 bytes).
    pub description: Vec<u8>,
}

/// One PXE vendor sub-option.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum VendorOption {
    /// 1: multicast TFTP address.
    MtftpIp(Ipv4Addr),
    /// 2: multicast TFTP client port.
    MtftpClientPort(u16),
    /// 3: multicast TFTP server port.
    MtftpServerPort(u16),
    /// 4: multicast TFTP listen timeout, seconds.
    MtftpTimeout(u8),
    /// 5: multicast TFTP delay, seconds.
    MtftpDelay(u8),
    /// 6: discovery control.
    DiscoveryControl(DiscoveryControl),
    /// 7: discovery multicast address.
    MulticastAddr(Ipv4Addr),
    /// 8: boot servers.
    BootServers(Vec<BootServer>),
    /// 9: boot menu.
    BootMenu(Vec<MenuItem>),
    /// 10: menu prompt: timeout (0 = boot first item at once, 255 = wait) and text.
    MenuPrompt {
        /// Seconds.
        timeout: u8,
        /// Prompt text.
        prompt: Vec<u8>,
    },
    /// 71: boot item chosen by the client (and echoed by the port-4011 server).
    BootItem {
        /// Boot server type.
        kind: u16,
        /// Layer (bit 15 = credentials request).
        layer: u16,
    },
    /// Any other sub-option, or a known one whose payload has the wrong form.
    Raw {
        /// Sub-option code.
        code: u8,
        /// Payload.
        data: Vec<u8>,
    },
}

fn ip(d: &[u8]) -> Option<Ipv4Addr> {
    <[u8; 4]>::try_from(d).ok().map(Ipv4Addr::from)
}

fn u16_at(d: &[u8], i: usize) -> Option<u16> {
    Some(u16::from_be_bytes([*d.get(i)?, *d.get(i + 1)?]))
}

impl VendorOption {
    /// The sub-option code.
    pub fn code(&self) -> u8 {
        match self {
            Self::MtftpIp(_) => 1,
            Self::MtftpClientPort(_) => 2,
            Self::MtftpServerPort(_) => 3,
            Self::MtftpTimeout(_) => 4,
            Self::MtftpDelay(_) => 5,
            Self::DiscoveryControl(_) => 6,
            Self::MulticastAddr(_) => 7,
            Self::BootServers(_) => 8,
            Self::BootMenu(_) => 9,
            Self::MenuPrompt { .. } => 10,
            Self::BootItem { .. } => 71,
            Self::Raw { code, .. } => *code,
        }
    }

    /// Types one sub-option; a payload that does not fit its code stays raw.
    pub fn from_raw(code: u8, d: &[u8]) -> Self {
        let typed = match code {
            1 => ip(d).map(Self::MtftpIp),
            2 if d.len() == 2 => u16_at(d, 0).map(Self::MtftpClientPort),
            3 if d.len() == 2 => u16_at(d, 0).map(Self::MtftpServerPort),
            4 if d.len() == 1 => Some(Self::MtftpTimeout(d[0])),
            5 if d.len() == 1 => Some(Self::MtftpDelay(d[0])),
            6 if d.len() == 1 => Some(Self::DiscoveryControl(DiscoveryControl(d[0]))),
            7 => ip(d).map(Self::MulticastAddr),
            8 => boot_servers(d).map(Self::BootServers),
            9 => menu(d).map(Self::BootMenu),
            10 if !d.is_empty() => Some(Self::MenuPrompt {
                timeout: d[0],
                prompt: d[1..].to_vec(),
            }),
            71 if d.len() == 4 => Some(Self::BootItem {
                kind: u16_at(d, 0).unwrap_or(0),
                layer: u16_at(d, 2).unwrap_or(0),
            }),
            _ => None,
        };
        typed.unwrap_or_else(|| Self::Raw {
            code,
            data: d.to_vec(),
        })
    }

    /// The payload bytes; fails when a list or text exceeds its 255-byte framing.
    pub fn payload(&self) -> Result<Vec<u8>, &'static str> {
        Ok(match self {
            Self::MtftpIp(a) | Self::MulticastAddr(a) => a.octets().to_vec(),
            Self::MtftpClientPort(p) | Self::MtftpServerPort(p) => p.to_be_bytes().to_vec(),
            Self::MtftpTimeout(v) | Self::MtftpDelay(v) => vec![*v],
            Self::DiscoveryControl(c) => vec![c.0],
            Self::BootServers(list) => {
                let mut out = Vec::new();
                for s in list {
                    let n = u8::try_from(s.addrs.len()).map_err(|_| "more than 255 servers")?;
                    out.extend_from_slice(&s.kind.to_be_bytes());
                    out.push(n);
                    s.addrs
                        .iter()
                        .for_each(|a| out.extend_from_slice(&a.octets()));
                }
                out
            }
            Self::BootMenu(items) => {
                let mut out = Vec::new();
                for i in items {
                    let n = u8::try_from(i.description.len()).map_err(|_| "menu text over 255")?;
                    out.extend_from_slice(&i.kind.to_be_bytes());
                    out.push(n);
                    out.extend_from_slice(&i.description);
                }
                out
            }
            Self::MenuPrompt { timeout, prompt } => {
                let mut out = vec![*timeout];
                out.extend_from_slice(prompt);
                out
            }
            Self::BootItem { kind, layer } => {
                let mut out = kind.to_be_bytes().to_vec();
                out.extend_from_slice(&layer.to_be_bytes());
                out
            }
            Self::Raw { data, .. } => data.clone(),
        })
    }
}

fn boot_servers(d: &[u8]) -> Option<Vec<BootServer>> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < d.len() {
        let kind = u16_at(d, i)?;
        let n = usize::from(*d.get(i + 2)?);
        let addrs = d.get(i + 3..i + 3 + 4 * n)?;
        out.push(BootServer {
            kind,
            addrs: addrs.chunks_exact(4).filter_map(ip).collect(),
        });
        i += 3 + 4 * n;
    }
    Some(out)
}

fn menu(d: &[u8]) -> Option<Vec<MenuItem>> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < d.len() {
        let kind = u16_at(d, i)?;
        let n = usize::from(*d.get(i + 2)?);
        let description = d.get(i + 3..i + 3 + n)?.to_vec();
        out.push(MenuItem { kind, description });
        i += 3 + n;
    }
    Some(out)
}

/// The decoded payload of option 43 for PXE.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct VendorOptions(pub Vec<VendorOption>);

impl VendorOptions {
    /// Parses sub-options up to 255 (or the end of the payload; pads are skipped).
    pub fn decode(data: &[u8]) -> Result<Self, DecodeError> {
        let mut out = Vec::new();
        let mut i = 0;
        while let Some(&code) = data.get(i) {
            match code {
                0 => i += 1,
                255 => break,
                _ => {
                    let len = usize::from(*data.get(i + 1).ok_or(overrun())?);
                    let body = data.get(i + 2..i + 2 + len).ok_or(overrun())?;
                    out.push(VendorOption::from_raw(code, body));
                    i += 2 + len;
                }
            }
        }
        Ok(Self(out))
    }

    /// Writes the sub-options followed by 255.
    pub fn encode(&self) -> Result<Vec<u8>, crate::Error> {
        let mut out = Vec::new();
        for o in &self.0 {
            let p = o.payload().map_err(|reason| crate::Error::Unencodable {
                code: codes::VENDOR_SPECIFIC,
                reason,
            })?;
            let n = u8::try_from(p.len()).map_err(|_| crate::Error::Unencodable {
                code: codes::VENDOR_SPECIFIC,
                reason: "sub-option longer than 255 bytes",
            })?;
            out.push(o.code());
            out.push(n);
            out.extend_from_slice(&p);
        }
        out.push(255);
        Ok(out)
    }

    /// The first sub-option with `code`.
    pub fn get(&self, code: u8) -> Option<&VendorOption> {
        self.0.iter().find(|o| o.code() == code)
    }

    /// The boot item (71), if present.
    pub fn boot_item(&self) -> Option<(u16, u16)> {
        self.0.iter().find_map(|o| match o {
            VendorOption::BootItem { kind, layer } => Some((*kind, *layer)),
            _ => None,
        })
    }

    /// `{6: 8}`: skip boot server discovery and boot the `file` of the offer.
    pub fn bypass() -> Self {
        Self(vec![VendorOption::DiscoveryControl(
            DiscoveryControl::bypass(),
        )])
    }

    /// The form Raspberry Pi boot ROMs require: 43.9 and 43.10 carrying "Raspberry Pi Boot".
    pub fn raspberry_pi() -> Self {
        Self(vec![
            VendorOption::BootMenu(vec![MenuItem {
                kind: 0,
                description: RASPBERRY_PI_BOOT.as_bytes().to_vec(),
            }]),
            VendorOption::MenuPrompt {
                timeout: 0,
                prompt: RASPBERRY_PI_BOOT.as_bytes().to_vec(),
            },
        ])
    }

    /// Whether the menu (9) or prompt (10) carries "Raspberry Pi Boot".
    pub fn is_raspberry_pi(&self) -> bool {
        let has = |b: &[u8]| {
            b.windows(RASPBERRY_PI_BOOT.len())
                .any(|w| w == RASPBERRY_PI_BOOT.as_bytes())
        };
        self.0.iter().any(|o| match o {
            VendorOption::BootMenu(items) => items.iter().any(|i| has(&i.description)),
            VendorOption::MenuPrompt { prompt, .. } => has(prompt),
            _ => false,
        })
    }
}

fn overrun() -> DecodeError {
    DecodeError::Payload {
        code: codes::VENDOR_SPECIFIC,
        reason: "sub-option runs past the end of option 43",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bypass_bytes() {
        assert_eq!(VendorOptions::bypass().encode().unwrap(), [6, 1, 8, 255]);
    }

    #[test]
    fn raspberry_pi_framing() {
        let b = VendorOptions::raspberry_pi().encode().unwrap();
        assert_eq!(&b[..5], &[9, 20, 0, 0, 17]);
        assert_eq!(&b[5..22], RASPBERRY_PI_BOOT.as_bytes());
        assert_eq!(&b[22..25], &[10, 18, 0]);
        assert_eq!(*b.last().unwrap(), 255);
        let back = VendorOptions::decode(&b).unwrap();
        assert!(back.is_raspberry_pi());
        assert!(!VendorOptions::bypass().is_raspberry_pi());
    }

    #[test]
    fn boot_servers_menu_item_decode() {
        let b = [
            8, 7, 0, 0, 1, 192, 0, 2, 1, 9, 6, 0x80, 0, 3, b'a', b'b', b'c', 71, 4, 0x80, 0, 0, 0,
            255,
        ];
        let v = VendorOptions::decode(&b).unwrap();
        assert_eq!(
            v.get(8),
            Some(&VendorOption::BootServers(vec![BootServer {
                kind: 0,
                addrs: vec![Ipv4Addr::new(192, 0, 2, 1)]
            }]))
        );
        assert_eq!(v.boot_item(), Some((0x8000, 0)));
        assert_eq!(v.encode().unwrap(), b);
    }

    #[test]
    fn bad_forms_stay_raw_and_overrun_fails() {
        let v = VendorOptions::decode(&[6, 2, 1, 2, 255]).unwrap();
        assert_eq!(
            v.0,
            [VendorOption::Raw {
                code: 6,
                data: vec![1, 2]
            }]
        );
        assert!(VendorOptions::decode(&[6, 5, 1]).is_err());
        assert!(DiscoveryControl(9).has(DiscoveryControl::USE_BOOT_FILE));
    }
}
