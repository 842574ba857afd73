//! Block numbering: a transfer counts blocks from 1 without limit, the wire
//! carries that count modulo 2^16 (wrapping to 0, the de-facto default) or
//! wrapping to 1 when the `rollover 1` option asked for it.
//!
//! Index 0 stands for the OACK / ACK 0 handshake before the first block.

use crate::options::Rollover;

/// The wire number of block `index`.
pub(crate) fn wire(index: u64, rollover: Rollover) -> u16 {
    match rollover {
        Rollover::ToZero => (index % 65536) as u16,
        Rollover::ToOne if index == 0 => 0,
        Rollover::ToOne => (((index - 1) % 65535) + 1) as u16,
    }
}

/// The first index at or after `from` whose wire number is `block`,
/// if it is within `span` blocks of `from`.
pub(crate) fn index_at_or_after(
    from: u64,
    block: u16,
    span: u64,
    rollover: Rollover,
) -> Option<u64> {
    let period: u64 = match rollover {
        Rollover::ToZero => 65536,
        Rollover::ToOne => 65535,
    };
    if rollover == Rollover::ToOne && block == 0 {
        return (from == 0).then_some(0);
    }
    let start = wire(from, rollover);
    let offset = match rollover {
        Rollover::ToZero => u64::from(block.wrapping_sub(start)),
        Rollover::ToOne if from == 0 => u64::from(block),
        Rollover::ToOne => (u64::from(block) + period - u64::from(start)) % period,
    };
    (offset <= span).then_some(from + offset)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wraps() {
        assert_eq!(wire(65535, Rollover::ToZero), 65535);
        assert_eq!(wire(65536, Rollover::ToZero), 0);
        assert_eq!(wire(65537, Rollover::ToZero), 1);
        assert_eq!(wire(65535, Rollover::ToOne), 65535);
        assert_eq!(wire(65536, Rollover::ToOne), 1);
        assert_eq!(wire(0, Rollover::ToOne), 0);
    }

    #[test]
    fn finds_indices_across_the_wrap() {
        for r in [Rollover::ToZero, Rollover::ToOne] {
            for from in [0u64, 1, 65530, 65535, 65536, 131_070, 200_000] {
                for step in 0..40u64 {
                    let k = from + step;
                    assert_eq!(
                        index_at_or_after(from, wire(k, r), 40, r),
                        Some(k),
                        "{r:?} {from} {step}"
                    );
                }
            }
        }
        assert_eq!(index_at_or_after(10, 5, 100, Rollover::ToZero), None);
    }
}
