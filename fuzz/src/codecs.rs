//! The TCP, UDP and serial decoders on arbitrary bytes in arbitrary chunks.
//!
//! Input: `mode`, `n`, `n` chunk-size bytes, then the stream. `mode % 4`
//! picks TCP, UDP, serial or all three; higher bits pick options (limits,
//! lenient checksums, device-id filter).
//!
//! Properties: no panic; feeding the stream in chunks yields the same
//! packets (and the same kind of error) as feeding it whole; every decoded
//! packet re-encodes to the bytes it came from (strict modes) or at least
//! decodes back to itself; announced lengths beyond the limit never grow the
//! buffer.

use crate::util::{Input, chunk_cuts};
use bytes::BytesMut;
use tokio_util::codec::{Decoder, Encoder};
use zkproto::terminal::codec::{CodecError, SerialCodec, TcpCodec, UdpCodec};
use zkproto::terminal::frame::{
    DEFAULT_MAX_PACKET, SerialFraming, TCP_HEADER_LEN, TagCheck, TcpFraming, decode_udp,
    encode_serial, tcp_frame,
};
use zkproto::terminal::{ChecksumMode, Packet, WireError};

/// Runs the codec check on one fuzz input.
pub fn check(data: &[u8]) {
    let mut input = Input::new(data);
    let mode = input.u8();
    let device = input.u8();
    let n = usize::from(input.u8() % 16);
    let sizes = input.take(n);
    let stream = input.rest();
    let cuts = chunk_cuts(stream.len(), sizes);
    match mode % 4 {
        0 => tcp(mode, stream, &cuts),
        1 => udp(mode, stream, &cuts),
        2 => serial(mode, device, stream, &cuts),
        _ => {
            tcp(mode, stream, &cuts);
            udp(mode, stream, &cuts);
            serial(mode, device, stream, &cuts);
        }
    }
}

fn checksum_mode(bit: bool) -> ChecksumMode {
    if bit {
        ChecksumMode::Lenient
    } else {
        ChecksumMode::Strict
    }
}

/// Decoded packets with the stream range each came from, and how decoding
/// stopped.
#[derive(Debug, PartialEq)]
struct Outcome {
    packets: Vec<Packet>,
    spans: Vec<(usize, usize)>,
    error: Option<String>,
    leftover: usize,
}

fn error_kind(e: &CodecError) -> String {
    match e {
        // BadMagic shows the bytes seen so far, which depend on the chunking.
        CodecError::Frame(WireError::BadMagic { .. }) => "BadMagic".to_string(),
        other => format!("{other:?}"),
    }
}

/// Feeds `stream` in the pieces between `cuts`, decoding after each piece
/// until the decoder wants more or fails. `max_frame` bounds the capacity
/// the decoder may reserve beyond what it was given.
fn run<D>(mut codec: D, stream: &[u8], cuts: &[usize], max_frame: usize) -> Outcome
where
    D: Decoder<Item = Packet, Error = CodecError>,
{
    let mut buf = BytesMut::new();
    let mut out = Outcome {
        packets: Vec::new(),
        spans: Vec::new(),
        error: None,
        leftover: 0,
    };
    let mut fed;
    for w in cuts.windows(2) {
        let (a, b) = (w[0], w[1]);
        buf.extend_from_slice(&stream[a..b]);
        fed = b;
        loop {
            let before = buf.len();
            match codec.decode(&mut buf) {
                Ok(Some(p)) => {
                    let start = fed - before;
                    out.spans.push((start, start + (before - buf.len())));
                    out.packets.push(p);
                }
                Ok(None) => {
                    let bound = 2 * (buf.len() + max_frame) + 64;
                    assert!(
                        buf.capacity() <= bound.max(2 * b + 64),
                        "decoder reserved {} bytes with {} buffered (limit {max_frame})",
                        buf.capacity(),
                        buf.len()
                    );
                    break;
                }
                Err(e) => {
                    out.error = Some(error_kind(&e));
                    out.leftover = buf.len();
                    return out;
                }
            }
        }
    }
    out.leftover = buf.len();
    out
}

