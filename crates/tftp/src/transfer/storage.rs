//! Where a receiving transfer puts its bytes: an upload sink, or memory for a client get.

use crate::netascii;
use crate::source::WriteSink;

#[derive(Debug)]
pub(super) enum Storage {
    Sink(Option<Box<dyn WriteSink>>),
    Memory(Vec<u8>),
}

pub(super) fn write(
    storage: &mut Storage,
    decoder: &mut Option<netascii::Decoder>,
    data: &[u8],
) -> std::io::Result<()> {
    let mut local = Vec::new();
    let bytes = match decoder {
        Some(d) => {
            d.decode(data, &mut local);
            &local[..]
        }
        None => data,
    };
    match storage {
        Storage::Memory(v) => {
            v.extend_from_slice(bytes);
            Ok(())
        }
        Storage::Sink(Some(s)) => s.write(bytes),
        Storage::Sink(None) => Ok(()),
    }
}

/// Writes what the netascii decoder still holds (a trailing `\r`).
fn flush_decoder(
    storage: &mut Storage,
    decoder: &mut Option<netascii::Decoder>,
) -> std::io::Result<()> {
    if let Some(d) = decoder {
        let mut tail = Vec::new();
        d.finish(&mut tail);
        write(storage, &mut None, &tail)?;
    }
    Ok(())
}

/// The last block is written: finishes the sink here (flush, fsync, rename).
pub(super) fn finish(
    storage: &mut Storage,
    decoder: &mut Option<netascii::Decoder>,
) -> std::io::Result<()> {
    flush_decoder(storage, decoder)?;
    match storage {
        Storage::Sink(s) => s.take().map_or(Ok(()), |s| s.finish()),
        Storage::Memory(_) => Ok(()),
    }
}

/// The last block is written: hands the sink out so the driver can finish
/// it on another thread (`None` for memory).
pub(super) fn hand_off(
    storage: &mut Storage,
    decoder: &mut Option<netascii::Decoder>,
) -> std::io::Result<Option<Box<dyn WriteSink>>> {
    flush_decoder(storage, decoder)?;
    Ok(match storage {
        Storage::Sink(s) => s.take(),
        Storage::Memory(_) => None,
    })
}
