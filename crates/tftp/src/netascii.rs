//! Netascii translation (RFC 1350 §5, RFC 764): the local newline LF travels
//! as CR LF, and a bare CR travels as CR NUL.

use bytes::Bytes;

/// Translates a local file to netascii for sending.
///
/// The result is a new buffer (netascii is a transformation, so the zero-copy
/// path applies to octet mode only); its length is what `tsize` reports.
pub fn encode(local: &[u8]) -> Bytes {
    let extra = local
        .iter()
        .filter(|b| **b == b'\n' || **b == b'\r')
        .count();
    let mut out = Vec::with_capacity(local.len() + extra);
    for &b in local {
        match b {
            b'\n' => out.extend_from_slice(b"\r\n"),
            b'\r' => out.extend_from_slice(b"\r\0"),
            _ => out.push(b),
        }
    }
    Bytes::from(out)
}

/// Streaming netascii → local translation for received data.
///
/// A CR may end one block and its partner begin the next, so the decoder
/// keeps one byte of state between calls.
#[derive(Debug, Default, Clone)]
pub struct Decoder {
    pending_cr: bool,
}

impl Decoder {
    /// A decoder at the start of a file.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends the local form of `wire` to `out`.
    pub fn decode(&mut self, wire: &[u8], out: &mut Vec<u8>) {
        for &b in wire {
            if self.pending_cr {
                self.pending_cr = false;
                match b {
                    b'\n' => {
                        out.push(b'\n');
                        continue;
                    }
                    0 => {
                        out.push(b'\r');
                        continue;
                    }
                    // A CR followed by anything else is kept as it came.
                    _ => out.push(b'\r'),
                }
            }
            if b == b'\r' {
                self.pending_cr = true;
            } else {
                out.push(b);
            }
        }
    }

    /// Flushes a CR left at the very end of the file.
    pub fn finish(&mut self, out: &mut Vec<u8>) {
        if std::mem::take(&mut self.pending_cr) {
            out.push(b'\r');
        }
    }
}

/// Translates a whole netascii buffer to the local form.
pub fn decode(wire: &[u8]) -> Vec<u8> {
    let mut d = Decoder::new();
    let mut out = Vec::with_capacity(wire.len());
    d.decode(wire, &mut out);
    d.finish(&mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn known_forms() {
        assert_eq!(&encode(b"a\nb\rc")[..], b"a\r\nb\r\0c");
        assert_eq!(decode(b"a\r\nb\r\0c"), b"a\nb\rc");
    }

    #[test]
    fn cr_split_across_blocks() {
        let mut d = Decoder::new();
        let mut out = Vec::new();
        d.decode(b"line\r", &mut out);
        d.decode(b"\nnext\r", &mut out);
        d.decode(b"\0", &mut out);
        d.finish(&mut out);
        assert_eq!(out, b"line\nnext\r");
    }

    proptest! {
        #[test]
        fn round_trip(data in proptest::collection::vec(any::<u8>(), 0..2048), cut in 0usize..2048) {
            let wire = encode(&data);
            let cut = cut.min(wire.len());
            let mut d = Decoder::new();
            let mut out = Vec::new();
            d.decode(&wire[..cut], &mut out);
            d.decode(&wire[cut..], &mut out);
            d.finish(&mut out);
            prop_assert_eq!(out, data);
        }
    }
}