fn tcp(mode: u8, stream: &[u8], cuts: &[usize]) {
    let max_packet = if mode & 0x10 != 0 {
        256
    } else {
        DEFAULT_MAX_PACKET
    };
    let tag_check = if mode & 0x20 != 0 {
        TagCheck::CommandOnly
    } else {
        TagCheck::Full
    };
    let checksum = checksum_mode(mode & 0x40 != 0);
    let codec = TcpCodec {
        framing: TcpFraming {
            max_packet,
            tag_check,
        },
        checksum,
    };
    let bound = max_packet + TCP_HEADER_LEN;
    let whole = run(codec, stream, &[0, stream.len()], bound);
    let chunked = run(codec, stream, cuts, bound);
    assert_eq!(
        chunked.packets, whole.packets,
        "TCP: chunked stream decoded differently"
    );
    assert_eq!(
        chunked.spans, whole.spans,
        "TCP: frame boundaries depend on chunking"
    );
    assert_eq!(
        chunked.error, whole.error,
        "TCP: chunked stream failed differently"
    );
    if whole.error.is_none() {
        assert_eq!(chunked.leftover, whole.leftover, "TCP: different leftover");
    }
    // The pure framing agrees with the codec.
    let framing = TcpFraming {
        max_packet,
        tag_check,
    };
    for (p, &(a, b)) in whole.packets.iter().zip(&whole.spans) {
        let frame = &stream[a..b];
        match framing.decode(frame, checksum) {
            Ok(Some((q, used))) => {
                assert_eq!(&q, p, "TCP: framing and codec disagree");
                assert_eq!(used, frame.len(), "TCP: framing used another length");
            }
            other => panic!("TCP: framing refused a frame the codec accepted: {other:?}"),
        }
        let again = tcp_frame(p);
        if checksum == ChecksumMode::Strict && tag_check == TagCheck::Full {
            assert_eq!(
                &again[..],
                frame,
                "TCP: decoded frame does not re-encode to its bytes"
            );
        }
        match TcpFraming::default().decode(&again, ChecksumMode::Strict) {
            Ok(Some((q, used))) => {
                assert_eq!(&q, p, "TCP: re-encoded packet decodes differently");
                assert_eq!(used, again.len());
            }
            other => panic!("TCP: re-encoded packet does not decode: {other:?}"),
        }
    }
}

fn udp(mode: u8, stream: &[u8], cuts: &[usize]) {
    let checksum = checksum_mode(mode & 0x40 != 0);
    let mut codec = UdpCodec {
        checksum,
        ..UdpCodec::default()
    };
    for w in cuts.windows(2) {
        let datagram = &stream[w[0]..w[1]];
        let mut buf = BytesMut::from(datagram);
        let got = codec.decode(&mut buf);
        assert!(buf.is_empty(), "UDP: a datagram was not consumed whole");
        let pure = decode_udp(datagram, checksum);
        match got {
            Ok(Some(p)) => {
                assert_eq!(
                    pure.as_ref(),
                    Ok(&p),
                    "UDP: decode_udp and the codec disagree"
                );
                assert_eq!(Packet::decode(datagram, checksum).as_ref(), Ok(&p));
                if checksum == ChecksumMode::Strict {
                    assert_eq!(
                        &p.to_bytes()[..],
                        datagram,
                        "UDP: datagram does not re-encode to its bytes"
                    );
                }
                let mut out = BytesMut::new();
                match codec.encode(&p, &mut out) {
                    Ok(()) => match UdpCodec::default().decode(&mut out) {
                        Ok(Some(q)) => {
                            assert_eq!(q, p, "UDP: re-encoded packet decodes differently")
                        }
                        other => panic!("UDP: re-encoded packet does not decode: {other:?}"),
                    },
                    Err(e) => assert!(
                        p.encoded_len() > codec.max_encode,
                        "UDP: encode refused a small packet: {e}"
                    ),
                }
            }
            Ok(None) => assert!(
                datagram.is_empty(),
                "UDP: a non-empty datagram produced nothing"
            ),
            Err(CodecError::Frame(e)) => assert_eq!(
                pure,
                Err(e),
                "UDP: decode_udp and the codec fail differently"
            ),
            Err(e) => panic!("UDP: unexpected error kind {e:?}"),
        }
    }
}

fn serial(mode: u8, device: u8, stream: &[u8], cuts: &[usize]) {
    let filter = (mode & 0x10 != 0).then_some(device);
    let codec = SerialCodec {
        framing: SerialFraming {
            device_id: filter,
            checksum: checksum_mode(mode & 0x80 != 0),
            ..SerialFraming::default()
        },
        checksum: checksum_mode(mode & 0x40 != 0),
        device_id: device,
    };
    let bound = codec.framing.max_packet + 8;
    let whole = run(codec, stream, &[0, stream.len()], bound);
    let chunked = run(codec, stream, cuts, bound);
    // Spans are not compared: resynchronisation drops noise bytes in
    // whichever call sees them, so a packet's span may or may not include them.
    assert_eq!(
        chunked.packets, whole.packets,
        "serial: chunked stream decoded differently"
    );
    assert_eq!(
        chunked.error, whole.error,
        "serial: chunked stream failed differently"
    );
    if whole.error.is_none() {
        assert_eq!(
            chunked.leftover, whole.leftover,
            "serial: different leftover"
        );
    }
    for p in &whole.packets {
        let mut out = BytesMut::new();
        if let Err(e) = encode_serial(device, p, &mut out) {
            panic!("serial: a decoded packet cannot be re-encoded: {e}");
        }
        let mut strict = SerialCodec::for_device(device);
        match strict.decode(&mut out) {
            Ok(Some(q)) => assert_eq!(&q, p, "serial: re-encoded packet decodes differently"),
            other => panic!("serial: re-encoded packet does not decode: {other:?}"),
        }
        assert!(
            out.is_empty(),
            "serial: re-encoded frame not consumed whole"
        );
    }
}
